// Writing a file the user named for init and export: created new (never over an existing file, link or FIFO), 0644.
import { open, type FileHandle } from 'node:fs/promises';
import { extname } from 'node:path';
import { UsageError } from '../errors.js';

/** The manifest format a file name asks for, if its extension says. */
export function formatOfName(path: string | undefined): 'csv' | 'yaml' | 'xlsx' | undefined {
  const ext = path ? extname(path).toLowerCase() : '';
  if (ext === '.csv') return 'csv';
  if (ext === '.yaml' || ext === '.yml') return 'yaml';
  if (ext === '.xlsx') return 'xlsx';
  return undefined;
}

/**
 * Creates `path` with `data`. O_EXCL refuses anything already there (a file, a dangling link, a FIFO) without
 * following or opening it, so nothing the user has is ever replaced.
 */
export async function writeNewFile(path: string, data: string | Uint8Array): Promise<void> {
  let fh: FileHandle;
  try {
    fh = await open(path, 'wx', 0o644);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') throw new UsageError(`${path} already exists; cgw-batch never overwrites it: choose another name or remove it first`);
    throw new UsageError(`cannot create ${path} (${code ?? 'error'})`);
  }
  try {
    await fh.writeFile(data);
  } finally {
    await fh.close();
  }
}
