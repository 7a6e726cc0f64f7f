// Fencing end to end: the executor with a real Journal over PostgreSQL (a server this file starts) and over the OSS
// emulator, sending creates with pop-core to the VPC emulator. A runner whose lease is taken over, or whose epoch goes
// stale, sends no further request (counted at the emulator), the store refuses its journal writes, and the new holder
// finishes the estate from the journal with one gateway per row.
import '../helpers/env.js';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { after, before, test, type TestContext } from 'node:test';
import pg from 'pg';
import { connect, type Connection } from '../../src/cloud/connect.js';
import { fetchInventory } from '../../src/cloud/inventory.js';
import { DEFAULT_ACCOUNT, startEmulator, type Emulator } from '../../src/emulator/index.js';
import { DEFAULT_OSS_ACCOUNT, startOssEmulator, type OssEmulator } from '../../src/emulator/oss/server.js';
import { executePlan, type ExecuteResult } from '../../src/execute/execute.js';
import { planManifest } from '../../src/plan/plan.js';
import { openOssBackend } from '../../src/state/backend/oss.js';
import { openPostgresBackend } from '../../src/state/backend/postgres.js';
import { leaseTiming, type Lease, type LeaseClock, type StateBackend } from '../../src/state/backend/types.js';
import { Journal, journalOfLease, readState, toPriorRows } from '../../src/state/journal.js';
import { clientToken } from '../../src/state/token.js';
import { EXECUTABLE, type PlannedRow } from '../../src/types.js';
import { seededRandom } from '../../src/clock.js';
import { VirtualClock } from '../helpers/fake-clock.js';
import { fp, manifest, wrow } from '../plan/builders.js';
import { pgBinDir, startPgServer, type PgServer } from './backend/pg-server.js';
import { stateDir } from './setup.js';

const REGION = 'cn-hangzhou';
const ROWS = 8;
/** The third create is on the wire when the lease goes: two rows are done, one is in flight, five are not started. */
const FENCE_AT = 3;
/** Long enough that no heartbeat of the first runner runs during a test: only the store's fencing can stop it. */
const TTL = 60_000;
const NO_PG = pgBinDir() ? false : 'PostgreSQL binaries not found under /usr/lib/postgresql (apt-get install -y postgresql; .ci/run does)';

let vpc: Emulator;
let oss: OssEmulator;
let server: PgServer | undefined;
let db = '';

before(async () => {
  vpc = await startEmulator({ accounts: [DEFAULT_ACCOUNT], rates: { CreateCustomerGateway: 500, DescribeCustomerGateways: 500 }, seed: 7 });
  oss = await startOssEmulator({ buckets: ['cgw-state'] });
  if (!NO_PG) {
    server = await startPgServer();
    db = await server.database(`fence_${process.pid}_${randomBytes(3).toString('hex')}`);
  }
});

after(async () => {
  await vpc?.close();
  await oss?.close();
  await server?.stop();
});

const requests = (action?: string): number =>
  action ? Object.values(vpc.stats().actions[action] ?? {}).reduce((a, b) => a + b, 0) : vpc.stats().total;

function cloudGateways(prefix: string): Array<{ CustomerGatewayId: string; IpAddress: string }> {
  const acc = (vpc.state() as unknown as { accounts: Record<string, { regions: Record<string, { gateways: Array<{ CustomerGatewayId: string; IpAddress: string }> }> }> }).accounts;
  return Object.values(acc[DEFAULT_ACCOUNT.accountId]?.regions ?? {})
    .flatMap((r) => r.gateways)
    .filter((g) => g.IpAddress.startsWith(prefix));
}

const holder = (runId: string) => ({ host: hostname(), pid: process.pid, runId, startedAt: new Date().toISOString() });

/** A lease clock that only moves when slept on: the taker watches a silent holder for the whole ttl in no time. */
function jumpingClock(): LeaseClock {
  let t = performance.now();
  return {
    now: () => t,
    sleep: async (ms, signal) => {
      signal?.throwIfAborted();
      t += ms;
      await new Promise<void>((r) => setImmediate(r));
    },
  };
}

