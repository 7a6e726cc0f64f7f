// The OSS backend: the journal is an appendable object whose append position is the compare-and-set; lease and seal records live in it.
import { randomUUID } from 'node:crypto';
import { StateError } from '../../errors.js';
import { crc64String, crc64Update, CRC64_EMPTY, type Crc64 } from './crc64.js';
import { describeHolder, errText, LeaseBase, parseHolder, type LeaseCore } from './lease.js';
import { OssClient, OssError, type OssCredentials } from './oss-client.js';
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

export interface OssBackendOptions {
  endpoint: string;
  bucket: string;
  /** The estate's folder: objects are `<prefix>/journal.<gen>.jsonl`. */
  prefix: string;
  region?: string;
  pathStyle?: boolean;
  credentials: () => Promise<OssCredentials>;
  /** ttl: a holder whose journal object has not changed this long (on our clock) is dead. Default 60 s. */
  timing?: LeaseTiming;
  requestTimeoutMs?: number;
  clock?: LeaseClock;
  /** Generations kept behind the live one (default 1, like the file journal's .bak). */
  keepGenerations?: number;
}

export function openOssBackend(opts: OssBackendOptions): StateBackend {
  return new OssBackend(opts);
}

/** Control records begin with these exact texts (we write them with JSON.stringify, `t` first). */
const CONTROL = /^\{"t":"(lease|release|beat|seal)"/;

interface LeaseRec {
  epoch: number;
  nonce: string;
  holder?: HolderInfo;
  ttlMs: number;
}

/** One generation object, parsed. */
interface Gen {
  gen: number;
  key: string;
  records: string[];
  /** The last lease record, and whether its tenure was released since. */
  lease: LeaseRec | undefined;
  held: boolean;
  sealedTo: number | undefined;
  /** Whole bytes (the object's length) and their crc, to continue appending. */
  length: number;
  crc: Crc64;
  /** A torn last line: its byte length, and whether the object ends without a newline. */
  torn: { bytes: number; needsNewline: boolean } | undefined;
  warnings: string[];
}

const MAX_ATTEMPTS = 4;

function genKey(prefix: string, gen: number): string {
  return `${prefix}/journal.${String(gen).padStart(8, '0')}.jsonl`;
}

function parseGen(prefix: string, gen: number, body: Buffer, where: string): Gen {
  const text = body.toString('utf8');
  const lines = text.split('\n');
  const tail = lines.pop() ?? '';
  const out: Gen = { gen, key: genKey(prefix, gen), records: [], lease: undefined, held: false, sealedTo: undefined, length: body.length, crc: CRC64_EMPTY, torn: undefined, warnings: [] };
  // Byte length of each line kept as a journal record, so a repair record can name the torn line it replaces.
  const recBytes: number[] = [];
  const tornLine = (i: number) => `${where}: dropped an incomplete last line ${i} (a write was interrupted)`;
  if (tail !== '') {
    out.torn = { bytes: Buffer.byteLength(tail), needsNewline: true };
    out.warnings.push(tornLine(lines.length + 1));
  }
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] ?? '';
    const m = CONTROL.exec(line);
    if (!m) {
      out.records.push(line);
      recBytes.push(Buffer.byteLength(line));
      continue;
    }
    let v: Record<string, unknown>;
    try {
      v = JSON.parse(line) as Record<string, unknown>;
    } catch {
      throw new StateBackendError(`${where} line ${i + 1} is a corrupt control record; the journal cannot be trusted`);
    }
    // A repairing writer names the torn line before it: that line was never durable for anyone.
    if (typeof v['torn'] === 'number' && recBytes.at(-1) === v['torn']) {
      out.records.pop();
      recBytes.pop();
    }
    const epoch = Number(v['epoch']);
    if (m[1] === 'lease') {
      out.lease = { epoch, nonce: String(v['nonce'] ?? ''), ttlMs: Number(v['ttlMs'] ?? 60_000), ...(parseHolder(v['holder']) ? { holder: parseHolder(v['holder']) } : {}) };
      out.held = true;
    } else if (m[1] === 'release') {
      if (out.lease && epoch === out.lease.epoch) out.held = false;
    } else if (m[1] === 'seal') {
      out.sealedTo = Number(v['next']);
    }
  }
  // A complete last line that is not JSON is torn too (as the file journal treats it).
  if (!out.torn && lines.length > 1) {
    const last = out.records.at(-1);
    if (last !== undefined && lines.at(-1) === last) {
      try {
        JSON.parse(last);
      } catch {
        out.records.pop();
        out.torn = { bytes: Buffer.byteLength(last), needsNewline: false };
        out.warnings.push(`${where}: dropped an unreadable last line ${lines.length} (a write was interrupted)`);
      }
    }
  }
  out.crc = crc64Update(CRC64_EMPTY, body);
  return out;
}

