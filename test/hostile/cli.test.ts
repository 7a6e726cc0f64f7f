// The hostile-endpoint suite: the real built CLI against an endpoint that misbehaves in every way we know of.
// For each: bounded time, no secret in any output or file, no row recorded as created without a well-formed id.
import '../helpers/env.js';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { DEFAULT_RETRY } from '../../src/execute/retry.js';
import { runCli, type CliResult } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';
import { startHostile, type Behaviour, type Hostile } from './server.js';

const TIMEOUT_MS = 2000;
const ACCESS_KEY_ID = 'LTAI5tHostileSuite01';
const SECRET = 'hostile-suite-secret-0123456789';
// Printable ASCII without space or '?', as the API allows: quotes, backslash, '+', '/', '=' and '%' exercise every
// encoding a server could quote it in.
const AUTH_KEY = 'Hk"q\\/+=x7Z%&<>-AuthKey';
const ID = /^cgw-[a-z0-9]+$/;

/** Every form the secrets could take in a file or an output stream. */
function forbidden(): string[] {
  const out = new Set<string>();
  for (const s of [AUTH_KEY, SECRET]) {
    out.add(s);
    out.add(JSON.stringify(s).slice(1, -1));
    out.add(encodeURIComponent(s));
    out.add(encodeURIComponent(s).replace(/%20/g, '+'));
    out.add(Buffer.from(s).toString('base64'));
    out.add(Buffer.from(s).toString('base64').replace(/=+$/, ''));
  }
  return [...out];
}

function filesUnder(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...filesUnder(p));
    else out.push(p);
  }
  return out;
}

interface JournalRowView {
  key: string;
  status?: string;
  gatewayId?: string | null;
  errorCode?: string;
  errorMessage?: string;
}

/** Replays the JSONL journal (last value of each field wins), as `status` would. */
function journalRows(path: string): Map<string, JournalRowView> {
  const rows = new Map<string, JournalRowView>();
  let text = '';
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return rows;
  }
  for (const line of text.split('\n').filter(Boolean)) {
    const rec = JSON.parse(line) as Record<string, unknown>;
    if (rec['t'] !== 'row') continue;
    const key = String(rec['key']);
    rows.set(key, { ...(rows.get(key) ?? { key }), ...(rec as Partial<JournalRowView>) });
  }
  return rows;
}

interface Case {
  behaviour: Behaviour;
  /** Rows end as created (the endpoint eventually answers well). */
  created: boolean;
  /** Server options beyond the behaviour. */
  flaky?: number;
}

const CASES: Case[] = [
  { behaviour: 'ok', created: true },
  { behaviour: 'trickle', created: false },
  { behaviour: 'endless', created: false },
  { behaviour: 'gzip-bomb', created: false },
  { behaviour: 'redirect', created: false },
  { behaviour: 'missing-id', created: false },
  { behaviour: 'empty-id', created: false },
  { behaviour: 'html-200', created: false },
  // 429 (with Retry-After: 1) for the first three creates, then sane answers: throttling, not failure.
  { behaviour: '429', created: true, flaky: 3 },
  { behaviour: 'quote-secret', created: false },
];

/**
 * Upper bound for one row that keeps failing: every attempt may take the whole timeout, and every backoff its cap.
 * Generous on purpose (CI is a loaded 2-core machine); what it catches is a run that never ends.
 */
function worstCaseMs(): number {
  let backoff = 0;
  for (let n = 1; n < DEFAULT_RETRY.maxAttempts; n++) backoff += Math.min(DEFAULT_RETRY.capMs, DEFAULT_RETRY.baseMs * 2 ** (n - 1));
  return DEFAULT_RETRY.maxAttempts * (TIMEOUT_MS + 500) + backoff + 15_000;
}