interface Estate {
  ips: string[];
  prefix: string;
  journalOpts: ReturnType<ReturnType<typeof stateDir>['opts']>;
  cleanup: () => void;
}

function estate(subnet: number): Estate {
  const t = stateDir();
  const ips = Array.from({ length: ROWS }, (_, i) => `198.18.${subnet}.${i + 1}`);
  return {
    ips,
    prefix: `198.18.${subnet}.`,
    journalOpts: t.opts({ endpoint: vpc.url, caller: { accountId: DEFAULT_ACCOUNT.accountId, accessKeyId: DEFAULT_ACCOUNT.accessKeyId } }),
    cleanup: t.cleanup,
  };
}

/** Plans the estate as apply does (the journal's rows, the cloud's listing) and returns the rows to carry out. */
async function planFrom(conn: Connection, journal: Journal, ips: string[]): Promise<PlannedRow[]> {
  const m = manifest(ips.map((ip, i) => wrow({ ip, name: `fence-${i + 1}` }, { line: i + 2 })));
  const plan = planManifest(m, {
    command: 'apply',
    online: true,
    quota: 100,
    regions: new Set([REGION]),
    inventory: await fetchInventory([REGION], (r) => conn.clientFor(r)),
    prior: toPriorRows(journal.rows()),
    fingerprint: fp,
    flags: { allowReplace: false, prune: false, retryFailed: false, skipInvalid: false },
  });
  return plan.rows.filter((r) => r.inRun && EXECUTABLE.has(r.action));
}

/** Carries out `rows` with this journal, as apply does; `onCreate(n)` runs once the emulator has answered create n. */
async function run(conn: Connection, journal: Journal, rows: PlannedRow[], onCreate?: (n: number) => Promise<void>): Promise<ExecuteResult> {
  let creates = 0;
  const wrapped = new WeakSet<object>();
  return executePlan({
    rows,
    runId: `run-${randomBytes(3).toString('hex')}`,
    journalId: journal.header.runId,
    journal,
    clientFor: (region) => {
      const c = conn.clientFor(region);
      if (!onCreate || wrapped.has(c)) return c;
      wrapped.add(c);
      // The connection is this run's own: its client may be changed in place.
      const create = c.createCustomerGateway.bind(c);
      c.createCustomerGateway = async (input) => {
        const out = await create(input);
        await onCreate(++creates);
        return out;
      };
      return c;
    },
    account: DEFAULT_ACCOUNT.accountId,
    makeToken: clientToken,
    fingerprint: fp,
    rate: 1000,
    concurrency: 1,
    clock: new VirtualClock(),
    random: seededRandom(1),
  });
}

interface Fenced {
  /** What the emulator had counted when the lease was gone, and at the end of the fenced run. */
  atFence: { total: number; creates: number };
  atEnd: { total: number; creates: number };
  result: ExecuteResult;
}

/**
 * Runner A applies the estate; while its third create is on the wire `fence` takes its lease away (the store is
 * changed behind A's back: A's own clock still says its lease is fresh). Returns what the emulator saw.
 */
async function fencedRun(a: StateBackend, e: Estate, fence: () => Promise<void>): Promise<Fenced> {
  const conn = connect({ credentials: DEFAULT_ACCOUNT, endpoint: vpc.url, timeoutMs: 10_000 });
  const journal = await Journal.open(a, { ...e.journalOpts, runId: 'runner-a' });
  let atFence: Fenced['atFence'] | undefined;
  try {
    const rows = await planFrom(conn, journal, e.ips);
    assert.deepEqual(rows.map((r) => r.action), Array(ROWS).fill('create'));
    const result = await run(conn, journal, rows, async (n) => {
      if (n !== FENCE_AT) return;
      await fence();
      atFence = { total: requests(), creates: requests('CreateCustomerGateway') };
    });
    return { atFence: atFence ?? assert.fail('the fence never ran'), atEnd: { total: requests(), creates: requests('CreateCustomerGateway') }, result };
  } finally {
    await journal.close().catch(() => undefined);
    conn.close();
  }
}