function isConflict(e: unknown): e is OssError {
  return e instanceof OssError && e.status === 409 && e.code === 'PositionNotEqualToLength';
}

class OssBackend implements StateBackend {
  readonly kind = 'oss' as const;
  readonly location: string;
  readonly client: OssClient;
  readonly timing: LeaseTiming;
  readonly clock: LeaseClock;
  readonly prefix: string;

  constructor(readonly opts: OssBackendOptions) {
    this.prefix = opts.prefix.replace(/^\/+|\/+$/g, '');
    if (this.prefix === '') throw new StateError('the OSS state prefix must not be empty');
    this.location = `oss://${opts.bucket}/${this.prefix}`;
    this.timing = opts.timing ?? leaseTiming(60_000);
    this.clock = opts.clock ?? realClock;
    this.client = new OssClient({
      endpoint: opts.endpoint,
      bucket: opts.bucket,
      credentials: opts.credentials,
      ...(opts.region ? { region: opts.region } : {}),
      ...(opts.pathStyle !== undefined ? { pathStyle: opts.pathStyle } : {}),
      ...(opts.requestTimeoutMs ? { timeoutMs: opts.requestTimeoutMs } : {}),
    });
  }

  fail(what: string, e: unknown): StateError {
    if (e instanceof StateError) return e;
    return new StateBackendError(`${what} ${this.location}: ${errText(e)}`);
  }

