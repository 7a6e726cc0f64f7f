// The PostgreSQL backend: journal rows fenced by an epoch, the lease an advisory lock on one dedicated session.
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { StateError } from '../../errors.js';
import { redactUrl } from './url.js';
import { describeHolder, errText, LeaseBase, parseHolder, type LeaseCore } from './lease.js';
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

export interface PostgresKeepalive {
  /** Server-side TCP keepalive: idle seconds before the first probe (default 10). */
  idleS?: number;
  /** Seconds between probes (default 5). */
  intervalS?: number;
  /** Probes lost before the server drops the session (default 3). */
  count?: number;
  /** Server-side tcp_user_timeout: unacknowledged data older than this ends the session (default 30 000 ms). */
  userTimeoutMs?: number;
}

export interface PostgresBackendOptions {
  /**
   * libpq-style URL (`postgres://user:pass@host:5432/db?sslmode=require`); the password is never printed. Connect
   * directly or through session pooling: a transaction pooler (PgBouncer pool_mode=transaction) cannot keep the
   * lease's session, so liveness breaks there (epoch fencing still holds). PostgreSQL 14 or newer.
   */
  url: string;
  /** The estate's name: one journal, one lease. */
  estate: string;
  /** Schema for the two tables (default `cgw_batch`). */
  schema?: string;
  /**
   * ttl is the lease session's idle_session_timeout on the server: a holder that stops talking (frozen, its
   * network cut) loses its session, and so its advisory lock, that long after its last statement. Default 60 s.
   */
  timing?: LeaseTiming;
  keepalive?: PostgresKeepalive;
  /** Our own deadline per statement (default 15 s): a statement that gets no answer ends the connection. */
  queryTimeoutMs?: number;
  connectTimeoutMs?: number;
  clock?: LeaseClock;
}

/** First key of the two-int advisory lock: "cgwb", so our locks never meet another tool's one-key locks. */
const LOCK_CLASS = 0x63677762 | 0;

const DEFAULT_KEEPALIVE: Required<PostgresKeepalive> = { idleS: 10, intervalS: 5, count: 3, userTimeoutMs: 30_000 };

export function openPostgresBackend(opts: PostgresBackendOptions): StateBackend {
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(opts.schema ?? 'cgw_batch')) throw new StateError(`invalid schema name ${JSON.stringify(opts.schema)}`);
  if (opts.estate === '' || opts.estate.length > 512) throw new StateError('the estate name must be 1-512 characters');
  return new PostgresBackend(opts);
}

/** SQLSTATEs that are answers from the server (the statement ran and failed), not lost connections. */
function sqlState(e: unknown): string | undefined {
  const c = (e as { code?: unknown } | undefined)?.code;
  return typeof c === 'string' && /^[0-9A-Z]{5}$/.test(c) ? c : undefined;
}

class PostgresBackend implements StateBackend {
  readonly kind = 'postgres' as const;
  readonly location: string;
  readonly timing: LeaseTiming;
  readonly clock: LeaseClock;
  readonly s: string;
  private pool: pg.Pool | undefined;
  private schemaReady: Promise<void> | undefined;

  constructor(readonly opts: PostgresBackendOptions) {
    this.location = `${redactUrl(opts.url)}#${opts.estate}`;
    this.timing = opts.timing ?? leaseTiming(60_000);
    this.clock = opts.clock ?? realClock;
    this.s = opts.schema ?? 'cgw_batch';
  }

  /** Connection settings shared by the pool (reads) and the lease's own session. */
  clientConfig(forLease: boolean): pg.ClientConfig {
    const k = { ...DEFAULT_KEEPALIVE, ...this.opts.keepalive };
    // Server-side settings travel in the startup packet, so they hold from the session's first moment. The
    // keepalives and tcp_user_timeout end the session when our host vanishes; idle_session_timeout ends it when we
    // go silent while connected (a frozen process, a stalled proxy): that is what frees the advisory lock.
    const settings = [
      `-c tcp_keepalives_idle=${k.idleS}`,
      `-c tcp_keepalives_interval=${k.intervalS}`,
      `-c tcp_keepalives_count=${k.count}`,
      `-c tcp_user_timeout=${k.userTimeoutMs}`,
      ...(forLease ? [`-c idle_session_timeout=${this.timing.ttlMs}`] : []),
      `-c statement_timeout=${this.opts.queryTimeoutMs ?? 15_000}`,
    ];
    return {
      connectionString: this.opts.url,
      options: settings.join(' '),
      application_name: forLease ? 'cgw-batch lease' : 'cgw-batch',
      keepAlive: true,
      keepAliveInitialDelayMillis: k.idleS * 1000,
      connectionTimeoutMillis: this.opts.connectTimeoutMs ?? 10_000,
      query_timeout: this.opts.queryTimeoutMs ?? 15_000,
    };
  }

