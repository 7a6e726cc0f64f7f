// Writes a site's rendered files: a 0700 folder holding 0600 files, each replaced atomically (temp file, fsync,
// rename), never following a symlink or opening a FIFO planted where a file belongs. The renderers in src/device stay pure; this is their output.
import { closeSync, constants, fchmodSync, fsyncSync, lstatSync, mkdirSync, openSync, renameSync, unlinkSync, writeSync, chmodSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { ConfigFile } from '../device/types.js';

export type WriteResult = { ok: true; paths: string[] } | { ok: false; path: string; message: string };

const SAFE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

/** Why `dir` cannot hold secrets, or undefined once it is a real directory of ours with mode 0700. */
function prepareDir(dir: string): string | undefined {
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  } catch (e) {
    return `cannot create the folder: ${(e as NodeJS.ErrnoException).code ?? 'error'}`;
  }
  const st = lstatSync(dir);
  if (st.isSymbolicLink()) return 'is a symbolic link; name a real folder';
  if (!st.isDirectory()) return 'is not a folder';
  if (typeof process.getuid === 'function' && st.uid !== process.getuid()) return 'belongs to another user';
  // Ours: tighten it (an earlier run or a mkdir under a loose umask may have left it group- or world-readable).
  if ((st.mode & 0o777) !== 0o700) chmodSync(dir, 0o700);
  return undefined;
}

/**
 * Writes `files` into `dir`. Each file is written to a new temp file (O_EXCL|O_NOFOLLOW, mode 0600) and renamed over
 * its name, so a reader sees the old file or the whole new one, and whatever stood at the name (a symlink, a FIFO)
 * is replaced, not followed. Error messages name the path and the cause, never the content.
 */
export function writeConfigFiles(dir: string, files: ConfigFile[]): WriteResult {
  for (const f of files) {
    if (!SAFE_NAME.test(f.name)) return { ok: false, path: join(dir, f.name), message: 'is not a plain file name' };
  }
  const problem = prepareDir(dir);
  if (problem) return { ok: false, path: dir, message: problem };
  const paths: string[] = [];
  for (const f of files) {
    const target = join(dir, f.name);
    const temp = join(dir, `.${f.name}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
    let fd: number | undefined;
    try {
      fd = openSync(temp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
      fchmodSync(fd, 0o600); // the umask may only have narrowed it; make it exact
      const buf = Buffer.from(f.text, 'utf8');
      let off = 0;
      while (off < buf.length) off += writeSync(fd, buf, off, buf.length - off);
      fsyncSync(fd);
      closeSync(fd);
      fd = undefined;
      renameSync(temp, target);
      paths.push(target);
    } catch (e) {
      if (fd !== undefined) closeSync(fd);
      try {
        unlinkSync(temp);
      } catch {
        // not created
      }
      const code = (e as NodeJS.ErrnoException).code ?? 'error';
      const why = code === 'EISDIR' || code === 'ENOTEMPTY' || code === 'EEXIST' ? 'a folder stands at this name' : `cannot be written (${code})`;
      return { ok: false, path: target, message: why };
    }
  }
  try {
    const dfd = openSync(dir, constants.O_RDONLY | constants.O_DIRECTORY);
    fsyncSync(dfd);
    closeSync(dfd);
  } catch {
    // the renames are done; a folder fsync is best effort on file systems that refuse it
  }
  return { ok: true, paths };
}
