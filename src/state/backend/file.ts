// The file backend: today's journal file (append-only JSONL, fdatasync, 0600) and its `<state>.lock` behind the StateBackend interface.
import { constants } from 'node:fs';
import { unlink, type FileHandle } from 'node:fs/promises';
import { StateError } from '../../errors.js';
import { writeSnapshot } from '../compact.js';
import { assertRegularOrAbsent, openAppend, openRegular, readRegularFile, removeOrphans, tightenModeNoFollow } from '../../fsutil.js';
import { Lock } from '../lock.js';
import { describeHolder, errText, LeaseBase, parseHolder, splitLines, type LeaseCore } from './lease.js';
import {
  LeaseBusyError,
  LeaseLostError,
  leaseTiming,
  realClock,
  StateBackendError,
  type AcquireOptions,
  type HolderInfo,
  type Lease,
  type LeaseClock,
  type LeaseStatus,
  type LeaseTiming,
  type LogRead,
  type LogRecord,
  type StateBackend,
} from './types.js';

/** A journal is a few hundred bytes per row; a file far beyond any real one is not ours to slurp. */
export const MAX_JOURNAL_BYTES = 1024 * 1024 * 1024;

export interface FileBackendOptions {
  path: string;
  /** ttl = how long a holder on another host may leave its lock unchanged (default 30 s, today's stale limit). */
  timing?: LeaseTiming;
  clock?: LeaseClock;
  /** Test hooks: throw after the batch is written and synced, as if the answer were lost (EIO on fsync). */
  faults?: { afterWrite?: (attempt: number) => void };
}

export function openFileBackend(opts: FileBackendOptions): StateBackend {
  return new FileBackend(opts);
}

interface LockFileInfo {
  holder: HolderInfo | undefined;
  nonce: string | undefined;
}

async function readLockInfo(path: string): Promise<LockFileInfo | undefined> {
  const buf = await readRegularFile(`${path}.lock`, 'lock file', 64 * 1024).catch(() => undefined);
  if (buf === undefined) return undefined;
  try {
    const v = JSON.parse(buf.toString('utf8')) as Record<string, unknown>;
    return { holder: parseHolder(v), nonce: typeof v['nonce'] === 'string' ? v['nonce'] : undefined };
  } catch {
    return { holder: undefined, nonce: undefined };
  }
}

class FileBackend implements StateBackend {
  readonly kind = 'file' as const;
  readonly location: string;
  private readonly timing: LeaseTiming;
  private readonly clock: LeaseClock;

  constructor(private readonly opts: FileBackendOptions) {
    this.location = opts.path;
    this.timing = opts.timing ?? leaseTiming(30_000, { heartbeatMs: 5_000 });
    this.clock = opts.clock ?? realClock;
  }

  async read(): Promise<LogRead | undefined> {
    const buf = await readRegularFile(this.opts.path, 'state file', MAX_JOURNAL_BYTES);
    if (buf === undefined) return undefined;
    const { lines, warnings } = splitLines(buf.toString('utf8'), `state file ${this.opts.path}`);
    return { records: lines, warnings };
  }

