// The hostile-endpoint suite: the real built CLI against an endpoint that misbehaves in every way we know of.
// For each: bounded time, no secret in any output or file, no row recorded as created without a well-formed id.
import '../helpers/env.js';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { inflateRawSync } from 'node:zlib';
import { test } from 'node:test';
import { DEFAULT_RETRY } from '../../src/execute/retry.js';
import { runCli, type CliResult } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';
import { forbiddenForms } from './encodings.js';
import { startHostile, type Behaviour, type Hostile } from './server.js';

/**
 * --timeout for every case: generous, so the sane answers (STS, regions, listings) of a loaded machine's test server
 * never reach it; only the trickle, which never ends, does. What the trickle case measures is relative to it.
 */
const TIMEOUT_MS = 8000;
const ACCESS_KEY_ID = 'LTAI5tHostileSuite01';
const SECRET = 'hostile-suite-secret-0123456789';
// Printable ASCII without space or '?', as the API allows: quotes, backslash, '+', '/', '=' and '%' exercise every
// encoding a server could quote it in.
const AUTH_KEY = 'Hk"q\\/+=x7Z%&<>-AuthKey';
const ID = /^cgw-[a-z0-9]+$/;
const PROBE = fileURLToPath(new URL('./linger-probe.js', import.meta.url));

/** Every form the secrets could take in a file or an output stream (test/hostile/encodings.ts). */
function forbidden(): string[] {
  return [...new Set([...forbiddenForms(AUTH_KEY), ...forbiddenForms(SECRET)])];
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
  // The first two creates trickle forever: each is cut at its deadline (an unknown outcome) and retried with the same
  // token, which the server then answers: the rows end created.
  { behaviour: 'trickle', created: true, flaky: 2 },
  { behaviour: 'endless', created: false },
  { behaviour: 'gzip-bomb', created: false },
  { behaviour: 'redirect', created: false },
  { behaviour: 'missing-id', created: false },
  { behaviour: 'empty-id', created: false },
  { behaviour: 'html-200', created: false },
  // 429 (with Retry-After: 1) for the first three creates, then sane answers: throttling, not failure.
  { behaviour: '429', created: true, flaky: 3 },
  { behaviour: 'quote-secret', created: false },
  // The create is carried out, then answered with an error that is no documented refusal: the listing finds it.
  { behaviour: 'commit-error-200', created: true },
  { behaviour: 'commit-odd-code', created: true },
];

const ROWS = 2;
const BACKOFF = { baseMs: 20, capMs: 200 };
/**
 * The deadline timer of a request fires late, never early, when the machine is loaded (an event loop starved of CPU
 * runs its timers late); this is the lateness tolerated. A request without a total deadline never ends at all (the
 * trickle sends a byte every 500 ms forever), so any finite slack catches it.
 */
const SCHEDULING_SLACK_MS = 15_000;

/**
 * The run's upper bound from what it is configured with: every attempt of every row may take the whole timeout, every
 * backoff its cap, rows one after the other. Only the safety net that kills a run that never ends (generous: a loaded
 * machine also starts node, plans and writes the reports slowly); never asserted as a duration.
 */
function hangAfterMs(): number {
  const failing = ROWS * DEFAULT_RETRY.maxAttempts * (TIMEOUT_MS + BACKOFF.capMs);
  // A throttled attempt waits for the server's Retry-After (1 s here) instead of a timeout.
  const throttled = ROWS * DEFAULT_RETRY.maxThrottledAttempts * (1000 + BACKOFF.capMs);
  return failing + throttled + 120_000;
}

interface Linger {
  checked: boolean;
  lingering: string[];
}

