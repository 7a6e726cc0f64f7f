// Exclusive inter-process lock on a state file: `<state>.lock` with owner identity, a content heartbeat, safe takeover.
import { randomUUID } from 'node:crypto';
import { closeSync, constants, fstatSync, openSync, readFileSync, readlinkSync, unlinkSync } from 'node:fs';
import { link, lstat, open, rename, unlink, type FileHandle } from 'node:fs/promises';
import { StateError } from '../errors.js';
import { assertRegularOrAbsent, FILE_MODE, readRegularFile, tempName } from '../fsutil.js';

/** Lock files are a few hundred bytes; read without following links and without blocking on a planted FIFO. */
async function readLockFile(path: string): Promise<string> {
  const buf = await readRegularFile(path, 'lock file', 64 * 1024);
  if (buf === undefined) throw Object.assign(new Error(`${path} is gone`), { code: 'ENOENT' });
  return buf.toString('utf8');
}

/**
 * What the lock file says. `bootId`, `pidNs` and `pidStart` make "is the holder alive?" answerable on the same
 * machine even when pids are reused (containers restart as pid 1 or 2); `beat` changes on every heartbeat, which
 * is how another host tells a live holder from a dead one without comparing the two hosts' clocks.
 */
export interface LockInfo {
  pid: number;
  host: string;
  runId?: string;
  startedAt: string;
  /** Unique per acquisition: tells our lock from a successor's even with the same pid (same process, reused pid). */
  nonce: string;
  /** Linux boot id: another boot is another machine as far as pids go. */
  bootId?: string;
  /** The pid namespace (`pid:[inode]`): a pid means nothing across namespaces. */
  pidNs?: string;
  /** The holder's process start time (clock ticks since boot, /proc/<pid>/stat field 22). */
  pidStart?: string;
  /** Heartbeat counter, fixed width so the file can be rewritten in place. */
  beat?: string;
}

export interface Timers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export interface LockOptions {
  statePath: string;
  pid: number;
  host: string;
  runId?: string;
  /** Wall clock for the recorded start time; with `sleep`, also the clock that observation windows are measured on. */
  clock: () => number;
  /** Waits between looks at a lock (default: real timers on the monotonic clock). Tests pass one advancing `clock`. */
  sleep?: (ms: number) => Promise<void>;
  /** Heartbeat scheduling (default: real, unref'ed timers). */
  timers?: Timers;
  forceUnlock?: boolean;
  onWarning: (message: string) => void;
  /** A holder on another host is abandoned when its heartbeat has not changed for this long on our clock. */
  staleMs?: number;
  refreshMs?: number;
  /** Keep trying this long while the holder is alive, then refuse (default 0: refuse at once). */
  waitMs?: number;
  /** What the file is, for messages ("state file", "emulator data file"). */
  what?: string;
  /** How to tell the user to get past a live lock. */
  hint?: string;
  /** Called exactly once when the heartbeat finds the lock gone or taken: the holder must stop writing. */
  onLost?: (err: StateError) => void;
}

export const STALE_MS = 30_000;
export const REFRESH_MS = 5_000;
/** How often a waiting opener looks at a foreign lock for a changed heartbeat. */
const POLL_MS = 250;

const realTimers: Timers = {
  setTimeout: (fn, ms) => {
    const t = setTimeout(fn, ms);
    // The heartbeat must never keep the process alive on its own.
    t.unref();
    return t;
  },
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
};
// Not unref'ed: someone is awaiting the lock, and the wait is bounded.
const realSleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

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