  async acquire(a: AcquireOptions): Promise<Lease> {
    const path = this.opts.path;
    const warn = a.onWarning ?? (() => undefined);
    // Before anything opens them: a FIFO here would hang us, a symlink would redirect our writes and chmod.
    await assertRegularOrAbsent(path, 'state file');
    await assertRegularOrAbsent(`${path}.bak`, 'state backup file');
    let takeover: { from?: HolderInfo; why: string } | undefined;
    let lease: FileLease | undefined;
    const prior = await readLockInfo(path);
    const lock = await Lock.acquire({
      statePath: path,
      pid: a.holder.pid,
      host: a.holder.host,
      ...(a.holder.runId ? { runId: a.holder.runId } : {}),
      clock: Date.now,
      onWarning: (m) => {
        if (m.startsWith('took over a stale lock')) takeover = { ...(prior?.holder ? { from: prior.holder } : {}), why: m };
        warn(m);
      },
      staleMs: this.timing.ttlMs,
      // The lease drives the beats itself (so it knows when each was confirmed); the lock's own timer stays idle.
      refreshMs: 2_000_000_000,
      waitMs: a.waitMs ?? 0,
      onLost: (err) => lease?.lost(err.message),
    }).catch(async (e: unknown) => {
      if (e instanceof StateError && / is locked by /.test(e.message)) throw new LeaseBusyError(e.message, (await readLockInfo(path))?.holder);
      if (e instanceof StateError) throw e;
      throw new StateBackendError(`cannot lock state file ${path}: ${errText(e)}`);
    });
    // The lock was won just now (it may have waited a ttl to judge a silent holder): our tenure is confirmed from here.
    const sentAt = this.clock.now();
    try {
      // We hold the lock, so any journal temp file here belongs to a writer that died mid-compaction.
      await removeOrphans(path, ['tmp']);
      await removeOrphans(`${path}.bak`, ['tmp']);
      // Lock temp files are written before their owner holds the lock: only clear old ones.
      await removeOrphans(`${path}.lock`, ['tmp', 'stale'], 60_000);
      await removeOrphans(`${path}.lock.takeover`, ['tmp', 'stale'], 60_000);
      for (const p of [path, `${path}.bak`]) {
        const old = await tightenModeNoFollow(p, 'state file');
        if (old !== undefined) warn(`state file ${p} was readable by others (mode ${old.toString(8).padStart(4, '0')}); changed it to 0600`);
      }
      const buf = await readRegularFile(path, 'state file', MAX_JOURNAL_BYTES);
      let log: LogRead = { records: [], warnings: [] };
      let size = 0;
      if (buf !== undefined) {
        const split = splitLines(buf.toString('utf8'), `state file ${path}`);
        log = { records: split.lines, warnings: split.warnings };
        size = buf.length - split.tornBytes;
        // A torn tail must never sit before new appends: cut it off now (its writer never heard "durable").
        if (split.tornBytes > 0) await truncateTo(path, size);
      }
      log.warnings.forEach(warn);
      lease = new FileLease(
        { epoch: undefined, token: lock.info.nonce, log, takeover, confirmedAt: sentAt },
        this.timing,
        this.clock,
        path,
        lock,
        size,
        buf !== undefined,
        this.opts.faults,
      );
      return lease;
    } catch (e) {
      await lock.release();
      if (e instanceof StateError) throw e;
      throw new StateBackendError(`cannot open state file ${path}: ${errText(e)}`);
    }
  }

  async status(): Promise<LeaseStatus> {
    const info = await readLockInfo(this.opts.path);
    return info ? { held: true, ...(info.holder ? { holder: info.holder } : {}) } : { held: false };
  }

  async breakLease(onWarning?: (message: string) => void): Promise<HolderInfo | undefined> {
    const info = await readLockInfo(this.opts.path);
    if (!info) return undefined;
    await unlink(`${this.opts.path}.lock`).catch((e: unknown) => {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    });
    onWarning?.(`removed the lock on ${this.opts.path} held by ${describeHolder(info.holder)}`);
    return info.holder;
  }

  async close(): Promise<void> {}
}

async function truncateTo(path: string, size: number): Promise<void> {
  const fh = await openRegular(path, 'state file', constants.O_WRONLY);
  if (!fh) return;
  try {
    await fh.truncate(size);
    await fh.datasync();
  } finally {
    await fh.close();
  }
}

class FileLease extends LeaseBase {
  private fh: FileHandle | undefined;
  private attempt = 0;
  private lastBeat: number;

  constructor(
    core: LeaseCore,
    timing: LeaseTiming,
    clock: LeaseClock,
    private readonly path: string,
    private readonly lock: Lock,
    /** Bytes of the journal we know to be whole records: appends go exactly here. */
    private size: number,
    private exists: boolean,
    private readonly faults: FileBackendOptions['faults'],
  ) {
    super(core, timing, clock, `state file ${path}`);
    this.lastBeat = core.confirmedAt;
    this.start();
  }

  /** The lock's own heartbeat (or ours) found the lock gone or taken. */
  lost(message: string): void {
    this.lose(new LeaseLostError(message));
  }