async function runAgainst(c: Case): Promise<{ r: CliResult; h: Hostile; dir: string; linger: Linger | undefined; cleanup: () => void }> {
  const manifest = 'region,ip,name,asn,auth_key\n' + 'cn-hangzhou,203.0.113.10,h-1,65001,env:HOSTILE_AUTH_KEY\n' + 'cn-hangzhou,203.0.113.11,h-2,65001,env:HOSTILE_AUTH_KEY\n';
  const t = tempDir({ 'm.csv': manifest });
  const lingerFile = join(t.dir, '..', `${basename(t.dir)}.linger.json`);
  const h = await startHostile({ behaviour: c.behaviour, trickleMs: 500, failFirst: c.flaky });
  const r = await runCli(['apply', t.path('m.csv'), '--endpoint', h.url, '--yes', '--timeout', String(TIMEOUT_MS)], {
    cwd: t.dir,
    env: {
      ALIBABA_CLOUD_ACCESS_KEY_ID: ACCESS_KEY_ID,
      ALIBABA_CLOUD_ACCESS_KEY_SECRET: SECRET,
      HOSTILE_AUTH_KEY: AUTH_KEY,
      // Short backoff between attempts: what is measured here is each request's deadline, not the retry policy's waits.
      CGW_BATCH_RETRY_BASE_MS: String(BACKOFF.baseMs),
      CGW_BATCH_RETRY_CAP_MS: String(BACKOFF.capMs),
      NODE_OPTIONS: `--import=${pathToFileURL(PROBE).href}`,
      CGW_TEST_LINGER_FILE: lingerFile,
    },
    timeoutMs: hangAfterMs(),
  });
  let linger: Linger | undefined;
  try {
    linger = JSON.parse(readFileSync(lingerFile, 'utf8')) as Linger;
    rmSync(lingerFile, { force: true });
  } catch {
    linger = undefined;
  }
  return { r, h, dir: t.dir, linger, cleanup: t.cleanup };
}

test('hostile endpoints, through the real CLI', { concurrency: true }, async (t) => {
  await Promise.all(
    CASES.map((c) =>
      t.test(c.behaviour, async () => {
        const { r, h, dir, linger, cleanup } = await runAgainst(c);
        try {
          const what = `${c.behaviour}: exit ${String(r.code)}\n${r.stdout.slice(-1500)}\n${r.stderr.slice(-1500)}`;
          // 1. Bounded, by what the run is configured with rather than by how fast this machine is:
          //    it exits on its own (runCli kills it only after hangAfterMs()) ...
          assert.equal(r.signal, null, what);
          //    ... with nothing left that holds the process once main() is done (a timer or a socket would delay
          //    the exit by however long it lasts) ...
          assert.ok(linger, `the linger probe reported nothing; ${what}`);
          assert.deepEqual(linger.lingering, [], `still holding the process after main() returned: ${linger.lingering.join(', ')}`);
          //    ... after a bounded number of requests (the retry policy's attempts per row) ...
          const creates = h.hits.filter((x) => x.action === 'CreateCustomerGateway');
          const perRow = c.behaviour === '429' ? DEFAULT_RETRY.maxAttempts + DEFAULT_RETRY.maxThrottledAttempts : DEFAULT_RETRY.maxAttempts;
          assert.ok(creates.length >= ROWS && creates.length <= ROWS * perRow, `${creates.length} creates; ${what}`);
          //    ... each of which ended, seen from the server, within its deadline (plus scheduling slack) ...
          for (const x of creates) {
            assert.ok(x.closedAt !== undefined, `a create that never ended; ${what}`);
            const lasted = x.closedAt - x.at;
            assert.ok(lasted <= TIMEOUT_MS + SCHEDULING_SLACK_MS, `a create lasted ${lasted} ms against a ${TIMEOUT_MS} ms timeout; ${what}`);
          }
          //    ... and every socket it opened is closed (the process is gone: the kernel closed them; give the
          //    server's event loop turns to see it, a bounded number of polls).
          for (let i = 0; i < 500 && h.openSockets() > 0; i++) await new Promise((res) => setTimeout(res, 20));
          assert.equal(h.openSockets(), 0, 'the CLI left sockets open');
          // 2. Outcome: created only with a well-formed id; a hostile answer never counts as a success.
          const rows = journalRows(join(dir, 'm.csv.state.jsonl'));
          assert.equal(rows.size, ROWS, what);
          for (const row of rows.values()) {
            if (row.status === 'created' || row.status === 'adopted' || row.status === 'updated') {
              assert.match(String(row.gatewayId), ID, `${c.behaviour}: ${row.key} ${row.status} without an id`);
            }
            if (c.created) assert.equal(row.status, 'created', what);
            else assert.notEqual(row.status, 'created', what);
          }
          assert.equal(r.code === 0, c.created, what);
          if (c.behaviour === 'redirect') assert.ok(h.hits.every((x) => x.action !== 'steal'));
          if (c.flaky !== undefined) {
            // The first `flaky` creates (in the order the server took them) misbehaved; each row retried after them.
            const bad = creates.slice(0, c.flaky);
            assert.ok(creates.length > c.flaky, `${creates.length} creates; ${what}`);
            for (const b of bad) {
              const next = creates.find((x) => x.at >= b.at && x !== b && x.params['IpAddress'] === b.params['IpAddress']);
              assert.ok(next, `no retry after a ${c.behaviour} create of ${b.params['IpAddress']}; ${what}`);
              // A retry reuses the ClientToken: exactly once, whatever the first attempt did.
              assert.equal(next.params['ClientToken'], b.params['ClientToken']);
              if (c.behaviour === '429') {
                // The server's Retry-After (1 s) was honoured before this row's next attempt: a lower bound, which a
                // slow machine only makes easier to meet.
                assert.ok(next.at - b.at >= 900, `retried ${next.at - b.at} ms after a 429 with Retry-After: 1`);
              }
            }
          }
          if (c.behaviour === 'quote-secret') {
            const msgs = [...rows.values()].map((x) => x.errorMessage ?? '');
            assert.ok(msgs.every((m) => m.length > 0), 'the error was still recorded');
            // The message survives around the masks: the redactor cut out the key, not the whole message.
            assert.ok(msgs.every((m) => m.includes('Rejected') && m.includes('***')), msgs.join('\n'));
          }
          // 3. No secret anywhere, in any spelling: stdout, stderr, journal, .bak, lock leftovers, every report.
          const files = filesUnder(dir).filter((p) => !p.endsWith('m.csv'));
          assert.ok(files.some((p) => p.endsWith('m.csv.state.jsonl')));
          if (c.behaviour === 'quote-secret') {
            for (const f of ['results.csv', 'results.json', 'results.xlsx', 'junit.xml']) {
              assert.ok(files.some((p) => p.endsWith(f)), `${f} was written`);
            }
            assert.ok(files.some((p) => /[/\\]runs[/\\][^/\\]+\.json$/.test(p)), 'runs/*.json was written');
          }
          const texts = files.map((f) => [f, readText(f)] as const);
          for (const s of forbidden()) {
            assert.ok(!r.stdout.includes(s) && !r.stderr.includes(s), `${c.behaviour}: ${JSON.stringify(s)} in the output`);
            for (const [f, text] of texts) assert.ok(!text.includes(s), `${c.behaviour}: ${JSON.stringify(s)} in ${f}`);
          }
        } finally {
          await h.close();
          cleanup();
        }
      }),
    ),
  );
});