async function runAgainst(c: Case): Promise<{ r: CliResult; h: Hostile; dir: string; ms: number; exitedAt: number; cleanup: () => void }> {
  const manifest = 'region,ip,name,asn,auth_key\n' + 'cn-hangzhou,203.0.113.10,h-1,65001,env:HOSTILE_AUTH_KEY\n' + 'cn-hangzhou,203.0.113.11,h-2,65001,env:HOSTILE_AUTH_KEY\n';
  const t = tempDir({ 'm.csv': manifest });
  const h = await startHostile({ behaviour: c.behaviour, trickleMs: 500, failFirst: c.flaky });
  const started = Date.now();
  const r = await runCli(['apply', t.path('m.csv'), '--endpoint', h.url, '--yes', '--timeout', String(TIMEOUT_MS)], {
    cwd: t.dir,
    // Short backoff between attempts: what is measured here is each request's deadline, not the retry policy's waits.
    env: { ALIBABA_CLOUD_ACCESS_KEY_ID: ACCESS_KEY_ID, ALIBABA_CLOUD_ACCESS_KEY_SECRET: SECRET, HOSTILE_AUTH_KEY: AUTH_KEY, CGW_BATCH_RETRY_BASE_MS: '20', CGW_BATCH_RETRY_CAP_MS: '200' },
    timeoutMs: worstCaseMs() + 30_000,
  });
  const exitedAt = Date.now();
  return { r, h, dir: t.dir, ms: exitedAt - started, exitedAt, cleanup: t.cleanup };
}

test('hostile endpoints, through the real CLI', { concurrency: true }, async (t) => {
  await Promise.all(
    CASES.map((c) =>
      t.test(c.behaviour, async () => {
        const { r, h, dir, ms, exitedAt, cleanup } = await runAgainst(c);
        try {
          const what = `${c.behaviour}: exit ${String(r.code)} after ${ms} ms\n${r.stdout.slice(-1500)}\n${r.stderr.slice(-1500)}`;
          // 1. Bounded time: the CLI exits on its own, promptly after its last request (no socket, no timer left).
          assert.equal(r.signal, null, what);
          assert.ok(ms < worstCaseMs(), what);
          const last = Math.max(...h.hits.map((x) => x.at));
          assert.ok(exitedAt - last < TIMEOUT_MS + 5000, `exited ${exitedAt - last} ms after the last request; ${what}`);
          for (let i = 0; i < 50 && h.openSockets() > 0; i++) await new Promise((res) => setTimeout(res, 20));
          assert.equal(h.openSockets(), 0, 'the CLI left sockets open');
          // 2. Outcome: created only with a well-formed id; a hostile answer never counts as a success.
          const rows = journalRows(join(dir, 'm.csv.state.jsonl'));
          assert.equal(rows.size, 2, what);
          for (const row of rows.values()) {
            if (row.status === 'created' || row.status === 'adopted' || row.status === 'updated') {
              assert.match(String(row.gatewayId), ID, `${c.behaviour}: ${row.key} ${row.status} without an id`);
            }
            if (c.created) assert.equal(row.status, 'created', what);
            else assert.notEqual(row.status, 'created', what);
          }
          assert.equal(r.code === 0, c.created, what);
          if (c.behaviour === 'redirect') assert.ok(h.hits.every((x) => x.action !== 'steal'));
          if (c.behaviour === '429') {
            const creates = h.hits.filter((x) => x.action === 'CreateCustomerGateway').map((x) => x.at);
            // The server's Retry-After (1 s) was honoured between the throttled attempts.
            assert.ok(creates.length >= 4 && creates[1]! - creates[0]! >= 900, creates.join(','));
          }
          if (c.behaviour === 'quote-secret') {
            const msgs = [...rows.values()].map((x) => x.errorMessage ?? '');
            assert.ok(msgs.every((m) => m.length > 0), 'the error was still recorded');
          }
          // 3. No secret anywhere: stdout, stderr, journal, .bak, lock leftovers, reports.
          const files = filesUnder(dir).filter((p) => !p.endsWith('m.csv'));
          assert.ok(files.some((p) => p.endsWith('m.csv.state.jsonl')));
          for (const s of forbidden()) {
            assert.ok(!r.stdout.includes(s) && !r.stderr.includes(s), `${c.behaviour}: ${JSON.stringify(s)} in the output`);
            for (const f of files) assert.ok(!readFileSync(f, 'latin1').includes(s), `${c.behaviour}: ${JSON.stringify(s)} in ${f}`);
          }
        } finally {
          await h.close();
          cleanup();
        }
      }),
    ),
  );
});