  /** The lock file still carries our nonce: nobody took over or removed it (a --force-unlock, a stale takeover). */
  private async checkOwner(): Promise<void> {
    const info = await readLockInfo(this.path);
    if (info?.nonce !== this.lock.info.nonce) {
      throw new LeaseLostError(
        `lost the lock on ${this.path}: ${info ? `it is now held by ${describeHolder(info.holder)}` : 'it was removed'}; stopped writing the journal`,
      );
    }
  }

  private async handle(): Promise<FileHandle> {
    this.fh ??= await openAppend(this.path, 'state file');
    return this.fh;
  }

  protected async doAppend(records: readonly LogRecord[]): Promise<void> {
    // A busy journal is always appending, and a beat never runs beside an append: the lock's heartbeat (which a
    // holder on another host is judged by) must then advance here, or the holder would look silent.
    if (this.clock.now() - this.lastBeat >= this.timing.heartbeatMs) await this.doHeartbeat();
    else await this.checkOwner();
    const buf = Buffer.from(records.join('\n') + '\n', 'utf8');
    for (let tries = 0; ; tries++) {
      try {
        const fh = await this.handle();
        let off = 0;
        while (off < buf.length) off += (await fh.write(buf, off, buf.length - off)).bytesWritten;
        await fh.datasync();
        this.faults?.afterWrite?.(++this.attempt);
        this.size += buf.length;
        this.exists = true;
        return;
      } catch (e) {
        // Did it land? Only we write here (we hold the lock), so the bytes after `size` are ours or a torn part.
        const landed = await this.landed(buf);
        if (landed === 'whole') {
          this.size += buf.length;
          this.exists = true;
          return;
        }
        if (landed === 'foreign') throw new LeaseLostError(`state file ${this.path} changed under us (someone else wrote to it); stopped writing the journal`);
        if (tries >= 2) throw new StateBackendError(`could not write the journal ${this.path}: ${errText(e)}; no further rows are recorded`);
      }
    }
  }

  /** After a failed write: 'whole' when the batch is there, 'none' after cutting back a partial one, else 'foreign'. */
  private async landed(buf: Buffer): Promise<'whole' | 'none' | 'foreign'> {
    const fh = await openRegular(this.path, 'state file', constants.O_RDWR);
    if (!fh) return this.size === 0 ? 'none' : 'foreign';
    try {
      const st = await fh.stat();
      const extra = st.size - this.size;
      if (extra < 0) return 'foreign';
      const got = Buffer.alloc(Math.min(extra, buf.length));
      if (got.length > 0) await fh.read(got, 0, got.length, this.size);
      if (extra === buf.length && got.equals(buf)) {
        await fh.datasync();
        return 'whole';
      }
      if (extra <= buf.length && got.equals(buf.subarray(0, extra))) {
        if (extra > 0) {
          await fh.truncate(this.size);
          await fh.datasync();
        }
        return 'none';
      }
      return 'foreign';
    } finally {
      await fh.close();
    }
  }

  protected async doCompact(snapshot: readonly LogRecord[]): Promise<void> {
    await this.checkOwner();
    const text = snapshot.map((r) => r + '\n').join('');
    // The append handle would keep writing to the old inode after the rename.
    await this.fh?.close().catch(() => undefined);
    this.fh = undefined;
    await writeSnapshot(this.path, text, this.exists);
    this.exists = true;
    this.size = Buffer.byteLength(text);
  }

  protected async doHeartbeat(): Promise<void> {
    this.lastBeat = this.clock.now();
    await this.lock.refresh();
    if (this.lock.lost) throw new LeaseLostError(this.lock.lost.message);
    await this.checkOwner();
  }

  protected override onLost(): void {
    void this.fh?.close().catch(() => undefined);
    this.fh = undefined;
  }

  protected async doRelease(): Promise<void> {
    await this.fh?.close().catch(() => undefined);
    this.fh = undefined;
    // Lock.release never deletes a lock that another process holds now.
    await this.lock.release();
  }

  protected doAbandon(): void {
    this.lock.releaseSync();
    const fh = this.fh;
    this.fh = undefined;
    void fh?.close().catch(() => undefined);
  }
}