/** A file as text; an .xlsx (a zip) as the text of its XML parts, which is where a spreadsheet keeps its strings. */
function readText(path: string): string {
  const bytes = readFileSync(path);
  if (!path.endsWith('.xlsx')) return bytes.toString('latin1') + '\n' + bytes.toString('utf8');
  const xml = unzipText(bytes);
  // Text nodes escape & < > (and maybe quotes): scan them as a spreadsheet would show them too.
  const shown = xml.replace(/&(amp|lt|gt|quot|apos);/g, (_m, n: string) => ({ amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" })[n] ?? '');
  return xml + '\n' + shown;
}

/** The entries of a zip (central directory), inflated and joined: enough to read the XML parts of an .xlsx. */
function unzipText(zip: Buffer): string {
  const eocd = zip.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  assert.ok(eocd >= 0, 'an .xlsx is a zip');
  const count = zip.readUInt16LE(eocd + 10);
  let at = zip.readUInt32LE(eocd + 16);
  const parts: string[] = [];
  for (let i = 0; i < count; i++) {
    const method = zip.readUInt16LE(at + 10);
    const size = zip.readUInt32LE(at + 20);
    const nameLen = zip.readUInt16LE(at + 28);
    const extraLen = zip.readUInt16LE(at + 30);
    const commentLen = zip.readUInt16LE(at + 32);
    const local = zip.readUInt32LE(at + 42);
    const dataAt = local + 30 + zip.readUInt16LE(local + 26) + zip.readUInt16LE(local + 28);
    const data = zip.subarray(dataAt, dataAt + size);
    parts.push((method === 8 ? inflateRawSync(data) : data).toString('utf8'));
    at += 46 + nameLen + extraLen + commentLen;
  }
  return parts.join('\n');
}