  private getPool(): pg.Pool {
    if (!this.pool) {
      this.pool = new pg.Pool({ ...this.clientConfig(false), max: 2, idleTimeoutMillis: 5_000, allowExitOnIdle: true });
      // An idle pooled connection that breaks emits here; the next query reconnects.
      this.pool.on('error', () => undefined);
    }
    return this.pool;
  }

  fail(what: string, e: unknown): StateError {
    if (e instanceof StateError) return e;
    // pg errors can quote the connection string's parts in some paths: say only the state and the message.
    return new StateBackendError(`${what} ${this.location}: ${errText(e).replace(/postgres(ql)?:\/\/\S+/g, (u) => redactUrl(u))}`);
  }

  ensureSchema(q: (sql: string, params?: unknown[]) => Promise<pg.QueryResult>): Promise<void> {
    this.schemaReady ??= (async () => {
      // Concurrent CREATE ... IF NOT EXISTS can still collide in the catalogs: one creator at a time.
      await q(`BEGIN`);
      try {
        await q(`SELECT pg_advisory_xact_lock($1, 0)`, [LOCK_CLASS]);
        await q(`CREATE SCHEMA IF NOT EXISTS ${this.s}`);
        await q(`CREATE TABLE IF NOT EXISTS ${this.s}.estates (
          estate text PRIMARY KEY,
          epoch bigint NOT NULL,
          holder jsonb,
          heartbeat_at timestamptz,
          base_seq bigint NOT NULL DEFAULT 1)`);
        await q(`CREATE TABLE IF NOT EXISTS ${this.s}.journal (
          estate text NOT NULL,
          seq bigint NOT NULL,
          epoch bigint NOT NULL,
          rec json NOT NULL,
          PRIMARY KEY (estate, seq))`);
        await q(`COMMIT`);
      } catch (e) {
        await q(`ROLLBACK`).catch(() => undefined);
        throw e;
      }
    })().catch((e: unknown) => {
      this.schemaReady = undefined;
      throw e;
    });
    return this.schemaReady;
  }

  /** The snapshot and its tail in one statement, so one MVCC snapshot: a compaction is seen whole or not at all. */
  readSql(): string {
    return `SELECT e.base_seq, j.seq, j.rec::text AS rec
      FROM ${this.s}.estates e LEFT JOIN ${this.s}.journal j ON j.estate = e.estate AND j.seq >= e.base_seq
      WHERE e.estate = $1 ORDER BY j.seq`;
  }

  async read(): Promise<LogRead | undefined> {
    try {
      const r = await this.getPool().query<{ base_seq: string; seq: string | null; rec: string | null }>(this.readSql(), [this.opts.estate]);
      if (r.rows.length === 0) return undefined;
      const records = r.rows.filter((x) => x.rec !== null).map((x) => x.rec as string);
      // An estate that was locked but never written reads as absent, like a file backend's missing file.
      if (records.length === 0) return undefined;
      return { records, warnings: [] };
    } catch (e) {
      if (sqlState(e) === '42P01') return undefined; // no tables yet: nothing was ever written
      throw this.fail('cannot read the journal in', e);
    }
  }

  /** A new session for the lease, with our server-side timeouts; `error` events are turned into a lost lease. */
  async connect(): Promise<{ client: pg.Client; backendPid: number }> {
    const client = new pg.Client(this.clientConfig(true));
    client.on('error', () => undefined);
    try {
      await client.connect();
      const r = await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
      return { client, backendPid: r.rows[0]?.pid ?? 0 };
    } catch (e) {
      await client.end().catch(() => undefined);
      if (/idle_session_timeout/.test(errText(e))) {
        throw new StateBackendError(`${this.location}: the lease needs PostgreSQL 14 or newer (its idle_session_timeout ends a silent holder's session)`);
      }
      throw e;
    }
  }

