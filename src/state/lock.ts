// Exclusive inter-process lock on a state file: `<state>.lock` holding owner info, stale takeover, mtime heartbeat.
import { randomUUID } from 'node:crypto';
import { readFileSync, unlinkSync } from 'node:fs';
import { link, readFile, rename, stat, unlink, utimes, writeFile } from 'node:fs/promises';
import { StateError } from '../errors.js';
import { FILE_MODE, tempName } from './fsutil.js';

export interface LockInfo {
  pid: number;
  host: string;
  runId?: string;
  startedAt: string;
  /** Unique per acquisition: tells our lock from a successor's even with the same pid (same process, reused pid). */
  nonce: string;
}

export interface LockOptions {
  statePath: string;
  pid: number;
  host: string;
  runId?: string;
  clock: () => number;
  forceUnlock?: boolean;
  onWarning: (message: string) => void;
  /** A lock from another host is stale when its mtime is older than this (its holder touches it every `refreshMs`). */
  staleMs?: number;
  refreshMs?: number;
  /** Called once when the heartbeat finds the lock gone or taken: the holder must stop writing. */
  onLost?: (err: StateError) => void;
}

export const STALE_MS = 60_000;
export const REFRESH_MS = 10_000;

/** Whether a local pid exists. EPERM means it exists but belongs to someone else. */
export function pidAlive(pid: number): boolean {
  // 0 and negatives address process groups; a garbage pid cannot be a live holder.
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}

function parseInfo(raw: string): LockInfo | undefined {
  try {
    const v = JSON.parse(raw) as Partial<LockInfo>;
    if (typeof v.pid === 'number' && typeof v.host === 'string' && typeof v.startedAt === 'string') return v as LockInfo;
  } catch {
    // fall through
  }
  return undefined;
}

function code(e: unknown): string | undefined {
  return (e as NodeJS.ErrnoException | undefined)?.code;
}

export function describeHolder(info: LockInfo | undefined): string {
  if (!info) return 'an unknown process (unreadable lock file)';
  return `pid ${info.pid} on host ${info.host} since ${info.startedAt}${info.runId ? ` (run ${info.runId})` : ''}`;
}

export class Lock {
  readonly path: string;
  readonly info: LockInfo;
  lost: StateError | undefined;
  private readonly content: string;
  private timer: NodeJS.Timeout | undefined;
  private released = false;

  private constructor(path: string, info: LockInfo, content: string) {
    this.path = path;
    this.info = info;
    this.content = content;
  }

