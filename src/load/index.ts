// Manifest entry point: picks the CSV, YAML or xlsx reader, caps the file size before reading, warns about readable AuthKeys.
import { stat } from 'node:fs/promises';
import { readRegularFile } from '../fsutil.js';
import { extname, isAbsolute, relative, resolve, sep } from 'node:path';
import { printable } from '../text.js';
import { ManifestError } from '../errors.js';
import type { Manifest, ManifestFormat } from '../types.js';
import { readCsv } from './csv.js';
import { DEFAULT_MAX_BYTES, type LoadOptions } from './options.js';
import { joinProfiles } from './profiles.js';
import { readProfilesYaml, readYaml } from './yaml.js';

export type { LoadOptions } from './options.js';

/**
 * Reads a manifest file. Format by extension (.csv .tsv .txt / .yaml .yml / .xlsx), else sniffed from the content.
 * Errors, issues and rows name the file as `shownPath` does; the returned Manifest.file is `path` as given.
 */
export async function loadManifest(path: string, opts: LoadOptions): Promise<Manifest> {
  const maxBytes = opts.maxBytes ?? DEFAULT_MAX_BYTES;
  const shown = shownPath(path, opts.cwd);
  let mode: number;
  let bytes: Buffer;
  try {
    const st = await stat(path);
    if (st.isDirectory()) throw new ManifestError(shown, undefined, 'is a directory, not a manifest file');
    // A FIFO, device or socket would block the read (or never end): refused from stat, which does not open it.
    if (!st.isFile()) throw new ManifestError(shown, undefined, 'is not a regular file (a FIFO, device or socket); give the path of the manifest file itself');
    if (st.size > maxBytes) throw new ManifestError(shown, undefined, `the file is ${st.size} bytes, over the ${maxBytes}-byte limit`);
    mode = st.mode;
    // Opened without blocking and checked again on the open file: a swap after the stat cannot make it hang.
    const read = await readRegularFile(path, 'the manifest', maxBytes, {
      followSymlinks: true,
      makeError: (m) => new ManifestError(shown, undefined, m.replace(`the manifest ${path} `, '')),
    });
    if (!read) throw new ManifestError(shown, undefined, 'cannot read the file (no such file)');
    bytes = read;
  } catch (e) {
    if (e instanceof ManifestError) throw e;
    throw new ManifestError(shown, undefined, `cannot read the file (${describeFsError(e)})`);
  }
  const format = formatOf(shown, bytes);
  const { manifest, literalAuthKeys } = format === 'csv' ? readCsv(bytes, shown, opts) : format === 'yaml' ? readYaml(bytes, shown, opts) : await readWorkbook(bytes, shown, opts);
  // Only a file that holds keys needs tight permissions; env: references are not secrets.
  if (literalAuthKeys && process.platform !== 'win32' && (mode & 0o044) !== 0) {
    manifest.issues.push({
      severity: 'warning',
      code: 'Cgw.ManifestReadable',
      field: 'auth_key',
      message: `the manifest holds AuthKeys and is readable by other users; chmod 600 ${shown} or use auth_key: env:NAME`,
      file: shown,
      line: 0,
    });
  }
  if (opts.profilesFile !== undefined) {
    const profiles = joinProfiles(shown, manifest.profiles, await loadProfiles(opts.profilesFile, opts, maxBytes));
    if (profiles !== undefined) manifest.profiles = profiles;
  }
  // The journal keys on the path as given; what people read (rows, issues, errors) uses the shown one.
  manifest.file = path;
  return manifest;
}

/** `--profiles FILE`: read like a manifest (a regular file under the size cap), parsed as a YAML `profiles:` map. */
async function loadProfiles(path: string, opts: LoadOptions, maxBytes: number) {
  const shown = shownPath(path, opts.cwd);
  let bytes: Buffer | undefined;
  try {
    bytes = await readRegularFile(path, 'the profiles file', maxBytes, {
      followSymlinks: true,
      makeError: (m) => new ManifestError(shown, undefined, m.replace(`the profiles file ${path} `, '')),
    });
  } catch (e) {
    if (e instanceof ManifestError) throw e;
    throw new ManifestError(shown, undefined, `cannot read the profiles file (${describeFsError(e)})`);
  }
  if (!bytes) throw new ManifestError(shown, undefined, 'cannot read the profiles file (no such file)');
  return readProfilesYaml(bytes, shown, opts);
}

/**
 * How messages name the manifest: relative to `cwd` when the file is inside it (`branches.csv`, `sites/a.xlsx`),
 * else as given; control characters escaped.
 */
export function shownPath(path: string, cwd: string | undefined): string {
  if (cwd === undefined) return printable(path);
  const rel = relative(resolve(cwd), resolve(cwd, path));
  const inside = rel !== '' && rel !== '..' && !rel.startsWith(`..${sep}`) && !isAbsolute(rel);
  return printable(inside ? rel : path);
}

/** Pure CSV reader (no fs): bytes of a CSV/TSV file -> Manifest. */
export function parseCsv(bytes: Buffer, file: string, opts: LoadOptions): Manifest {
  return readCsv(bytes, file, opts).manifest;
}

/** Pure YAML reader (no fs): bytes of a YAML file -> Manifest. */
export function parseYaml(bytes: Buffer, file: string, opts: LoadOptions): Manifest {
  return readYaml(bytes, file, opts).manifest;
}

/** Pure xlsx reader (no fs): bytes of an .xlsx workbook -> Manifest. */
export async function parseXlsx(bytes: Buffer, file: string, opts: LoadOptions): Promise<Manifest> {
  return (await readWorkbook(bytes, file, opts)).manifest;
}

// exceljs takes about 200 ms to import: only runs that read a workbook pay for it.
async function readWorkbook(bytes: Buffer, file: string, opts: LoadOptions) {
  const { readXlsx } = await import('./xlsx.js');
  return readXlsx(bytes, file, opts);
}

// Spreadsheet formats we cannot read; each is refused by name rather than parsed as text.
const OTHER_SPREADSHEETS: Record<string, string> = {
  '.xls': 'an Excel 97-2003 workbook (.xls)',
  '.xlsb': 'a binary workbook (.xlsb)',
  '.ods': 'an OpenDocument spreadsheet (.ods)',
  '.numbers': 'a Numbers spreadsheet',
};

export function formatOf(path: string, bytes: Buffer): ManifestFormat {
  const ext = extname(path).toLowerCase();
  if (ext === '.csv' || ext === '.tsv' || ext === '.txt') return 'csv';
  if (ext === '.yaml' || ext === '.yml') return 'yaml';
  // .xlsm is the same package with macros, which are never run: its cells read like an .xlsx's.
  if (ext === '.xlsx' || ext === '.xlsm') return 'xlsx';
  const other = OTHER_SPREADSHEETS[ext];
  if (other !== undefined) {
    throw new ManifestError(path, undefined, `is ${other}, which cgw-batch does not read; save it as "Excel Workbook (.xlsx)" or as "CSV UTF-8"`);
  }
  return sniff(bytes);
}

/** Unknown extension: xlsx for a ZIP, YAML if the first meaningful line looks like YAML (`key:`, `- `, `---`), else CSV. */
function sniff(bytes: Buffer): ManifestFormat {
  if (bytes.length >= 4 && bytes.readUInt32BE(0) === 0x504b0304) return 'xlsx';
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
