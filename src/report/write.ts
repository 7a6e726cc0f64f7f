// Writes report files atomically into the report directory, only over files cgw-batch wrote itself (an index beside
// them says which, else their content); checked before any request, and a failure afterwards is a warning, never a lost run.
import { randomBytes } from 'node:crypto';
import * as nodeFs from 'node:fs/promises';
import { basename, dirname, extname, join, resolve } from 'node:path';
import { UsageError } from '../errors.js';
import type { Redactor } from '../secrets.js';
import { RESULT_COLUMNS } from './results.js';
import { isOurResultsWorkbook } from './xlsx-props.js';

/** The subset of node:fs/promises we use; tests inject EBUSY/EPERM/ENOSPC through it. */
export interface ReportFs {
  mkdir(path: string, opts?: { recursive?: boolean }): Promise<unknown>;
  writeFile(path: string, data: string | Uint8Array, opts: { mode: number; flag: string }): Promise<void>;
  rename(from: string, to: string): Promise<void>;
  rm(path: string, opts: { force: true }): Promise<void>;
  lstat(path: string): Promise<{ isFile(): boolean; isSymbolicLink(): boolean; isDirectory(): boolean }>;
  readFile(path: string, enc: 'utf8' | 'latin1'): Promise<string>;
  realpath(path: string): Promise<string>;
}

/** Which file names each command writes (destroy and import have their own, so they never replace apply's). */
export function reportNames(command: string): { csv: string; json: string; junit: string; xlsx: string } {
  const p = command === 'destroy' || command === 'import' ? `${command}-` : '';
  return { csv: `${p}results.csv`, json: `${p}results.json`, junit: `${p}junit.xml`, xlsx: `${p}results.xlsx` };
}

/** Names of the files cgw-batch wrote in a report directory; anything else there is never replaced. */
export const INDEX = '.cgw-batch-reports.json';

// Without the index (reports of versions before it, or a folder copied without it) our files are recognised by their
// content: how the text reports begin (results.csv: its header ends with our result columns, or begins with `line` in
// earlier versions) and, for results.xlsx, the custom document property that marks it as ours.
const RESULTS_CSV_TAIL = `,${['line', ...RESULT_COLUMNS].map((c) => `"${c}"`).join(',')}\r\n`;
const SIGNATURES: Array<[RegExp, (head: string) => boolean]> = [
  [/results\.csv$/, (h) => h.startsWith('\uFEFF"line",') || (h.startsWith('\uFEFF') && firstRecord(h).endsWith(RESULTS_CSV_TAIL))],
  [/results\.json$/, (h) => h.startsWith('{\n  "version": 1,\n  "command":') || h.startsWith('{\n  "version": 2,\n  "generator": "cgw-batch"')],
  [/junit\.xml$/, (h) => h.startsWith('<?xml version="1.0" encoding="UTF-8"?>\n<testsuites name="cgw-batch')],
];

/** The header record of a CSV we wrote (quoted cells may hold line breaks), through its CRLF. */
function firstRecord(text: string): string {
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '"') quoted = !quoted;
    else if (!quoted && c === '\r' && text[i + 1] === '\n') return text.slice(0, i + 2);
  }
  return '';
}

/** Whether `target` is a report cgw-batch wrote, by its content. */
async function oursByContent(fs: ReportFs, name: string, target: string): Promise<boolean> {
  if (/results\.xlsx$/.test(name)) {
    const bytes = await fs.readFile(target, 'latin1').then((t) => Buffer.from(t, 'latin1'), () => undefined);
    return bytes !== undefined && isOurResultsWorkbook(bytes);
  }
  const sig = SIGNATURES.find(([re]) => re.test(name));
  if (!sig) return false;
  // A header of many input columns is long: 64 KB holds any we write.
  const head = await fs.readFile(target, 'utf8').then((t) => t.slice(0, 65_536), () => '');
  return sig[1](head);
}

async function readIndex(fs: ReportFs, dir: string): Promise<Set<string>> {
  try {
    const v = JSON.parse(await fs.readFile(join(dir, INDEX), 'utf8')) as { files?: unknown };
    return new Set(Array.isArray(v.files) ? v.files.filter((f): f is string => typeof f === 'string') : []);
  } catch {
    return new Set();
  }
}

function code(e: unknown): string | undefined {
  return (e as NodeJS.ErrnoException | undefined)?.code;
}

/**
 * Refuses (UsageError, exit 2, before any request) report targets that are the manifest or the journal, symlinks,
 * anything but regular files, or files cgw-batch did not write. `files` are names inside `dir`.
 */