  async acquire(a: AcquireOptions): Promise<Lease> {
    const warn = a.onWarning ?? (() => undefined);
    const estate = this.opts.estate;
    let conn: { client: pg.Client; backendPid: number };
    try {
      conn = await this.connect();
    } catch (e) {
      throw this.fail('cannot connect to', e);
    }
    const { client } = conn;
    const q = (sql: string, params?: unknown[]) => client.query(sql, params);
    try {
      await this.ensureSchema(q);
      const waitUntil = this.clock.now() + (a.waitMs ?? 0);
      let announced = false;
      for (;;) {
        const got = await q(`SELECT pg_try_advisory_lock($1, hashtext($2)) AS ok`, [LOCK_CLASS, estate]);
        if (got.rows[0]?.ok === true) break;
        const current = await q(`SELECT holder FROM ${this.s}.estates WHERE estate = $1`, [estate]);
        const h = parseHolder(current.rows[0]?.holder);
        if (this.clock.now() >= waitUntil) {
          throw new LeaseBusyError(
            `state ${this.location} is locked by ${describeHolder(h)}; another apply is running (its lease ends when its database session does)`,
            h,
          );
        }
        if (!announced) {
          announced = true;
          warn(`state ${this.location} is locked by ${describeHolder(h)}; waiting up to ${Math.round((a.waitMs ?? 0) / 1000)} s`);
        }
        await this.clock.sleep(this.timing.pollMs, a.signal);
      }
      const sentAt = this.clock.now();
      // The epoch bump fences every earlier holder: their inserts check the epoch under FOR SHARE, which waits for
      // this update, so each of them either committed before it (and we read it below) or is refused after.
      await q('BEGIN');
      let prior: HolderInfo | undefined;
      let epoch: number;
      let baseSeq: number;
      try {
        await q(`INSERT INTO ${this.s}.estates (estate, epoch) VALUES ($1, 0) ON CONFLICT (estate) DO NOTHING`, [estate]);
        const before = await q(`SELECT holder FROM ${this.s}.estates WHERE estate = $1 FOR UPDATE`, [estate]);
        prior = parseHolder(before.rows[0]?.holder);
        const up = await q(
          `UPDATE ${this.s}.estates SET epoch = epoch + 1, holder = $2, heartbeat_at = now() WHERE estate = $1 RETURNING epoch, base_seq`,
          [estate, JSON.stringify(a.holder)],
        );
        epoch = Number(up.rows[0]?.epoch);
        baseSeq = Number(up.rows[0]?.base_seq);
        await q('COMMIT');
      } catch (e) {
        await q('ROLLBACK').catch(() => undefined);
        throw e;
      }
      const rows = await q(`SELECT seq, rec::text AS rec FROM ${this.s}.journal WHERE estate = $1 AND seq >= $2 ORDER BY seq`, [estate, baseSeq]);
      const records = rows.rows.map((r) => r.rec as string);
      const last = rows.rows.at(-1);
      const nextSeq = last ? Number(last.seq) + 1 : baseSeq;
      // A holder still named in the row never released: its session ended without it (killed, cut off, frozen).
      const takeover = prior ? { from: prior, why: 'its database session ended without releasing (the process died, froze or lost its network)' } : undefined;
      if (takeover) warn(`took over the lease on ${this.location} from ${describeHolder(prior)}: ${takeover.why}`);
      return new PostgresLease(
        { epoch, token: `${epoch}:${randomUUID()}`, log: { records, warnings: [] }, takeover, confirmedAt: sentAt },
        this,
        conn,
        nextSeq,
        a.holder,
      );
    } catch (e) {
      await client.end().catch(() => undefined);
      if (e instanceof StateError) throw e;
      throw this.fail('cannot take the lease on', e);
    }
  }

  async status(): Promise<LeaseStatus> {
    try {
      const r = await this.getPool().query(
        `SELECT e.epoch, e.holder, EXISTS (SELECT 1 FROM pg_locks l WHERE l.locktype = 'advisory' AND l.granted
           AND l.classid = ($2::int)::oid AND l.objid = (hashtext($1))::oid AND l.objsubid = 2) AS held
         FROM ${this.s}.estates e WHERE e.estate = $1`,
        [this.opts.estate, LOCK_CLASS],
      );
      const row = r.rows[0];
      if (!row) return { held: false };
      const holder = parseHolder(row.holder);
      return { held: row.held === true, epoch: Number(row.epoch), ...(holder ? { holder } : {}) };
    } catch (e) {
      if (sqlState(e) === '42P01') return { held: false };
      throw this.fail('cannot read the lease of', e);
    }
  }

