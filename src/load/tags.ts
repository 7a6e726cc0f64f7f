// Tags from a `k=v;k2=v2` cell and defaults+row merging. Values stay raw; the validator judges keys and values.
import type { Issue, Tag } from '../types.js';

/**
 * Splits a tags cell on `;`, each piece at its first `=`. Empty pieces (a trailing `;`) are ignored.
 * A piece without `=` becomes a row issue; the piece's position is named, not its text, to keep messages short.
 */
export function parseTagCell(cell: string, into: Tag[], issues: Issue[], file: string, line: number): void {
  if (cell === '') return;
  const pieces = cell.split(';');
  for (let i = 0; i < pieces.length; i++) {
    const piece = pieces[i]!.trim();
    if (piece === '') continue;
    const eq = piece.indexOf('=');
    if (eq < 0) {
      issues.push({
        severity: 'error',
        code: 'InvalidParameter.TagKey',
        field: 'tags',
        message: `tag ${i + 1} in the tags cell has no '=': write tags as key=value;key2=value2`,
        file,
        line,
      });
      continue;
    }
    into.push({ key: piece.slice(0, eq).trim(), value: piece.slice(eq + 1).trim() });
  }
}

/** Defaults first, then the row; a row tag replaces a default tag with the same key (in the default's position). */
export function mergeTags(defaults: readonly Tag[], row: readonly Tag[]): Tag[] {
  if (defaults.length === 0) return [...row];
  const out = defaults.map((t) => ({ ...t }));
  for (const t of row) {
    const hit = out.findIndex((d, i) => d.key === t.key && i < defaults.length);
    if (hit >= 0) out[hit] = { ...t };
    else out.push({ ...t });
  }
  return out;
}

/** The tags of a row as one echo cell (`k=v;k2=v2`), for YAML manifests whose reports need a tags column. */
export function formatTags(tags: readonly Tag[]): string {
  return tags.map((t) => `${t.key}=${t.value}`).join(';');
}