function readProc(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

/** A process's start time from /proc (Linux); undefined when the pid is gone or there is no /proc. */
export function processStart(pid: number): string | undefined {
  if (!Number.isInteger(pid) || pid <= 0) return undefined;
  const stat = readProc(`/proc/${pid}/stat`);
  if (stat === undefined) return undefined;
  // Field 2 (comm) is in parentheses and may itself hold spaces and ')': fields 3.. follow the last ')'.
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return rest[19];
}

let machine: { bootId?: string; pidNs?: string; hasProc: boolean } | undefined;
/** This machine's boot id and our pid namespace (Linux); both undefined elsewhere. */
export function machineIdentity(): { bootId?: string; pidNs?: string; hasProc: boolean } {
  if (!machine) {
    let pidNs: string | undefined;
    try {
      pidNs = readlinkSync('/proc/self/ns/pid');
    } catch {
      pidNs = undefined;
    }
    machine = { bootId: readProc('/proc/sys/kernel/random/boot_id')?.trim() || undefined, pidNs, hasProc: readProc(`/proc/${process.pid}/stat`) !== undefined };
  }
  return machine;
}

/** Nonces of the locks this process holds: our own pid with any other nonce is a dead predecessor's lock. */
const heldHere = new Set<string>();

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

const BEAT_WIDTH = 12;
function beatText(n: number): string {
  return String(n % 10 ** BEAT_WIDTH).padStart(BEAT_WIDTH, '0');
}

export class Lock {
  readonly path: string;
  readonly info: LockInfo;
  lost: StateError | undefined;
  private readonly fh: FileHandle;
  private beat = 0;
  private timer: unknown;
  private timers: Timers = realTimers;
  private released = false;
  /** Set once the lock file is gone (or was never ours to remove): release() may still be on its way there. */
  private removed = false;
  private lostReported = false;
  private beating: Promise<void> | undefined;

  private constructor(path: string, info: LockInfo, fh: FileHandle) {
    this.path = path;
    this.info = info;
    this.fh = fh;
  }

  /**
   * Takes the lock, or throws StateError naming the holder. A holder on this machine is judged at once (pid, its
   * start time, our own nonces); a holder elsewhere by whether its heartbeat changes within `staleMs` of our clock.
   */
  static async acquire(opts: LockOptions): Promise<Lock> {
    const lockPath = `${opts.statePath}.lock`;
    const what = opts.what ?? 'state file';
    const staleMs = opts.staleMs ?? STALE_MS;
    const sleep = opts.sleep ?? realSleep;
    await assertRegularOrAbsent(lockPath, 'lock file');
    if (opts.forceUnlock) {
      const prior = await readLockFile(lockPath).catch(() => undefined);
      if (prior !== undefined) {
        await unlink(lockPath).catch((e: unknown) => {
          if (code(e) !== 'ENOENT') throw e;
        });
        opts.onWarning(`removed the lock on ${opts.statePath} held by ${describeHolder(parseInfo(prior))} (--force-unlock)`);
      }
    }
    const me = machineIdentity();
    const info: LockInfo = {
      pid: opts.pid,
      host: opts.host,
      ...(opts.runId ? { runId: opts.runId } : {}),
      startedAt: new Date(opts.clock()).toISOString(),
      nonce: randomUUID(),
      ...(me.bootId ? { bootId: me.bootId } : {}),
      ...(me.pidNs ? { pidNs: me.pidNs } : {}),
      ...(processStart(opts.pid) !== undefined ? { pidStart: processStart(opts.pid) } : {}),
      beat: beatText(0),
    };
    const content = JSON.stringify(info) + '\n';
    const hint = opts.hint ?? 'another apply is running (or use --force-unlock if it is not)';
    const locked = (holder: LockInfo | undefined) => new StateError(`${what} ${opts.statePath} is locked by ${describeHolder(holder)}; ${hint}`);
    // Written completely before it becomes visible under the lock name (link), so nobody ever sees a half-written
    // lock; the handle stays open for the heartbeat, which rewrites this inode in place.
    const tmp = tempName(lockPath);
    let fh = await open(tmp, 'wx', FILE_MODE);
    let won = false;
    // Ours from the first moment it can be seen: a racing opener in this process must judge it alive.
    heldHere.add(info.nonce);
    const take = async (created: { own?: FileHandle } | undefined): Promise<boolean> => {
      if (!created) return false;
      if (created.own) {
        await fh.close().catch(() => undefined);
        fh = created.own;
      }
      return true;
    };
    // Intervals are measured on this machine's monotonic clock (or the injected one, with its sleep): never on the
    // holder's wall clock, and immune to our own wall clock being set back or forth meanwhile.
    const local = opts.sleep ? opts.clock : () => performance.now();
    const observer = new Observer(local);
    const waitUntil = local() + (opts.waitMs ?? 0);
    let busySince: number | undefined;
    let announced = false;
    try {
      await fh.writeFile(content);
      for (;;) {
        if (await take(await createExclusive(tmp, lockPath, content))) {
          won = true;
          break;
        }
        const seen = await inspect(lockPath, opts, staleMs, observer);
        if (seen === undefined) continue; // released meanwhile: try again
        if (seen.verdict === 'alive') {
          if (local() < waitUntil) {
            await sleep(POLL_MS);
            continue;
          }
          throw locked(seen.holder);
        }
        if (seen.verdict === 'watch') {
          if (!announced) {
            announced = true;
            opts.onWarning(
              `${what} ${opts.statePath} is locked by ${describeHolder(seen.holder)} on another host; ` +
                `watching its heartbeat for up to ${Math.round(staleMs / 1000)} s before treating it as abandoned`,
            );
          }
          await sleep(POLL_MS);
          continue;
        }
        // POSIX has no compare-and-delete: two racers that both judged the lock stale could otherwise delete each
        // other's fresh locks. So removing a lock happens only under a short takeover mutex, after a re-check that
        // the file is still exactly the one judged stale.
        const outcome = await withTakeoverMutex(lockPath, info, opts, observer, async () => {
          const again = await readLockFile(lockPath).catch(() => undefined);
          if (again === undefined) return 'retry' as const;
          if (again !== seen.raw) return 'retry' as const;
          await unlink(lockPath).catch((e: unknown) => {
            if (code(e) !== 'ENOENT') throw e;
          });
          if (!(await take(await createExclusive(tmp, lockPath, content)))) return 'retry' as const;
          opts.onWarning(`took over a stale lock on ${opts.statePath} held by ${describeHolder(seen.holder)} (${seen.why})`);
          return 'won' as const;
        });
        if (outcome === 'won') {
          won = true;
          break;
        }
        if (outcome === 'busy') {
          // Another process is mid-takeover; it lasts milliseconds unless that process died holding the mutex.
          busySince ??= performance.now();
          if (performance.now() - busySince > 800 && local() >= waitUntil) {
            throw new StateError(`could not lock ${what} ${opts.statePath}: another process is taking over its stale lock; try again`);
          }
          await sleep(10);
        }
      }
    } finally {
      await unlink(tmp).catch(() => undefined);
      if (!won) {
        heldHere.delete(info.nonce);
        await fh.close().catch(() => undefined);
      }
    }
    const lock = new Lock(lockPath, info, fh);
    lock.timers = opts.timers ?? realTimers;
    lock.startHeartbeat(opts.refreshMs ?? REFRESH_MS, opts.onLost);
    return lock;
  }

  private startHeartbeat(ms: number, onLost?: (err: StateError) => void): void {
    // One beat at a time: the next is scheduled only after this one finished, so a slow disk never stacks beats
    // (two overlapping beats once reported the same loss twice).
    const tick = () => {
      this.timer = undefined;
      this.beating = this.refresh().then(() => {
        this.beating = undefined;
        if (this.lost) {
          if (!this.lostReported) {
            this.lostReported = true;
            onLost?.(this.lost);
          }
          return;
        }
        if (!this.released) this.timer = this.timers.setTimeout(tick, ms);
      });
    };
    this.timer = this.timers.setTimeout(tick, ms);
  }

  /** Checks the lock is still ours and advances its heartbeat in place; sets `lost` when it is not ours. */
  async refresh(): Promise<void> {
    if (this.released || this.lost) return;
    let raw: string | undefined;
    try {
      raw = await readLockFile(this.path);
    } catch (e) {
      if (code(e) !== 'ENOENT') return; // transient read problem: try again next beat
    }
    const now = raw === undefined ? undefined : parseInfo(raw);
    if (now?.nonce !== this.info.nonce || now.pid !== this.info.pid) {
      this.lost = new StateError(
        `lost the lock on ${this.path}: ${raw === undefined ? 'it was removed' : `it is now held by ${describeHolder(now)}`}; stopped writing the journal`,
      );
      return;
    }
    this.beat++;
    // Same length every time (fixed-width counter): an in-place rewrite never leaves a longer old tail.
    const next = JSON.stringify({ ...this.info, beat: beatText(this.beat) }) + '\n';
    await this.fh.write(next, 0, 'utf8').catch(() => undefined);
  }

  async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    if (this.timer !== undefined) this.timers.clearTimeout(this.timer);
    await this.beating;
    heldHere.delete(this.info.nonce);
    // Never delete a lock that another process legitimately holds now.
    const raw = await readLockFile(this.path).catch(() => undefined);
    if (!this.removed && raw !== undefined && parseInfo(raw)?.nonce === this.info.nonce) await unlink(this.path).catch(() => undefined);
    this.removed = true;
    await this.fh.close().catch(() => undefined);
  }

  /**
   * For the hard-abort path, where there is no time for promises. Also finishes a release() still on its way: the
   * process may leave before that one's promises run.
   */
  releaseSync(): void {
    if (this.removed) return;
    this.removed = true;
    this.released = true;
    if (this.timer !== undefined) this.timers.clearTimeout(this.timer);
    heldHere.delete(this.info.nonce);
    try {
      const fd = openSync(this.path, constants.O_RDONLY | (constants.O_NOFOLLOW ?? 0) | (constants.O_NONBLOCK ?? 0));
      try {
        if (fstatSync(fd).isFile() && parseInfo(readFileSync(fd, 'utf8'))?.nonce === this.info.nonce) unlinkSync(this.path);
      } finally {
        closeSync(fd);
      }
    } catch {
      // Already gone.
    }
    // closeSync on a FileHandle's fd would make its later garbage collection fail with EBADF (a crash): close it
    // the FileHandle way; the lock itself is already gone from the directory.
    void this.fh.close().catch(() => undefined);
  }
}