  async breakLease(onWarning?: (message: string) => void): Promise<HolderInfo | undefined> {
    const pool = this.getPool();
    try {
      // Fence first (the epoch moves: the old holder's next insert or beat is refused), then end its session so
      // the advisory lock is free for the next runner.
      const r = await pool.query(
        `UPDATE ${this.s}.estates e SET epoch = e.epoch + 1, holder = NULL FROM (SELECT holder FROM ${this.s}.estates WHERE estate = $1 FOR UPDATE) old
         WHERE e.estate = $1 RETURNING old.holder`,
        [this.opts.estate],
      );
      const holder = parseHolder(r.rows[0]?.holder);
      await pool.query(
        `SELECT pg_terminate_backend(l.pid) FROM pg_locks l WHERE l.locktype = 'advisory' AND l.granted
           AND l.classid = ($2::int)::oid AND l.objid = (hashtext($1))::oid AND l.objsubid = 2`,
        [this.opts.estate, LOCK_CLASS],
      );
      if (holder) onWarning?.(`removed the lease on ${this.location} held by ${describeHolder(holder)}`);
      return holder;
    } catch (e) {
      if (sqlState(e) === '42P01') return undefined;
      throw this.fail('cannot break the lease on', e);
    }
  }

  async close(): Promise<void> {
    const p = this.pool;
    this.pool = undefined;
    await p?.end().catch(() => undefined);
  }
}

class PostgresLease extends LeaseBase {
  private client: pg.Client | undefined;
  private backendPid: number;

  constructor(
    core: LeaseCore,
    private readonly b: PostgresBackend,
    conn: { client: pg.Client; backendPid: number },
    private nextSeq: number,
    private readonly holder: HolderInfo,
  ) {
    super(core, b.timing, b.clock, `state ${b.location}`);
    this.client = conn.client;
    this.backendPid = conn.backendPid;
    this.start();
  }

  private get estate(): string {
    return this.b.opts.estate;
  }

  /**
   * Our session, or a new one continuing the same tenure: after a lost connection the advisory lock is free (or
   * held by our own dying session, which we end); if we get it back and the epoch is still ours, nobody took over
   * in between (a taker bumps the epoch under that lock). Anything else: the lease is lost.
   */
  private async session(): Promise<pg.Client> {
    if (this.client) return this.client;
    const conn = await this.b.connect();
    const q = (sql: string, params?: unknown[]) => conn.client.query(sql, params);
    try {
      for (let i = 0; ; i++) {
        const got = await q(`SELECT pg_try_advisory_lock($1, hashtext($2)) AS ok`, [LOCK_CLASS, this.estate]);
        if (got.rows[0]?.ok === true) break;
        const ours = await q(
          `SELECT pg_terminate_backend(l.pid) AS t FROM pg_locks l WHERE l.locktype = 'advisory' AND l.granted AND l.pid = $3
             AND l.classid = ($2::int)::oid AND l.objid = (hashtext($1))::oid AND l.objsubid = 2`,
          [this.estate, LOCK_CLASS, this.backendPid],
        );
        if (ours.rows.length === 0 || i >= 20) throw new LeaseLostError(`lost the lease on ${this.b.location}: another runner holds it now; stopped`);
        await this.b.clock.sleep(50);
      }
      const e = await q(`SELECT epoch FROM ${this.b.s}.estates WHERE estate = $1`, [this.estate]);
      if (Number(e.rows[0]?.epoch) !== this.epoch) {
        await q(`SELECT pg_advisory_unlock($1, hashtext($2))`, [LOCK_CLASS, this.estate]).catch(() => undefined);
        throw new LeaseLostError(`lost the lease on ${this.b.location}: it was taken over (epoch ${String(e.rows[0]?.epoch)}, ours ${this.epoch}); stopped`);
      }
    } catch (e) {
      await conn.client.end().catch(() => undefined);
      throw e;
    }
    this.client = conn.client;
    this.backendPid = conn.backendPid;
    return conn.client;
  }

