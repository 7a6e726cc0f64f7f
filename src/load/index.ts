// Manifest entry point: picks the CSV or YAML reader, caps the file size before reading, warns about readable AuthKeys.
import { readFile, stat } from 'node:fs/promises';
import { extname } from 'node:path';
import { ManifestError } from '../errors.js';
import type { Manifest } from '../types.js';
import { readCsv } from './csv.js';
import { DEFAULT_MAX_BYTES, type LoadOptions } from './options.js';
import { readYaml } from './yaml.js';

export type { LoadOptions } from './options.js';

/** Reads a manifest file. Format by extension (.csv .tsv .txt / .yaml .yml), else sniffed from the content. */
export async function loadManifest(path: string, opts: LoadOptions): Promise<Manifest> {
  const maxBytes = opts.maxBytes ?? DEFAULT_MAX_BYTES;
  let mode: number;
  let bytes: Buffer;
  try {
    const st = await stat(path);
    if (st.isDirectory()) throw new ManifestError(path, undefined, 'is a directory, not a manifest file');
    if (st.size > maxBytes) throw new ManifestError(path, undefined, `the file is ${st.size} bytes, over the ${maxBytes}-byte limit`);
    mode = st.mode;
    bytes = await readFile(path);
  } catch (e) {
    if (e instanceof ManifestError) throw e;
    throw new ManifestError(path, undefined, `cannot read the file (${describeFsError(e)})`);
  }
  const format = formatOf(path, bytes);
  const { manifest, literalAuthKeys } = format === 'csv' ? readCsv(bytes, path, opts) : readYaml(bytes, path, opts);
  // Only a file that holds keys needs tight permissions; env: references are not secrets.
  if (literalAuthKeys && process.platform !== 'win32' && (mode & 0o044) !== 0) {
    manifest.issues.push({
      severity: 'warning',
      code: 'Cgw.ManifestReadable',
      field: 'auth_key',
      message: `the manifest holds AuthKeys and is readable by other users; chmod 600 ${path} or use auth_key: env:NAME`,
      file: path,
      line: 0,
    });
  }
  return manifest;
}

/** Pure CSV reader (no fs): bytes of a CSV/TSV file -> Manifest. */
export function parseCsv(bytes: Buffer, file: string, opts: LoadOptions): Manifest {
  return readCsv(bytes, file, opts).manifest;
}

/** Pure YAML reader (no fs): bytes of a YAML file -> Manifest. */
export function parseYaml(bytes: Buffer, file: string, opts: LoadOptions): Manifest {
  return readYaml(bytes, file, opts).manifest;
}

export function formatOf(path: string, bytes: Buffer): 'csv' | 'yaml' {
  const ext = extname(path).toLowerCase();
  if (ext === '.csv' || ext === '.tsv' || ext === '.txt') return 'csv';
  if (ext === '.yaml' || ext === '.yml') return 'yaml';
  return sniff(bytes);
}

/** Unknown extension: YAML if the first meaningful line looks like YAML (`key:`, `- `, `---`), else CSV. */
function sniff(bytes: Buffer): 'csv' | 'yaml' {
  if (bytes[0] === 0xff || bytes[0] === 0xfe) return 'csv'; // UTF-16: Excel "Unicode Text"
  const head = bytes.subarray(0, 4096).toString('utf8').replace(/^\uFEFF/, '');
  for (const raw of head.split(/\r\n|\n|\r/)) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    return /^(---|- |-$|[A-Za-z_][\w-]*:(\s|$))/.test(line) ? 'yaml' : 'csv';
  }
  return 'csv';
}

function describeFsError(e: unknown): string {
  const code = (e as { code?: unknown } | null)?.code;
  if (code === 'ENOENT') return 'no such file';
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied';
  if (code === 'EISDIR') return 'is a directory';
  return typeof code === 'string' ? code : 'unknown error';
}
