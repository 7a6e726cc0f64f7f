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
    const locked = (holder: LockInfo | undefined) =>
      new StateError(`state file ${opts.statePath} is locked by ${describeHolder(holder)}; another apply is running (or use --force-unlock if it is not)`);
    // Written completely before it becomes visible under the lock name (link), so nobody ever sees a half-written lock.
    const tmp = tempName(lockPath);
    await writeFile(tmp, content, { mode: FILE_MODE, flag: 'wx' });
    const won = () => {
      const lock = new Lock(lockPath, info, content);
      lock.startHeartbeat(opts.refreshMs ?? REFRESH_MS, opts.onLost);
      return lock;
    };
    const deadline = Date.now() + 800;
    try {
      for (;;) {
        if (Date.now() > deadline) {
          throw new StateError(`could not lock state file ${opts.statePath}: another process is taking over its stale lock; try again`);
        }
        if (await createExclusive(tmp, lockPath, content)) return won();
        const seen = await inspect(lockPath, opts.host, staleMs);
        if (seen === undefined) continue; // released meanwhile: try again
        if (!seen.staleWhy) throw locked(seen.holder);
        // POSIX has no compare-and-delete: two racers that both judged the lock stale could otherwise delete each
        // other's fresh locks. So removing a lock happens only under a short takeover mutex, after a re-check.
        const outcome = await withTakeoverMutex(lockPath, info, async () => {
          const again = await inspect(lockPath, opts.host, staleMs);
          if (again === undefined) return 'retry' as const;
          if (!again.staleWhy) return again;
          await unlink(lockPath).catch((e: unknown) => {
            if (code(e) !== 'ENOENT') throw e;
          });
          if (!(await createExclusive(tmp, lockPath, content))) return 'retry' as const;
          opts.onWarning(`took over a stale lock on ${opts.statePath} held by ${describeHolder(again.holder)} (${again.staleWhy})`);
          return 'won' as const;
        });
        if (outcome === 'won') return won();
        if (typeof outcome === 'object') throw locked(outcome.holder);
        if (outcome === 'busy') await new Promise((r) => setTimeout(r, 10));
      }
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

interface Seen {
  holder: LockInfo | undefined;
  /** Why the lock may be taken over; undefined while its holder counts as alive. */
  staleWhy: string | undefined;
}

/** Reads a lock and judges it: same host -> stale iff the pid is gone; other host or unreadable -> by heartbeat age. */
async function inspect(lockPath: string, host: string, staleMs: number): Promise<Seen | undefined> {
  let raw: string;
  let mtimeMs: number;
  try {
    raw = await readFile(lockPath, 'utf8');
    mtimeMs = (await stat(lockPath)).mtimeMs;
  } catch (e) {
    if (code(e) === 'ENOENT') return undefined;
    throw e;
  }
  const holder = parseInfo(raw);
  const ageMs = Date.now() - mtimeMs;
  let staleWhy: string | undefined;
  if (holder && holder.host === host) {
    if (!pidAlive(holder.pid)) staleWhy = `pid ${holder.pid} is not running`;
  } else if (ageMs > staleMs) {
    staleWhy = `not refreshed for ${Math.round(ageMs / 1000)} s`;
  }
  return { holder, staleWhy };
}

/** A takeover lasts milliseconds; a mutex older than this was left by a process killed mid-takeover. */
const MUTEX_STALE_MS = 10_000;

/**
 * Runs `fn` holding `<lock>.takeover`, or returns 'busy' when another process holds it. A mutex left by a dead
 * process is moved aside and checked to be the one judged dead (a put-back covers the rare race there).
 */
async function withTakeoverMutex<T>(lockPath: string, me: LockInfo, fn: () => Promise<T>): Promise<T | 'busy'> {
  const mutex = `${lockPath}.takeover`;
  const content = JSON.stringify({ pid: me.pid, host: me.host, startedAt: new Date().toISOString(), nonce: me.nonce }) + '\n';
  const tmp = tempName(mutex);
  await writeFile(tmp, content, { mode: FILE_MODE, flag: 'wx' });
  try {
    if (!(await createExclusive(tmp, mutex, content))) {
      const seen = await inspect(mutex, me.host, MUTEX_STALE_MS);
      if (seen?.staleWhy) await removeIfSame(mutex, seen);
      return 'busy';
    }
  } finally {
    await unlink(tmp).catch(() => undefined);
  }
  try {
    return await fn();
  } finally {
    const raw = await readFile(mutex, 'utf8').catch(() => undefined);
    if (raw === content) await unlink(mutex).catch(() => undefined);
  }
}

async function removeIfSame(path: string, seen: Seen): Promise<void> {
  const aside = tempName(path, 'stale');
  try {
    await rename(path, aside);
  } catch {
    return; // gone already
  }
  const raw = await readFile(aside, 'utf8').catch(() => '');
  const holder = parseInfo(raw);
  if (seen.holder ? holder?.nonce !== seen.holder.nonce || holder?.pid !== seen.holder.pid : holder !== undefined) {
    await link(aside, path).catch(() => undefined);
  }
  await unlink(aside).catch(() => undefined);
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