  /** Runs `op` on our session; a lost connection is dropped and, for `retry`, the op runs once more on a new one. */
  private async run<T>(op: (c: pg.Client) => Promise<T>, retryable: boolean): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      const c = await this.session();
      try {
        return await op(c);
      } catch (e) {
        if (e instanceof StateError || sqlState(e)) throw e;
        // No answer: the connection is unusable (and the statement's outcome unknown). End it; try once more.
        this.drop();
        if (!retryable || attempt >= 1) throw this.b.fail('lost the connection to', e);
      }
    }
  }

  private drop(): void {
    const c = this.client;
    this.client = undefined;
    void c?.end().catch(() => undefined);
  }

  protected async doAppend(records: readonly LogRecord[]): Promise<void> {
    const seq = this.nextSeq;
    const s = this.b.s;
    let ambiguous = false;
    await this.run(async (c) => {
      if (ambiguous) {
        // The previous attempt's answer was lost: did it commit? Our epoch's rows at our seqs can only be ours.
        const r = await c.query<{ n: string; same: boolean }>(
          `SELECT count(*) AS n, bool_and(j.rec::text = u.r) AS same FROM unnest($4::text[]) WITH ORDINALITY AS u(r, o)
             JOIN ${s}.journal j ON j.estate = $1 AND j.seq = $2::bigint + u.o - 1 AND j.epoch = $3`,
          [this.estate, seq, this.epoch, records],
        );
        const n = Number(r.rows[0]?.n);
        if (n === records.length && r.rows[0]?.same === true) return;
        if (n !== 0) throw new StateBackendError(`journal rows at ${seq}.. in ${this.b.location} differ from the batch we sent; stopped`);
      }
      ambiguous = true;
      try {
        const r = await c.query(
          `INSERT INTO ${s}.journal (estate, seq, epoch, rec)
           SELECT $1, $2::bigint + u.o - 1, $3, u.r::json FROM unnest($4::text[]) WITH ORDINALITY AS u(r, o)
           WHERE (SELECT epoch FROM ${s}.estates WHERE estate = $1 FOR SHARE) = $3`,
          [this.estate, seq, this.epoch, records],
        );
        if (r.rowCount !== records.length) throw new LeaseLostError(`lost the lease on ${this.b.location}: another runner took it over (our epoch ${this.epoch} is over); stopped`);
      } catch (e) {
        if (sqlState(e) === '22P02' || sqlState(e) === '22025') throw new StateError(`a journal record is not valid JSON for ${this.b.location}`);
        throw e;
      }
    }, true);
    this.nextSeq = seq + records.length;
  }

  protected async doCompact(snapshot: readonly LogRecord[]): Promise<void> {
    const s = this.b.s;
    const base = this.nextSeq;
    let ambiguous = false;
    await this.run(async (c) => {
      if (ambiguous) {
        const r = await c.query(`SELECT base_seq FROM ${s}.estates WHERE estate = $1 AND epoch = $2`, [this.estate, this.epoch]);
        if (Number(r.rows[0]?.base_seq) === base) return;
      }
      ambiguous = true;
      // One transaction: the snapshot rows continue the sequence and base_seq moves to them; readers (one
      // statement, one MVCC snapshot) see the old log or the new one.
      await c.query('BEGIN');
      try {
        const up = await c.query(`UPDATE ${s}.estates SET base_seq = $3, heartbeat_at = now() WHERE estate = $1 AND epoch = $2`, [this.estate, this.epoch, base]);
        if (up.rowCount !== 1) throw new LeaseLostError(`lost the lease on ${this.b.location}: another runner took it over; stopped`);
        await c.query(
          `INSERT INTO ${s}.journal (estate, seq, epoch, rec) SELECT $1, $2::bigint + u.o - 1, $3, u.r::json FROM unnest($4::text[]) WITH ORDINALITY AS u(r, o)`,
          [this.estate, base, this.epoch, snapshot],
        );
        await c.query(`DELETE FROM ${s}.journal WHERE estate = $1 AND seq < $2`, [this.estate, base]);
        await c.query('COMMIT');
      } catch (e) {
        await c.query('ROLLBACK').catch(() => undefined);
        throw e;
      }
    }, true);
    this.nextSeq = base + snapshot.length;
  }

  protected async doHeartbeat(): Promise<void> {
    await this.run(async (c) => {
      const r = await c.query(`UPDATE ${this.b.s}.estates SET heartbeat_at = now() WHERE estate = $1 AND epoch = $2`, [this.estate, this.epoch]);
      if (r.rowCount !== 1) throw new LeaseLostError(`lost the lease on ${this.b.location}: another runner took it over or it was broken; stopped`);
    }, true);
  }

  protected override onLost(): void {
    this.drop();
  }

  protected async doRelease(held: boolean): Promise<void> {
    const c = this.client;
    this.client = undefined;
    if (!c) return;
    try {
      if (held) {
        // Only our own tenure's row is cleared; the unlock is on the same session that locked.
        await c.query(`UPDATE ${this.b.s}.estates SET holder = NULL, heartbeat_at = now() WHERE estate = $1 AND epoch = $2`, [this.estate, this.epoch]);
        await c.query(`SELECT pg_advisory_unlock($1, hashtext($2))`, [LOCK_CLASS, this.estate]);
      }
    } catch {
      // The session ends below either way, which frees the advisory lock.
    } finally {
      await c.end().catch(() => undefined);
    }
  }

  protected doAbandon(): void {
    this.drop();
  }

  /** For tests: the server pid of our session. */
  get sessionPid(): number {
    return this.backendPid;
  }

  get who(): HolderInfo {
    return this.holder;
  }
}
