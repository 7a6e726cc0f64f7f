// The PostgreSQL backend against a real server this file starts (Debian's postgresql): conformance, fencing, a cut network.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { after, before, test } from 'node:test';
import pg from 'pg';
import { openPostgresBackend, type PostgresBackendOptions } from '../../../src/state/backend/postgres.js';
import { LeaseLostError, leaseTiming, type Lease } from '../../../src/state/backend/types.js';
import { conformance, type EstateFixture } from './conformance.js';
import { startPgServer, type PgServer } from './pg-server.js';
import { startTcpProxy, type TcpProxy } from './tcp-proxy.js';

const TTL = 2_000;
let server: PgServer;
let db: string;
const proxies: TcpProxy[] = [];

before(async () => {
  server = await startPgServer();
  db = await server.database(`cgw_${process.pid}_${randomBytes(3).toString('hex')}`);
});

after(async () => {
  for (const p of proxies) await p.close();
  await server?.stop();
});

function viaProxy(url: string, port: number): string {
  const u = new URL(url);
  u.port = String(port);
  return u.toString();
}

const timingOpts = (ttl = TTL): Partial<PostgresBackendOptions> => ({
  timing: leaseTiming(ttl),
  keepalive: { idleS: 1, intervalS: 1, count: 2, userTimeoutMs: 2_000 },
  queryTimeoutMs: 1_500,
  connectTimeoutMs: 1_500,
});

async function estate(): Promise<EstateFixture> {
  const name = `estate-${randomBytes(4).toString('hex')}`;
  const proxy = await startTcpProxy(server.port);
  proxies.push(proxy);
  return {
    spec: { kind: 'postgres', url: db, estate: name, ttlMs: TTL, queryTimeoutMs: 1_500 },
    open: async () => openPostgresBackend({ url: viaProxy(db, proxy.port), estate: name, ...timingOpts() }),
    loseNextAnswer: async () => proxy.loseAnswerTo('INSERT INTO'),
    answersLost: () => proxy.lost,
    cleanup: async () => {
      await proxy.close();
      proxies.splice(proxies.indexOf(proxy), 1);
    },
  };
}

conformance({ name: 'postgres', ttlMs: TTL, heartbeatMs: leaseTiming(TTL).heartbeatMs, killSeenAtOnce: true, foreignHost: 'elsewhere', estate });

const me = (runId: string) => ({ host: hostname(), pid: process.pid, startedAt: new Date().toISOString(), runId });

async function sql<T extends pg.QueryResultRow = Record<string, unknown>>(text: string, params: unknown[] = []): Promise<T[]> {
  const c = new pg.Client({ connectionString: db });
  await c.connect();
  try {
    return (await c.query<T>(text, params)).rows;
  } finally {
    await c.end();
  }
}

function sessionPid(l: Lease): number {
  return (l as unknown as { sessionPid: number }).sessionPid;
}

test('postgres: lock and unlock happen on the same dedicated session, which carries the configured timeouts', async () => {
  const estateName = `same-${randomBytes(3).toString('hex')}`;
  const b = openPostgresBackend({ url: db, estate: estateName, ...timingOpts() });
  try {
    const lease = await b.acquire({ holder: me('s') });
    const pid = sessionPid(lease);
    const locks = await sql<{ pid: number }>(`SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted AND objsubid = 2 AND objid = (hashtext($1))::oid`, [estateName]);
    assert.deepEqual(locks.map((l) => l.pid), [pid], 'the advisory lock is held by the lease session');
    const act = await sql<{ application_name: string }>(`SELECT application_name FROM pg_stat_activity WHERE pid = $1`, [pid]);
    assert.equal(act[0]?.application_name, 'cgw-batch lease');
    // The server-side settings of that very session (a second client cannot SHOW them: ask through the lease's own).
    const client = (lease as unknown as { client: pg.Client }).client;
    const show = async (k: string) => (await client.query(`SHOW ${k}`)).rows[0]?.[k] as string;
    assert.equal(await show('idle_session_timeout'), '2s');
    assert.equal(await show('tcp_keepalives_idle'), '1');
    assert.equal(await show('tcp_keepalives_interval'), '1');
    assert.equal(await show('tcp_keepalives_count'), '2');
    assert.equal(await show('tcp_user_timeout'), '2000'); // shown in ms, without a unit
    await lease.append(['{"t":"row","n":1}']);
    await lease.release();
    const after = await sql(`SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND objsubid = 2 AND objid = (hashtext($1))::oid`, [estateName]);
    assert.deepEqual(after, [], 'released on the session that locked it');
    const row = await sql<{ holder: unknown; epoch: string }>(`SELECT holder, epoch FROM cgw_batch.estates WHERE estate = $1`, [estateName]);
    assert.equal(row[0]?.holder, null, 'a release clears the holder: the next lease is not a takeover');
  } finally {
    await b.close();
  }
});