/**
 * Remembers what a foreign lock looked like and since when, on OUR clock. A holder is alive while what we see
 * changes (its heartbeat rewrites the content, and touches the mtime); unchanged for `staleMs`, it is abandoned.
 * Only the holder's own values are compared with each other, never its clock with ours.
 */
class Observer {
  private seen = new Map<string, { sig: string; since: number }>();
  constructor(private readonly clock: () => number) {}

  /** 'changed' the first time a path is seen or whenever it changed; else how long it has looked the same. */
  look(path: string, sig: string): { changed: boolean; unchangedMs: number; first: boolean } {
    const now = this.clock();
    const prev = this.seen.get(path);
    if (!prev || prev.sig !== sig) {
      this.seen.set(path, { sig, since: now });
      return { changed: prev !== undefined, unchangedMs: 0, first: prev === undefined };
    }
    return { changed: false, unchangedMs: now - prev.since, first: false };
  }
}

interface Seen {
  raw: string;
  holder: LockInfo | undefined;
  /** alive: refuse (or wait); stale: take over; watch: a foreign holder not yet judged. */
  verdict: 'alive' | 'stale' | 'watch';
  why?: string;
}

/** Same machine and pid namespace: a pid can be checked. Old locks (no boot id) from our host name count too. */
function sameMachine(holder: LockInfo, host: string): boolean {
  if (holder.host !== host) return false;
  const me = machineIdentity();
  if (holder.bootId === undefined && holder.pidNs === undefined) return true;
  return holder.bootId === me.bootId && holder.pidNs === me.pidNs;
}

