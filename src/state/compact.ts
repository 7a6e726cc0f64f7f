// Compaction: replace the journal by a snapshot (header + one record per row), keeping the previous file as `.bak`.
import { link, readFile, rename, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';
import { fsyncDir, tempName, writeTempDurable } from '../fsutil.js';

export type CompactStep = 'temp-written' | 'bak-written' | 'renamed' | 'done';

export interface CompactOptions {
  /** Test hook: throwing here simulates a crash right after that step (nothing is cleaned up, as after kill -9). */
  onStep?: (step: CompactStep) => void;
}

/**
 * Every step leaves either the old or the new complete journal at `path`:
 *   1. snapshot -> temp file, fsync          (crash: orphan temp, old journal intact)
 *   2. old journal -> `.bak` via hard link + rename (crash: `.bak` may equal the journal, both complete)
 *   3. rename temp over the journal          (atomic)
 *   4. fsync the directory                   (makes 2 and 3 survive power loss)
 * Orphan temp files are removed by the next lock holder.
 */
export async function writeSnapshot(path: string, text: string, exists: boolean, opts: CompactOptions = {}): Promise<void> {
  const step = opts.onStep ?? (() => undefined);
  const tmp = await writeTempDurable(path, text);
  step('temp-written');
  if (exists) {
    const bak = `${path}.bak`;
    const bakTmp = tempName(bak);
    try {
      // A hard link is instant and atomic; `.bak` is replaced by rename so there is never a moment without one.
      await link(path, bakTmp);
    } catch {
      // Filesystems without hard links: copy (0600, fsynced) instead.
      const copied = await writeTempDurable(bak, await readFile(path));
      await rename(copied, bakTmp);
    }
    await rename(bakTmp, bak);
    // rename(2) is a no-op when both names already link the same inode (after a crash right after step 2),
    // leaving the temp name behind.
    await unlink(bakTmp).catch(() => undefined);
    step('bak-written');
  }
  try {
    await rename(tmp, path);
  } catch (e) {
    await unlink(tmp).catch(() => undefined);
    throw e;
  }
  step('renamed');
  await fsyncDir(dirname(path));
  step('done');
}