  /** Reads and transport hiccups are retried (they change nothing); appends never through this. */
  async retry<T>(what: string, op: () => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await op();
      } catch (e) {
        if (!(e instanceof OssError) || !e.ambiguous || attempt >= MAX_ATTEMPTS) throw this.fail(what, e);
        await this.clock.sleep(50 * 2 ** attempt);
      }
    }
  }

  async gens(): Promise<number[]> {
    const keys = await this.retry('cannot list', () => this.client.listAll(`${this.prefix}/journal.`));
    return keys
      .map((k) => /\/journal\.(\d{8})\.jsonl$/.exec(k.key)?.[1])
      .filter((g): g is string => g !== undefined && k0(g))
      .map(Number)
      .sort((a, b) => a - b);
  }

  async getGen(gen: number): Promise<Gen | undefined> {
    const key = genKey(this.prefix, gen);
    const got = await this.retry('cannot read', () => this.client.get(key));
    return got ? parseGen(this.prefix, gen, got.body, `${this.location} ${key}`) : undefined;
  }

  /**
   * The live generation: the newest whose predecessor is sealed into it (an unsealed newest one is a compaction
   * that lost its race and is ignored), followed through seals that land while we read.
   */
  async live(): Promise<Gen | undefined> {
    for (let attempt = 0; attempt < 5; attempt++) {
      const gens = await this.gens();
      const top = gens.at(-1);
      if (top === undefined) return undefined;
      let gen = top;
      if (gens.includes(top - 1) && !(await this.sealedInto(top - 1, top))) gen = top - 1;
      for (let hops = 0; hops < 10; hops++) {
        const g = await this.getGen(gen);
        if (!g) break; // deleted by a cleanup meanwhile: list again
        if (g.sealedTo === undefined) return g;
        gen = g.sealedTo;
      }
    }
    throw new StateBackendError(`cannot find the live journal generation in ${this.location}: it kept changing under us`);
  }

  /** Whether generation `gen` ends with a seal into `next`: its last few KB suffice (the seal is its last line). */
  async sealedInto(gen: number, next: number): Promise<boolean> {
    const key = genKey(this.prefix, gen);
    const info = await this.retry('cannot read', () => this.client.head(key));
    if (!info) return false;
    const start = Math.max(0, info.length - 4096);
    const tail = await this.retry('cannot read', () => this.client.get(key, { start, end: info.length }));
    const last = tail?.body.toString('utf8').split('\n').filter((l) => l !== '').at(-1) ?? '';
    if (!last.startsWith('{"t":"seal"')) return false;
    try {
      return (JSON.parse(last) as { next?: unknown }).next === next;
    } catch {
      return false;
    }
  }

  async read(): Promise<LogRead | undefined> {
    const g = await this.live();
    // An estate that was leased but never written (a first apply that refused its plan) holds only lease records:
    // it reads as absent, as on PostgreSQL; else every later plan or status would call it a journal without a header.
    if (!g || (g.records.length === 0 && g.warnings.length === 0)) return undefined;
    return { records: g.records, warnings: g.warnings };
  }

  /**
   * Appends `body` at `position` of `key`, exactly once: a lost answer is resolved by reading back what is at
   * `position`. 'landed' (ours is there, maybe with more after it when `next` > position + length), or 'taken'
   * (someone else's bytes are there).
   */
  async casAppend(key: string, position: number, body: Buffer, sse: boolean): Promise<{ outcome: 'landed' | 'taken'; next: number; crc?: string }> {
    for (let attempt = 1; ; attempt++) {
      try {
        const r = await this.client.append(key, position, body, { sse: sse && position === 0 });
        return { outcome: 'landed', next: r.nextPosition, ...(r.crc64 ? { crc: r.crc64 } : {}) };
      } catch (e) {
        if (isConflict(e)) {
          const next = Number(e.headers['x-oss-next-append-position'] ?? NaN);
          // The docs allow a conflict "because of concurrency" even at the right position: nothing landed, try again.
          if (next === position && attempt < MAX_ATTEMPTS) continue;
          const there = await this.retry('cannot read back', () => this.client.get(key, { start: position, end: position + body.length }));
          if (there?.body.equals(body)) return { outcome: 'landed', next: Number.isFinite(next) ? next : there.length };
          return { outcome: 'taken', next };
        }
        if (e instanceof OssError && e.status === 404) return { outcome: 'taken', next: NaN };
        if (e instanceof OssError && e.ambiguous && attempt < MAX_ATTEMPTS) {
          // No answer: it may have landed. The retry at the same position tells (200: it had not; 409: read back).
          await this.clock.sleep(50 * 2 ** attempt);
          continue;
        }
        throw this.fail('cannot append to', e);
      }
    }
  }

  leaseLine(epoch: number, nonce: string, holder: HolderInfo, extra: Record<string, unknown> = {}): string {
    return JSON.stringify({ t: 'lease', epoch, nonce, holder, ttlMs: this.timing.ttlMs, ...extra });
  }

  async acquire(a: AcquireOptions): Promise<Lease> {
    const warn = a.onWarning ?? (() => undefined);
    const waitUntil = this.clock.now() + (a.waitMs ?? 0);
    // What the current holder's object looked like and since when, on OUR clock: only its change counts.
    let seen: { sig: string; since: number } | undefined;
    let announced = false;
    let judged: { from?: HolderInfo; why: string } | undefined;
    let last: Gen | undefined;
    for (;;) {
      a.signal?.throwIfAborted();
      // While watching a holder, a HEAD tells whether its object moved; only a change (or a takeover) needs a full read.
      let g: Gen | undefined;
      if (last && seen) {
        const key = last.key;
        const h = await this.retry('cannot read', () => this.client.head(key));
        g = h?.length === last.length ? last : await this.live();
      } else {
        g = await this.live();
      }
      last = g;
      const now = this.clock.now();
      if (g?.held && g.lease) {
        const sig = `${g.gen}:${g.length}`;
        const ttl = Math.max(g.lease.ttlMs, this.timing.ttlMs);
        if (!seen || seen.sig !== sig) {
          // Moved since we last looked (or first look): the holder is alive as far as we can tell.
          const moved = seen !== undefined;
          seen = { sig, since: now };
          if (moved && now >= waitUntil) throw this.busy(g.lease.holder);
        } else if (now - seen.since >= ttl) {
          judged = { ...(g.lease.holder ? { from: g.lease.holder } : {}), why: `its journal did not change for ${Math.round((now - seen.since) / 1000)} s (ttl ${Math.round(ttl / 1000)} s)` };
        }
        if (!judged) {
          if (!announced) {
            announced = true;
            warn(`state ${this.location} is leased by ${describeHolder(g.lease.holder)}; watching it for up to ${Math.round(ttl / 1000)} s before treating it as abandoned`);
          }
          await this.clock.sleep(this.timing.pollMs, a.signal);
          continue;
        }
      }
      const epoch = (g?.lease?.epoch ?? 0) + 1;
      const nonce = randomUUID();
      const gen = g?.gen ?? 1;
      const key = genKey(this.prefix, gen);
      const torn = g?.torn;
      const line = this.leaseLine(epoch, nonce, a.holder, torn ? { torn: torn.bytes } : {});
      const body = Buffer.from(`${torn?.needsNewline ? '\n' : ''}${line}\n`, 'utf8');
      const position = g?.length ?? 0;
      const sentAt = this.clock.now();
      const r = await this.casAppend(key, position, body, true);
      if (r.outcome === 'taken' || r.next !== position + body.length) {
        // Someone appended first (or right after us): look again.
        seen = undefined;
        judged = undefined;
        last = undefined;
        continue;
      }
      const log: LogRead = { records: g?.records ?? [], warnings: g?.warnings ?? [] };
      log.warnings.forEach(warn);
      if (judged) warn(`took over the lease on ${this.location} from ${describeHolder(judged.from)}: ${judged.why}`);
      const crc = crc64Update(g?.crc ?? CRC64_EMPTY, body);
      if (r.crc !== undefined && r.crc !== crc64String(crc)) throw new StateBackendError(`${this.location} ${key}: its crc64 is not what we wrote; the journal cannot be trusted`);
      return new OssLease({ epoch, token: `${epoch}:${nonce}`, log, takeover: judged, confirmedAt: sentAt }, this, { gen, length: r.next, crc }, a.holder, nonce);
    }
  }

  busy(holder: HolderInfo | undefined): LeaseBusyError {
    return new LeaseBusyError(`state ${this.location} is leased by ${describeHolder(holder)}; another apply is running (it heartbeats: its journal keeps changing)`, holder);
  }

  async status(): Promise<LeaseStatus> {
    const g = await this.live();
    if (!g?.lease) return { held: false };
    return { held: g.held, epoch: g.lease.epoch, ...(g.lease.holder ? { holder: g.lease.holder } : {}) };
  }

  async breakLease(onWarning?: (message: string) => void): Promise<HolderInfo | undefined> {
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const g = await this.live();
      if (!g?.held || !g.lease) return undefined;
      const body = Buffer.from(`${g.torn?.needsNewline ? '\n' : ''}${JSON.stringify({ t: 'release', epoch: g.lease.epoch, forced: true })}\n`, 'utf8');
      const r = await this.casAppend(g.key, g.length, body, false);
      if (r.outcome === 'landed') {
        onWarning?.(`removed the lease on ${this.location} held by ${describeHolder(g.lease.holder)}`);
        return g.lease.holder;
      }
    }
    throw new StateBackendError(`could not break the lease on ${this.location}: its journal kept changing`);
  }

  async close(): Promise<void> {
    this.client.close();
  }
}

