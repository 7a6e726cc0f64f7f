// Durable, non-following file primitives: regular-file checks, 0600 temp files, fsync of files and directories, orphans.
import { randomBytes } from 'node:crypto';
import { constants, type Stats } from 'node:fs';
import { lstat, open, readdir, stat, unlink, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { StateError } from './errors.js';

export const FILE_MODE = 0o600;

// O_NOFOLLOW: a symlink planted at one of our paths fails the open (ELOOP) instead of redirecting our write or chmod.
// O_NONBLOCK: a FIFO at one of our paths fails or returns at once instead of hanging the process.
const NOFOLLOW = constants.O_NOFOLLOW ?? 0;
const NONBLOCK = constants.O_NONBLOCK ?? 0;

export type MakeError = (message: string) => Error;
const stateError: MakeError = (m) => new StateError(m);

function kindOf(st: Stats): string {
  if (st.isFIFO()) return 'a FIFO (named pipe)';
  if (st.isSocket()) return 'a socket';
  if (st.isCharacterDevice() || st.isBlockDevice()) return 'a device';
  if (st.isDirectory()) return 'a directory';
  if (st.isSymbolicLink()) return 'a symbolic link';
  return 'not a regular file';
}

function notRegular(path: string, what: string, st: Stats, makeError: MakeError): Error {
  if (st.isSymbolicLink()) {
    return makeError(
      `${what} ${path} is a symbolic link; cgw-batch never follows links for the files it writes or reads back: ` +
        'replace the link with the file itself, or point the option at the real path',
    );
  }
  return makeError(`${what} ${path} is ${kindOf(st)}, not a regular file; move it aside or choose another path`);
}

/**
 * Resolves when `path` is absent or a regular file; otherwise fails naming the path and what is there (symlink,
 * FIFO, device, socket, directory). lstat only: it never opens the path, so it cannot block on a FIFO.
 */
export async function assertRegularOrAbsent(path: string, what: string, makeError: MakeError = stateError): Promise<'absent' | 'file'> {
  let st: Stats;
  try {
    st = await lstat(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return 'absent';
    throw makeError(`cannot check ${what} ${path}: ${(e as Error).message}`);
  }
  if (!st.isFile()) throw notRegular(path, what, st, makeError);
  return 'file';
}

/**
 * Opens `path` without following a final symlink and without blocking, then checks with fstat that it is a regular
 * file (the check and the use are the same open file, so a swap in between cannot fool it). ENOENT -> undefined.
 */
export async function openRegular(
  path: string,
  what: string,
  flags: number,
  opts: { mode?: number; followSymlinks?: boolean; makeError?: MakeError } = {},
): Promise<FileHandle | undefined> {
  const makeError = opts.makeError ?? stateError;
  let fh: FileHandle;
  try {
    fh = await open(path, flags | NONBLOCK | (opts.followSymlinks ? 0 : NOFOLLOW), opts.mode ?? FILE_MODE);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return undefined;
    // ELOOP: the final component is a symlink. ENXIO: a FIFO opened for writing without a reader.
    // EISDIR: a directory opened for writing. Describe what is there rather than the errno.
    if (code === 'ELOOP' || code === 'ENXIO' || code === 'EISDIR' || code === 'ENODEV') {
      const st = await lstat(path).catch(() => undefined);
      if (st && !st.isFile()) throw notRegular(path, what, st, makeError);
    }
    throw makeError(`cannot open ${what} ${path}: ${(e as Error).message}`);
  }
  try {
    const st = await fh.stat();
    if (!st.isFile()) throw notRegular(path, what, st, makeError);
  } catch (e) {
    await fh.close().catch(() => undefined);
    throw e;
  }
  return fh;
}

/**
 * Reads a regular file whole, refusing a symlink (unless `followSymlinks`), a FIFO, a device, a socket or a
 * directory without blocking, and anything larger than `maxBytes` without reading it all. ENOENT -> undefined.
 */
export async function readRegularFile(
  path: string,
  what: string,
  maxBytes: number,
  opts: { followSymlinks?: boolean; makeError?: MakeError } = {},
): Promise<Buffer | undefined> {
  const makeError = opts.makeError ?? stateError;
  const fh = await openRegular(path, what, constants.O_RDONLY, opts);
  if (!fh) return undefined;
  try {
    const size = (await fh.stat()).size;
    if (size > maxBytes) throw makeError(`${what} ${path} is ${size} bytes, more than the ${maxBytes} allowed`);
    const chunks: Buffer[] = [];
    let total = 0;
    for (;;) {
      const buf = Buffer.alloc(Math.max(1, Math.min(1024 * 1024, Math.max(size + 1, 4096), maxBytes + 1 - total)));
      const { bytesRead } = await fh.read(buf, 0, buf.length, null);
      if (bytesRead === 0) break;
      total += bytesRead;
      // The file grew while we read it: the same limit applies.
      if (total > maxBytes) throw makeError(`${what} ${path} is more than the ${maxBytes} bytes allowed`);
      chunks.push(buf.subarray(0, bytesRead));
    }
    return Buffer.concat(chunks, total);
  } finally {
    await fh.close().catch(() => undefined);
  }
}

/** Opens one of our own files for appending (created 0600 if absent), never through a symlink, never blocking. */
export async function openAppend(path: string, what: string): Promise<FileHandle> {
  const fh = await openRegular(path, what, constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT);
  if (!fh) throw new StateError(`cannot open ${what} ${path}: it disappeared`);
  return fh;
}

/**
 * Makes one of our existing files 0600 through a no-follow handle (chmod on the path would change a symlink's
 * target: `.bak -> /etc/passwd` once did). Returns the old mode when it changed something, else undefined.
 */
export async function tightenModeNoFollow(path: string, what: string): Promise<number | undefined> {
  if (process.platform === 'win32') return undefined;
  const fh = await openRegular(path, what, constants.O_RDONLY);
  if (!fh) return undefined;
  try {
    const mode = (await fh.stat()).mode & 0o777;
    if ((mode & 0o077) === 0) return undefined;
    await fh.chmod(FILE_MODE);
    return mode;
  } finally {
    await fh.close().catch(() => undefined);
  }
}

/**
 * Windows refuses to open or fsync a directory (EPERM / EISDIR / EACCES); a rename there is as durable as it gets.
 * Everywhere else a failing directory fsync is a real I/O error and must fail loudly.
 */
export function isTolerableDirFsyncError(err: unknown, platform: NodeJS.Platform = process.platform): boolean {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return platform === 'win32' && (code === 'EPERM' || code === 'EISDIR' || code === 'EACCES');
}

/** Makes a create, rename or unlink in `dir` durable (the entry lives in the directory, not in the file). */
export async function fsyncDir(dir: string, platform: NodeJS.Platform = process.platform): Promise<void> {
  let fh: FileHandle | undefined;
  try {
    fh = await open(dir, 'r');
    await fh.sync();
  } catch (e) {
    if (!isTolerableDirFsyncError(e, platform)) throw e;
  } finally {
    await fh?.close();
  }
}

/** Temp files share the target's name as a prefix, so the next lock holder can find and remove orphans. */
export function tempName(target: string, tag = 'tmp'): string {
  return join(dirname(target), `${basename(target)}.${tag}-${process.pid}-${randomBytes(4).toString('hex')}`);
}

/** Writes `data` to a new 0600 temp file beside `target` and fsyncs it; returns the temp path. */
export async function writeTempDurable(target: string, data: string | Buffer): Promise<string> {
  const tmp = tempName(target);
  // O_EXCL already refuses any existing entry, a symlink included; O_NOFOLLOW says so explicitly.
  const fh = await open(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | NOFOLLOW, FILE_MODE);
  try {
    await fh.writeFile(data);
    await fh.sync();
  } catch (e) {
    await fh.close().catch(() => undefined);
    await unlink(tmp).catch(() => undefined);
    throw e;
  }
  await fh.close();
  return tmp;
}

/**
 * Removes `<name>.tmp-*` leftovers of writers killed mid-write (signal-exit cleanup cannot run on SIGKILL).
 * Only the lock holder calls this, so no live writer's temp file can be hit. `minAgeMs` spares young files
 * where a racing process might still be using them (lock temp files are written before the lock is held).
 */
export async function removeOrphans(target: string, tags: string[], minAgeMs = 0, now = Date.now()): Promise<string[]> {
  const dir = dirname(target);
  const prefixes = tags.map((t) => `${basename(target)}.${t}-`);
  const removed: string[] = [];
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return removed;
  }
  for (const name of names) {
    if (!prefixes.some((p) => name.startsWith(p))) continue;
    const p = join(dir, name);
    try {
      if (minAgeMs > 0 && now - (await stat(p)).mtimeMs < minAgeMs) continue;
      await unlink(p);
      removed.push(p);
    } catch {
      // Already gone (a racer cleaned it): nothing to do.
    }
  }
  return removed;
}