  /** Takes the lock or throws StateError at once (no waiting: a second apply must be told within a second). */
  static async acquire(opts: LockOptions): Promise<Lock> {
    const lockPath = `${opts.statePath}.lock`;
    const staleMs = opts.staleMs ?? STALE_MS;
    if (opts.forceUnlock) {
      const prior = await readFile(lockPath, 'utf8').catch(() => undefined);
      if (prior !== undefined) {
        await unlink(lockPath).catch((e: unknown) => {
          if (code(e) !== 'ENOENT') throw e;
        });
        opts.onWarning(`removed the lock on ${opts.statePath} held by ${describeHolder(parseInfo(prior))} (--force-unlock)`);
      }
    }
    const info: LockInfo = {
      pid: opts.pid,
      host: opts.host,
      ...(opts.runId ? { runId: opts.runId } : {}),
      startedAt: new Date(opts.clock()).toISOString(),
      nonce: randomUUID(),
    };
    const content = JSON.stringify(info) + '\n';
    // Written completely before it becomes visible under the lock name (link), so nobody ever sees a half-written lock.
    const tmp = tempName(lockPath);
    await writeFile(tmp, content, { mode: FILE_MODE, flag: 'wx' });
    try {
      for (let round = 0; round < 8; round++) {
        if (await createExclusive(tmp, lockPath, content)) {
          const lock = new Lock(lockPath, info, content);
          lock.startHeartbeat(opts.refreshMs ?? REFRESH_MS, opts.onLost);
          return lock;
        }
        // Someone holds it: live -> refuse now; stale -> move it aside (only if it is still the one we judged).
        let raw: string;
        let seen;
        try {
          raw = await readFile(lockPath, 'utf8');
          seen = await stat(lockPath);
        } catch (e) {
          if (code(e) === 'ENOENT') continue; // released meanwhile
          throw e;
        }
        const holder = parseInfo(raw);
        const ageMs = Date.now() - seen.mtimeMs;
        let staleWhy: string | undefined;
        if (holder && holder.host === opts.host) {
          if (!pidAlive(holder.pid)) staleWhy = `pid ${holder.pid} is not running`;
        } else if (ageMs > staleMs) {
          staleWhy = `not refreshed for ${Math.round(ageMs / 1000)} s`;
        }
        if (!staleWhy) {
          throw new StateError(
            `state file ${opts.statePath} is locked by ${describeHolder(holder)}; another apply is running (or use --force-unlock if it is not)`,
          );
        }
        const aside = tempName(lockPath, 'stale');
        try {
          await rename(lockPath, aside);
        } catch (e) {
          if (code(e) === 'ENOENT') continue; // another process took it over first
          throw e;
        }
        const moved = await stat(aside);
        const movedRaw = await readFile(aside, 'utf8');
        if (moved.ino !== seen.ino || movedRaw !== raw) {
          // Between our look and our rename a racer replaced the stale lock with its live one: put it back, re-check.
          await link(aside, lockPath).catch(() => undefined);
          await unlink(aside).catch(() => undefined);
          continue;
        }
        await unlink(aside).catch(() => undefined);
        opts.onWarning(`took over a stale lock on ${opts.statePath} held by ${describeHolder(holder)} (${staleWhy})`);
      }
      throw new StateError(`could not lock state file ${opts.statePath}: it keeps changing hands; try again`);
    } finally {
      await unlink(tmp).catch(() => undefined);
    }
  }

  private startHeartbeat(ms: number, onLost?: (err: StateError) => void): void {
    this.timer = setInterval(() => {
      void this.refresh().then(() => {
        if (this.lost) {
          clearInterval(this.timer);
          onLost?.(this.lost);
        }
      });
    }, ms);
    // The heartbeat must never keep the process alive on its own.
    this.timer.unref();
  }

  /** Touches the lock (the stale clock for other hosts) and checks it is still ours; sets `lost` when not. */
  async refresh(): Promise<void> {
    if (this.released || this.lost) return;
    let raw: string | undefined;
    try {
      raw = await readFile(this.path, 'utf8');
    } catch (e) {
      if (code(e) !== 'ENOENT') return; // transient read problem: try again next beat
    }
    if (raw !== this.content) {
      this.lost = new StateError(
        `lost the lock on ${this.path}: ${raw === undefined ? 'it was removed' : `it is now held by ${describeHolder(parseInfo(raw))}`}; stopped writing the journal`,
      );
      return;
    }
    const now = new Date();
    await utimes(this.path, now, now).catch(() => undefined);
  }

  async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    clearInterval(this.timer);
    // Never delete a lock that another process legitimately holds now.
    const raw = await readFile(this.path, 'utf8').catch(() => undefined);
    if (raw === this.content) await unlink(this.path).catch(() => undefined);
  }

  /** For the hard-abort path, where there is no time for promises. */
  releaseSync(): void {
    if (this.released) return;
    this.released = true;
    clearInterval(this.timer);
    try {
      if (readFileSync(this.path, 'utf8') === this.content) unlinkSync(this.path);
    } catch {
      // Already gone.
    }
  }
}

/** link(2) fails with EEXIST atomically, also over NFS; fall back to O_EXCL where hard links are unsupported. */
async function createExclusive(tmp: string, lockPath: string, content: string): Promise<boolean> {
  try {
    await link(tmp, lockPath);
    return true;
  } catch (e) {
    if (code(e) === 'EEXIST') return false;
  }
  try {
    await writeFile(lockPath, content, { mode: FILE_MODE, flag: 'wx' });
    return true;
  } catch (e) {
    if (code(e) === 'EEXIST') return false;
    throw e;
  }
}