function k0(g: string): boolean {
  return /^\d{8}$/.test(g);
}

class OssLease extends LeaseBase {
  private lastAppendSentAt: number;

  constructor(
    core: LeaseCore,
    private readonly b: OssBackend,
    /** Where we append: the live generation, its length and crc as we know them. */
    private pos: { gen: number; length: number; crc: Crc64 },
    private readonly holder: HolderInfo,
    private readonly nonce: string,
  ) {
    super(core, b.timing, b.clock, `state ${b.location}`);
    this.lastAppendSentAt = core.confirmedAt;
    this.start();
  }

  private get key(): string {
    return genKey(this.b.prefix, this.pos.gen);
  }

  /** Appends at our position; someone else's bytes there mean our tenure is over. */
  private async put(body: Buffer): Promise<void> {
    const sentAt = this.clock.now();
    const r = await this.b.casAppend(this.key, this.pos.length, body, false);
    if (r.outcome === 'taken') throw new LeaseLostError(`lost the lease on ${this.b.location}: another runner appended to the journal (took over or broke the lease); stopped`);
    const crc = crc64Update(this.pos.crc, body);
    const expected = this.pos.length + body.length;
    this.pos = { ...this.pos, length: expected, crc };
    this.lastAppendSentAt = sentAt;
    if (r.crc !== undefined && r.next === expected && r.crc !== crc64String(crc)) {
      throw new StateBackendError(`${this.b.location} ${this.key}: its crc64 is not what we wrote; the journal cannot be trusted`);
    }
    // Ours landed, but something came right after it: durable, and still the end of our tenure.
    if (r.next !== expected) throw new LeaseLostError(`lost the lease on ${this.b.location} right after a batch landed; stopped`, true);
  }