/** Judges a holder on this machine from its pid, the pid's start time and our own nonces. */
function judgeLocal(holder: LockInfo): { alive: boolean; why: string } {
  if (holder.pid === process.pid) {
    return heldHere.has(holder.nonce)
      ? { alive: true, why: '' }
      : { alive: false, why: `pid ${holder.pid} is this process, which does not hold it (a killed run with the same pid)` };
  }
  if (!machineIdentity().hasProc) return pidAlive(holder.pid) ? { alive: true, why: '' } : { alive: false, why: `pid ${holder.pid} is not running` };
  const start = processStart(holder.pid);
  if (start === undefined) return { alive: false, why: `pid ${holder.pid} is not running` };
  if (holder.pidStart !== undefined && holder.pidStart !== start) {
    return { alive: false, why: `pid ${holder.pid} is now another process (the holder was killed and its pid reused)` };
  }
  return { alive: true, why: '' };
}

async function inspect(lockPath: string, opts: LockOptions, staleMs: number, observer: Observer): Promise<Seen | undefined> {
  let raw: string;
  let mtimeMs: number;
  try {
    raw = await readLockFile(lockPath);
    mtimeMs = (await lstat(lockPath)).mtimeMs;
  } catch (e) {
    if (code(e) === 'ENOENT') return undefined;
    throw e;
  }
  const holder = parseInfo(raw);
  if (holder && sameMachine(holder, opts.host)) {
    const j = judgeLocal(holder);
    return { raw, holder, verdict: j.alive ? 'alive' : 'stale', why: j.why };
  }
  // Another host (or an unreadable file): the content and mtime are the holder's; only their change counts.
  const look = observer.look(lockPath, `${mtimeMs}\n${raw}`);
  if (look.changed) return { raw, holder, verdict: 'alive' };
  if (look.unchangedMs >= staleMs) {
    return { raw, holder, verdict: 'stale', why: `its heartbeat did not change for ${Math.round(look.unchangedMs / 1000)} s` };
  }
  return { raw, holder, verdict: 'watch' };
}