/** What every fenced run must show: nothing sent after the fence, the rows not sent never reported created. */
function assertStopped(t: TestContext, f: Fenced, e: Estate): void {
  t.diagnostic(`emulator at the fence ${JSON.stringify(f.atFence)}, at the end ${JSON.stringify(f.atEnd)}`);
  assert.deepEqual(f.atEnd, f.atFence, 'not one request (create, describe, anything) reached the emulator after the lease was gone');
  assert.equal(cloudGateways(e.prefix).length, FENCE_AT, 'three gateways exist: the two done and the one on the wire');
  const byIp = new Map(f.result.results.map((r) => [r.ref.ip, r]));
  for (const ip of e.ips.slice(0, FENCE_AT - 1)) assert.equal(byIp.get(ip)?.status, 'created', ip);
  for (const ip of e.ips.slice(FENCE_AT - 1)) {
    const r = byIp.get(ip);
    assert.notEqual(r?.status, 'created', `${ip}: its outcome never became durable, so it is not reported created`);
    assert.match(r?.errorMessage ?? '', /lost the lease|taken over|took it over|another runner/, `${ip}: ${r?.errorMessage}`);
  }
}

/** What the store holds after the fence: A's last durable writes, none of the refused ones. */
async function assertRefused(b: StateBackend, e: Estate): Promise<void> {
  const read = await readState(b);
  const rows = read?.rows ?? new Map();
  const cloud = new Map(cloudGateways(e.prefix).map((g) => [g.IpAddress, g.CustomerGatewayId]));
  for (const ip of e.ips.slice(0, FENCE_AT - 1)) {
    assert.deepEqual([rows.get(`${REGION}/${ip}`)?.status, rows.get(`${REGION}/${ip}`)?.gatewayId], ['created', cloud.get(ip)], ip);
  }
  const third = rows.get(`${REGION}/${e.ips[FENCE_AT - 1]}`);
  assert.equal(third?.status, 'in-flight', 'the intent landed before the fence; the outcome A wrote after it was refused');
  assert.equal(third?.gatewayId, undefined);
  for (const ip of e.ips.slice(FENCE_AT)) assert.equal(rows.get(`${REGION}/${ip}`), undefined, `${ip}: A's intent was refused`);
}

/** The new holder plans from the shared journal and finishes: the in-flight row resumed, one gateway per row. */
async function finish(t: TestContext, b: StateBackend, lease: Lease, e: Estate): Promise<void> {
  const conn = connect({ credentials: DEFAULT_ACCOUNT, endpoint: vpc.url, timeoutMs: 10_000 });
  const journal = await Journal.fromRead(b, await journalOfLease(b, lease), { ...e.journalOpts, lease });
  try {
    const rows = await planFrom(conn, journal, e.ips);
    t.diagnostic(`the new holder's plan: ${rows.map((r) => `${r.ref.ip} ${r.action}`).join(', ')}`);
    assert.equal(rows.length, ROWS - (FENCE_AT - 1), 'the two rows A finished are not touched again');
    const creates = requests('CreateCustomerGateway');
    const result = await run(conn, journal, rows);
    assert.deepEqual(result.results.map((r) => r.status), Array(rows.length).fill('created'));
    assert.ok(requests('CreateCustomerGateway') - creates >= ROWS - FENCE_AT);
  } finally {
    await journal.close();
    conn.close();
  }
  const cloud = cloudGateways(e.prefix);
  assert.deepEqual(cloud.map((g) => g.IpAddress).sort(), [...e.ips].sort(), 'one gateway per row: none lost, none duplicated');
  const rows = (await readState(b))?.rows;
  for (const g of cloud) assert.deepEqual([rows?.get(`${REGION}/${g.IpAddress}`)?.status, rows?.get(`${REGION}/${g.IpAddress}`)?.gatewayId], ['created', g.CustomerGatewayId], g.IpAddress);
}

