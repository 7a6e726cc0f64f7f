// Writes the three report files atomically, falling back to a timestamped name when a target is locked.
import * as nodeFs from 'node:fs/promises';
import { basename, extname, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { Redactor } from '../secrets.js';
import { junitXml } from './junit.js';
import { resultsCsv, resultsJson, type ReportInput } from './results.js';

/** The subset of node:fs/promises we use; tests inject EBUSY/EPERM through it. */
export interface ReportFs {
  mkdir(path: string, opts: { recursive: true }): Promise<unknown>;
  writeFile(path: string, data: string, opts: { mode: number; flag: string }): Promise<void>;
  rename(from: string, to: string): Promise<void>;
  rm(path: string, opts: { force: true }): Promise<void>;
}

export interface WriteReportsOptions {
  redactor?: Redactor;
  fs?: ReportFs;
  now?: () => Date;
}

export const REPORT_FILES = { csv: 'results.csv', json: 'results.json', junit: 'junit.xml' } as const;

// Excel on Windows holds an open workbook locked (EBUSY/EPERM); EACCES is a read-only file; EISDIR/ENOTEMPTY/EEXIST
// mean something that is not a file sits at the target name. All of these are worth one retry under a new name.
const LOCKED = new Set(['EBUSY', 'EPERM', 'EACCES', 'EISDIR', 'ENOTEMPTY', 'EEXIST']);

/** `20240102T030405Z`: sortable, and legal in file names on Windows (no colons). */
function stamp(d: Date): string {
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z').replace(/[-:]/g, '');
}

async function atomicWrite(fs: ReportFs, target: string, data: string): Promise<void> {
  const tmp = join(target, '..', `.${basename(target)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  try {
    // Reports hold no secrets, so ordinary 0644; 'wx' so a stale temp name is never reused.
    await fs.writeFile(tmp, data, { mode: 0o644, flag: 'wx' });
    await fs.rename(tmp, target);
  } catch (err) {
    await fs.rm(tmp, { force: true }).catch(() => undefined);
    throw err;
  }
}

/**
 * Writes results.csv, results.json and junit.xml into `dir` (created if missing). A target that cannot be replaced
 * is written as `<name>-<timestamp><ext>` instead, with a warning; if that fails too the warning says the report was
 * not written and the file is missing from `files`. Other errors (e.g. the directory cannot be created) throw.
 */
export async function writeReports(
  dir: string,
  input: ReportInput,
  opts: WriteReportsOptions = {},
): Promise<{ files: string[]; warnings: string[] }> {
  const fs = opts.fs ?? (nodeFs as unknown as ReportFs);
  const now = opts.now ?? (() => new Date());
  const render = { redactor: opts.redactor };
  const docs: Array<[string, string]> = [
    [REPORT_FILES.csv, resultsCsv(input, render)],
    [REPORT_FILES.json, resultsJson(input, render)],
    [REPORT_FILES.junit, junitXml(input, render)],
  ];
  await fs.mkdir(dir, { recursive: true });
  const files: string[] = [];
  const warnings: string[] = [];
  for (const [name, data] of docs) {
    const target = join(dir, name);
    try {
      await atomicWrite(fs, target, data);
      files.push(target);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? 'unknown error';
      if (!LOCKED.has(code)) throw err;
      const ext = extname(name);
      const alt = join(dir, `${basename(name, ext)}-${stamp(now())}${ext}`);
      try {
        await atomicWrite(fs, alt, data);
        files.push(alt);
        warnings.push(`${target} could not be replaced (${code}; is it open in Excel?); wrote ${alt} instead`);
      } catch (err2) {
        const code2 = (err2 as NodeJS.ErrnoException).code ?? 'unknown error';
        warnings.push(`could not write ${name}: ${target} (${code}) and ${alt} (${code2})`);
      }
    }
  }
  const redact = (s: string) => (opts.redactor ? opts.redactor.redact(s) : s);
  return { files, warnings: warnings.map(redact) };
}
