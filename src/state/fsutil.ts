// Durable file primitives for the state directory: 0600 temp files, fsync of files and directories, orphan cleanup.
import { randomBytes } from 'node:crypto';
import { open, readdir, rename, stat, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

export const FILE_MODE = 0o600;

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
  let fh;
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
  const fh = await open(tmp, 'wx', FILE_MODE);
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

/** temp + fsync + rename + directory fsync: the target is either the old or the new complete file. */
export async function replaceDurable(target: string, data: string | Buffer): Promise<void> {
  const tmp = await writeTempDurable(target, data);
  try {
    await rename(tmp, target);
  } catch (e) {
    await unlink(tmp).catch(() => undefined);
    throw e;
  }
  await fsyncDir(dirname(target));
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