test('oss: a runner taken over while its create is on the wire sends nothing more; its next appends are refused at their position', async (t) => {
  const e = estate(1);
  const prefix = `fence/${randomBytes(4).toString('hex')}`;
  const opts = { endpoint: oss.url, bucket: 'cgw-state', prefix, credentials: async () => DEFAULT_OSS_ACCOUNT, timing: leaseTiming(TTL), requestTimeoutMs: 10_000 };
  const a = openOssBackend(opts);
  // The taker's clock runs while it watches: to it, A has been silent (frozen, suspended, cut off) for the whole ttl.
  const b = openOssBackend({ ...opts, clock: jumpingClock() });
  let lease: Lease | undefined;
  try {
    const warnings: string[] = [];
    const f = await fencedRun(a, e, async () => {
      lease = await b.acquire({ holder: holder('runner-b'), waitMs: 10 * TTL, onWarning: (m) => warnings.push(m) });
      assert.ok(lease.takeover, `a takeover: ${warnings.join('; ')}`);
    });
    assertStopped(t, f, e);
    assert.ok(oss.stats.conflicts >= 1, "A's append found B's lease at its position: 409 PositionNotEqualToLength");
    await assertRefused(b, e);
    assert.ok(lease);
    await finish(t, b, lease, e);
  } finally {
    await a.close();
    await b.close();
    e.cleanup();
  }
});

async function sql(text: string, params: unknown[] = []): Promise<pg.QueryResultRow[]> {
  const c = new pg.Client({ connectionString: db });
  await c.connect();
  try {
    return (await c.query(text, params)).rows;
  } finally {
    await c.end();
  }
}

test('postgres: a runner taken over (its session ended, the next runner took the lock) sends nothing more; its inserts are refused', { skip: NO_PG }, async (t) => {
  const e = estate(2);
  const name = `fence-${randomBytes(4).toString('hex')}`;
  const opts = { url: db, estate: name, timing: leaseTiming(TTL) };
  const a = openPostgresBackend(opts);
  const b = openPostgresBackend(opts);
  let lease: Lease | undefined;
  try {
    const f = await fencedRun(a, e, async () => {
      // The server ends A's lease session (as a cut network or a DBA would), and B takes the lease at once.
      const ended = await sql(
        `SELECT pg_terminate_backend(pid) AS t FROM pg_locks WHERE locktype = 'advisory' AND granted AND objsubid = 2 AND objid = (hashtext($1))::oid`,
        [name],
      );
      assert.equal(ended.length, 1, "A's lease session held the estate's advisory lock");
      lease = await b.acquire({ holder: holder('runner-b'), waitMs: 30_000 });
      assert.ok(lease.takeover, 'a takeover');
    });
    assertStopped(t, f, e);
    await assertRefused(b, e);
    const epochs = await sql(`SELECT DISTINCT epoch FROM cgw_batch.journal WHERE estate = $1 ORDER BY epoch`, [name]);
    assert.deepEqual(epochs.map((r) => Number(r['epoch'])), [1], 'every row in the journal is from A’s tenure, written before the takeover');
    assert.ok(lease);
    await finish(t, b, lease, e);
  } finally {
    await a.close();
    await b.close();
    e.cleanup();
  }
});

test('postgres: a runner whose epoch went stale while its session lives on sends nothing more; the database refuses its insert', { skip: NO_PG }, async (t) => {
  const e = estate(3);
  const name = `stale-${randomBytes(4).toString('hex')}`;
  const opts = { url: db, estate: name, timing: leaseTiming(TTL) };
  const a = openPostgresBackend(opts);
  const b = openPostgresBackend(opts);
  try {
    const f = await fencedRun(a, e, async () => {
      // A rival bumped the epoch without ending A's session (through a transaction pooler, the advisory lock protects
      // nothing): only the epoch check inside A's INSERT stands between A and a second writer.
      const bumped = await sql(`UPDATE cgw_batch.estates SET epoch = epoch + 1 WHERE estate = $1 RETURNING epoch`, [name]);
      assert.equal(Number(bumped[0]?.['epoch']), 2);
    });
    assertStopped(t, f, e);
    await assertRefused(b, e);
    // A gave up its session once fenced, so the next runner gets the lease without waiting for any ttl.
    const lease = await b.acquire({ holder: holder('runner-b'), waitMs: 30_000 });
    assert.equal(lease.epoch, 3);
    await finish(t, b, lease, e);
  } finally {
    await a.close();
    await b.close();
    e.cleanup();
  }
});