export async function checkReportTargets(dir: string, files: string[], protect: string[], fs: ReportFs = nodeFs as unknown as ReportFs): Promise<void> {
  const index = await readIndex(fs, dir);
  const guarded = new Set<string>();
  for (const p of protect) {
    guarded.add(resolve(p));
    guarded.add(await fs.realpath(p).catch(() => resolve(p)));
  }
  // The per-run files go in `runs/`: a link or a file there would be written through.
  const runs = join(dir, 'runs');
  const runsStat = await fs.lstat(runs).catch(() => undefined);
  if (runsStat && (runsStat.isSymbolicLink() || !runsStat.isDirectory())) {
    throw new UsageError(`${runs} is not a plain directory (a link or a file); remove it or choose another --report-dir`);
  }
  for (const name of files) {
    const target = join(dir, name);
    const real = await fs.realpath(target).catch(() => resolve(target));
    if (guarded.has(resolve(target)) || guarded.has(real)) {
      throw new UsageError(`the report ${target} would overwrite the manifest or the journal; choose another --report-dir`);
    }
    let st: Awaited<ReturnType<ReportFs['lstat']>>;
    try {
      st = await fs.lstat(target);
    } catch (e) {
      if (code(e) === 'ENOENT') continue;
      throw new UsageError(`cannot check the report target ${target} (${code(e) ?? 'error'}); choose another --report-dir`);
    }
    if (st.isSymbolicLink()) throw new UsageError(`the report target ${target} is a symbolic link; cgw-batch does not write through links: remove it or choose another --report-dir`);
    if (!st.isFile()) throw new UsageError(`the report target ${target} exists and is not a regular file; remove it or choose another --report-dir`);
    if (index.has(name)) continue;
    if (!(await oursByContent(fs, name, target))) {
      throw new UsageError(`the report target ${target} exists and was not written by cgw-batch; move it away or choose another --report-dir`);
    }
  }
}

export interface WriteOptions {
  redactor?: Redactor;
  fs?: ReportFs;
  now?: () => Date;
}

/**
 * mkdir -p, one level at a time. Node 20's `mkdir(..., { recursive: true })` never settles for some paths it cannot
 * create (a directory under /proc was seen hanging forever); a plain mkdir fails at once with the OS error.
 */
export async function mkdirp(fs: ReportFs, dir: string, depth = 0): Promise<void> {
  try {
    await fs.mkdir(dir);
  } catch (e) {
    const c = code(e);
    if (c === 'EEXIST') return;
    if (c !== 'ENOENT' || depth > 64 || dirname(dir) === dir) throw e;
    await mkdirp(fs, dirname(dir), depth + 1);
    await fs.mkdir(dir).catch((e2: unknown) => {
      if (code(e2) !== 'EEXIST') throw e2;
    });
  }
}

/** `20240102T030405Z`: sortable, and legal in file names on Windows (no colons). */
export function stamp(d: Date): string {
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z').replace(/[-:]/g, '');
}

// Excel on Windows holds an open workbook locked (EBUSY/EPERM); EACCES is a read-only file: worth one retry under a new name.
const LOCKED = new Set(['EBUSY', 'EPERM', 'EACCES']);

async function atomicWrite(fs: ReportFs, target: string, data: string | Uint8Array): Promise<void> {
  const tmp = join(target, '..', `.${basename(target)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  try {
    // Reports hold no secrets (every byte went through the redactor), so ordinary 0644; 'wx' never reuses a name.
    await fs.writeFile(tmp, data, { mode: 0o644, flag: 'wx' });
    await fs.rename(tmp, target);
  } catch (err) {
    await fs.rm(tmp, { force: true }).catch(() => undefined);
    throw err;
  }
}

/**
 * Writes the documents into `dir` (created if missing). Text goes through the redactor once. A target that cannot be
 * replaced (open in Excel) is written as `<name>-<timestamp><ext>` with a warning. Never throws: any other failure
 * (full disk, read-only directory) becomes a warning naming the path and the OS error, so the run's summary and exit
 * code still come out.
 */
export async function writeReportFiles(dir: string, docs: Array<[string, string | Uint8Array]>, opts: WriteOptions = {}): Promise<{ files: string[]; warnings: string[] }> {
  const fs = opts.fs ?? (nodeFs as unknown as ReportFs);
  const now = opts.now ?? (() => new Date());
  const files: string[] = [];
  const warnings: string[] = [];
  try {
    await mkdirp(fs, dir);
  } catch (e) {
    return { files, warnings: [`could not create the report directory ${dir} (${code(e) ?? 'error'}); no reports written (the journal has every row)`] };
  }
  const index = await readIndex(fs, dir);
  for (const [name, raw] of docs) {
    const data = typeof raw === 'string' && opts.redactor ? opts.redactor.redact(raw) : raw;
    const target = join(dir, name);
    try {
      if (dirname(target) !== dir) await mkdirp(fs, dirname(target));
      await atomicWrite(fs, target, data);
      files.push(target);
      index.add(name);
    } catch (err) {
      const c = code(err) ?? 'error';
      if (!LOCKED.has(c)) {
        warnings.push(`could not write ${target} (${c}); the journal has every row (cgw-batch report writes the reports again)`);
        continue;
      }
      const ext = extname(name);
      const altName = `${basename(name, ext)}-${stamp(now())}${ext}`;
      const alt = join(dir, altName);
      try {
        await atomicWrite(fs, alt, data);
        files.push(alt);
        index.add(altName);
        warnings.push(`${target} could not be replaced (${c}; is it open in Excel?); wrote ${alt} instead`);
      } catch (err2) {
        warnings.push(`could not write ${name}: ${target} (${c}) and ${alt} (${code(err2) ?? 'error'})`);
      }
    }
  }
  try {
    await atomicWrite(fs, join(dir, INDEX), JSON.stringify({ generator: 'cgw-batch', files: [...index].sort() }, null, 2) + '\n');
  } catch {
    // Without the index the next run still recognises our files by their first bytes.
  }
  return { files, warnings };
}