  protected async doAppend(records: readonly LogRecord[]): Promise<void> {
    for (const r of records) if (CONTROL.test(r)) throw new StateError('journal records must not use the OSS backend’s record types (lease, release, beat, seal)');
    await this.put(Buffer.from(records.join('\n') + '\n', 'utf8'));
  }

  protected async doCompact(snapshot: readonly LogRecord[]): Promise<void> {
    for (const r of snapshot) if (CONTROL.test(r)) throw new StateError('journal records must not use the OSS backend’s record types (lease, release, beat, seal)');
    const next = this.pos.gen + 1;
    const nextKey = genKey(this.b.prefix, next);
    // The new generation starts with our lease, so the tenure carries over to it unchanged.
    const body = Buffer.from([this.b.leaseLine(this.epoch ?? 0, this.nonce, this.holder, { carried: true }), ...snapshot].join('\n') + '\n', 'utf8');
    let created = await this.b.casAppend(nextKey, 0, body, true);
    if (created.outcome === 'taken') {
      // A leftover of a compaction that lost its race (never sealed into): ours to clear while our gen is unsealed.
      const mine = await this.b.retry('cannot read', () => this.b.client.head(this.key));
      if (mine?.length !== this.pos.length) throw new LeaseLostError(`lost the lease on ${this.b.location}: its journal changed under us; stopped`);
      await this.b.retry('cannot delete', () => this.b.client.delete(nextKey));
      created = await this.b.casAppend(nextKey, 0, body, true);
      if (created.outcome === 'taken') throw new StateBackendError(`cannot start a new journal generation ${nextKey} in ${this.b.location}: it keeps appearing`);
    }
    // The seal is the switch: it lands only at our position, so only while we hold the lease.
    const seal = Buffer.from(JSON.stringify({ t: 'seal', next, epoch: this.epoch }) + '\n', 'utf8');
    try {
      await this.put(seal);
    } catch (e) {
      if (e instanceof LeaseLostError && !e.landed) await this.b.client.delete(nextKey).catch(() => undefined);
      throw e;
    }
    this.pos = { gen: next, length: body.length, crc: crc64Update(CRC64_EMPTY, body) };
    await this.cleanup(next).catch(() => undefined);
  }

  /** Old generations go once nobody can need them: keep `keepGenerations` behind the live one. */
  private async cleanup(live: number): Promise<void> {
    const keep = this.b.opts.keepGenerations ?? 1;
    for (const g of await this.b.gens()) if (g < live - keep) await this.b.client.delete(genKey(this.b.prefix, g));
  }

  protected async doHeartbeat(): Promise<boolean> {
    // Any append shows we are alive; only a quiet holder spends a PUT on a beat.
    if (this.clock.now() - this.lastAppendSentAt < this.timing.heartbeatMs / 2) return false;
    await this.put(Buffer.from(JSON.stringify({ t: 'beat', epoch: this.epoch }) + '\n', 'utf8'));
    return true;
  }

  protected async doRelease(held: boolean): Promise<void> {
    if (held) {
      // A release that finds someone else's bytes at our position releases nothing: the lease is theirs.
      await this.b.casAppend(this.key, this.pos.length, Buffer.from(JSON.stringify({ t: 'release', epoch: this.epoch }) + '\n', 'utf8'), false).catch(() => undefined);
    }
  }

  protected doAbandon(): void {
    // No synchronous OSS call exists: the lease ends by its ttl, as after a kill.
  }
}