test('postgres: an insert with a stale epoch is refused by the database itself, whoever sends it', async () => {
  const estateName = `stale-${randomBytes(3).toString('hex')}`;
  const a = openPostgresBackend({ url: db, estate: estateName, ...timingOpts() });
  const b = openPostgresBackend({ url: db, estate: estateName, ...timingOpts() });
  try {
    const la = await a.acquire({ holder: me('a') });
    await la.append(['{"t":"row","by":"a"}']);
    // The holder's session is killed (as a cut network would end it): the next runner takes over at once.
    await sql(`SELECT pg_terminate_backend($1)`, [sessionPid(la)]);
    const lb = await b.acquire({ holder: me('b'), waitMs: 5_000 });
    assert.equal(lb.epoch, (la.epoch ?? 0) + 1);
    assert.ok(lb.takeover);
    // A's exact fenced insert, sent by hand with A's epoch: zero rows.
    const r = await sql(
      `WITH ins AS (INSERT INTO cgw_batch.journal (estate, seq, epoch, rec) SELECT $1, 100, $2, '{"t":"row","by":"a-stale"}'::json
         WHERE (SELECT epoch FROM cgw_batch.estates WHERE estate = $1 FOR SHARE) = $2 RETURNING 1) SELECT count(*)::int AS n FROM ins`,
      [estateName, la.epoch],
    );
    assert.equal(r[0]?.n, 0);
    // And through A's lease: its reconnect finds the epoch moved and stops.
    await assert.rejects(la.append(['{"t":"row","by":"a-late"}']), LeaseLostError);
    assert.equal(la.signal.aborted, true);
    await lb.append(['{"t":"row","by":"b"}']);
    assert.deepEqual((await b.read())?.records, ['{"t":"row","by":"a"}', '{"t":"row","by":"b"}']);
    await lb.release();
  } finally {
    await a.close();
    await b.close();
  }
});

test("postgres: the holder's network cut by a stalled proxy: it fences itself, the server ends its session, another runner takes over", { timeout: 60_000 }, async () => {
  const estateName = `cut-${randomBytes(3).toString('hex')}`;
  const proxy = await startTcpProxy(server.port);
  const a = openPostgresBackend({ url: viaProxy(db, proxy.port), estate: estateName, ...timingOpts() });
  const b = openPostgresBackend({ url: db, estate: estateName, ...timingOpts() });
  try {
    const la = await a.acquire({ holder: me('a') });
    await la.append(['{"t":"row","by":"a"}']);
    const pid = sessionPid(la);
    const lostAt = new Promise<number>((r) => la.signal.addEventListener('abort', () => r(performance.now()), { once: true }));
    proxy.stall();
    const cutAt = performance.now();
    const lb = await b.acquire({ holder: me('b'), waitMs: 30_000 });
    const tookAt = performance.now();
    // The bound is what we configured: the session's idle_session_timeout (the ttl) after its last statement.
    assert.ok(tookAt - cutAt <= TTL + 5_000, `takeover ${Math.round(tookAt - cutAt)} ms after the cut`);
    assert.ok(tookAt - cutAt >= TTL - leaseTiming(TTL).heartbeatMs, `takeover too early: ${Math.round(tookAt - cutAt)} ms`);
    assert.ok(lb.takeover, 'a takeover');
    const gone = await sql(`SELECT pid FROM pg_stat_activity WHERE pid = $1`, [pid]);
    assert.deepEqual(gone, [], "the server ended the cut holder's session");
    // The holder knew before the taker could act: its self-fence fires at ttl - margin.
    assert.ok((await lostAt) <= tookAt, 'the cut holder stopped before the takeover');
    assert.throws(() => la.assertHeld(), LeaseLostError);
    await lb.append(['{"t":"row","by":"b"}']);
    assert.deepEqual((await b.read())?.records, ['{"t":"row","by":"a"}', '{"t":"row","by":"b"}']);
    await lb.release();
  } finally {
    await proxy.close();
    await a.close();
    await b.close();
  }
});

test('postgres: a URL password never appears in location or errors', async () => {
  const b = openPostgresBackend({ url: `postgres://postgres:hunter2-secret@127.0.0.1:1/nowhere`, estate: 'e', ...timingOpts() });
  assert.ok(!b.location.includes('hunter2'));
  await assert.rejects(b.acquire({ holder: me('x') }), (e: unknown) => {
    assert.ok(!String((e as Error).message).includes('hunter2'), (e as Error).message);
    return true;
  });
  await b.close();
});