/** A takeover lasts milliseconds; a mutex unchanged this long (on our clock) was left by a process killed mid-takeover. */
const MUTEX_STALE_MS = 10_000;

/**
 * Runs `fn` holding `<lock>.takeover`, or returns 'busy' when another process holds it. A mutex left by a dead
 * process is moved aside and checked to be the one judged dead (a put-back covers the rare race there).
 */
async function withTakeoverMutex<T>(
  lockPath: string,
  me: LockInfo,
  opts: LockOptions,
  observer: Observer,
  fn: () => Promise<T>,
): Promise<T | 'busy'> {
  const mutex = `${lockPath}.takeover`;
  const content = JSON.stringify({ ...me, startedAt: new Date(opts.clock()).toISOString() }) + '\n';
  const tmp = tempName(mutex);
  const fh = await open(tmp, 'wx', FILE_MODE);
  try {
    await fh.writeFile(content);
    const created = await createExclusive(tmp, mutex, content);
    await created?.own?.close();
    if (!created) {
      const seen = await inspect(mutex, opts, MUTEX_STALE_MS, observer);
      if (seen?.verdict === 'stale') await removeIfSame(mutex, seen);
      return 'busy';
    }
  } finally {
    await fh.close().catch(() => undefined);
    await unlink(tmp).catch(() => undefined);
  }
  try {
    return await fn();
  } finally {
    const raw = await readLockFile(mutex).catch(() => undefined);
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
  const raw = await readLockFile(aside).catch(() => '');
  if (raw !== seen.raw) await link(aside, path).catch(() => undefined);
  await unlink(aside).catch(() => undefined);
}

/**
 * link(2) fails with EEXIST atomically, also over NFS; where hard links are unsupported, O_EXCL creates the lock
 * directly and its handle is returned (the heartbeat must rewrite the inode that carries the lock's name).
 */
async function createExclusive(tmp: string, lockPath: string, content: string): Promise<{ own?: FileHandle } | undefined> {
  try {
    await link(tmp, lockPath);
    return {};
  } catch (e) {
    if (code(e) === 'EEXIST') return undefined;
  }
  let fh: FileHandle | undefined;
  try {
    fh = await open(lockPath, 'wx', FILE_MODE);
    await fh.writeFile(content);
    return { own: fh };
  } catch (e) {
    await fh?.close().catch(() => undefined);
    if (code(e) === 'EEXIST') return undefined;
    throw e;
  }
}
