// One word for what happened to each row, wherever it is said: for the same runs, the NDJSON run:done counts, the
// summary line, results.json (its run block and every row), runs/*.json, junit.xml, `status --format json` and the
// exit code agree row by row. Runs of the built CLI against the emulator: created, unchanged, invalid, not in this
// run, outcome unknown (every create's answer lost), a full quota (failed, not started).
import '../helpers/env.js';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { DEFAULT_ACCOUNT, startEmulator, type Emulator } from '../../src/emulator/index.js';
import { countOutcomes, exitCodeOf, junitVerdict, type Outcome } from '../../src/report/outcome.js';
import { runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';

const env = {
  ALIBABA_CLOUD_ACCESS_KEY_ID: DEFAULT_ACCOUNT.accessKeyId,
  ALIBABA_CLOUD_ACCESS_KEY_SECRET: DEFAULT_ACCOUNT.accessKeySecret,
  // Lost answers are retried a few times: keep the waits short (the rules, not the waits, are under test).
  CGW_BATCH_RETRY_BASE_MS: '1',
  CGW_BATCH_RETRY_CAP_MS: '5',
};
let emu: Emulator;
before(async () => {
  emu = await startEmulator({ accounts: [DEFAULT_ACCOUNT], rates: { CreateCustomerGateway: 500, DescribeCustomerGateways: 500 }, seed: 11, quota: 1000 });
});
after(async () => {
  await emu.close();
});

interface ResultRow {
  line: number;
  key: string;
  outcome: Outcome;
  [field: string]: unknown;
}

/** The journal's fields of a row: what results.json and status must both say the same way. */
const JOURNAL_FIELDS = ['status', 'customer_gateway_id', 'error_code', 'error_message', 'error_class', 'request_id', 'request_ids', 'attempts', 'duration_ms'];

async function applyAndCheck(dir: ReturnType<typeof tempDir>, args: string[]): Promise<Partial<Record<Outcome, number>>> {
  const csv = dir.path('m.csv');
  const r = await runCli(['apply', csv, '--endpoint', emu.url, '--yes', '--format', 'json', ...args], { env });
  const events = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
  const done = events.find((e) => e.type === 'run:done');
  const summary = events.find((e) => e.type === 'summary');
  assert.ok(done && summary, r.stdout + r.stderr);
  const results = JSON.parse(readFileSync(dir.path('m.csv.results/results.json'), 'utf8')) as { run: { counts: object; exitCode: number }; rows: ResultRow[] };
  const runsDir = dir.path('m.csv.results/runs');
  const lastRun = readdirSync(runsDir).sort().at(-1) ?? '';
  const perRun = JSON.parse(readFileSync(join(runsDir, lastRun), 'utf8')) as { run: { counts: object }; rows: ResultRow[] };
  const outcomes = results.rows.map((x) => x.outcome);
  const counts = countOutcomes(outcomes);

  // The counts: run:done (NDJSON), the summary line, results.json's run block, the per-run file, and the rows themselves.
  assert.deepEqual(done.counts, counts, 'run:done');
  assert.deepEqual(summary.counts, counts, 'summary');
  assert.deepEqual(results.run.counts, counts, 'results.json run block');
  assert.deepEqual(perRun.run.counts, counts, 'runs/*.json');
  assert.deepEqual(perRun.rows.map((x) => [x.key, x.outcome]), results.rows.filter((x) => x.outcome !== 'not in this run').map((x) => [x.key, x.outcome]));
  // The exit code: the process's, the summary's, the run block's, and the one the outcomes make.
  assert.equal(r.code, exitCodeOf(outcomes, undefined), r.stderr);
  assert.equal(summary.exitCode, r.code);
  assert.equal(results.run.exitCode, r.code);

  // junit.xml: each row's testcase passed, failed or skipped as its outcome says; the totals follow.
  const xml = readFileSync(dir.path('m.csv.results/junit.xml'), 'utf8');
  const cases = [...xml.matchAll(/<testcase [^>]*name="line (\d+) [^"]*"[^>]*>\s*<(failure|skipped|system-out)/g)].map((m) => [Number(m[1]), m[2]]);
  const verdictOf = { failure: 'failed', skipped: 'skipped', 'system-out': 'passed' } as const;
  assert.deepEqual(
    cases.map(([line, tag]) => [line, verdictOf[tag as keyof typeof verdictOf]]).sort(),
    results.rows.map((x) => [x.line, junitVerdict(x.outcome)]).sort(),
  );
  const failures = outcomes.filter((o) => junitVerdict(o) === 'failed').length;
  assert.match(xml, new RegExp(`<testsuites [^>]*tests="${outcomes.length}" failures="${failures}" skipped="${outcomes.length - failures - outcomes.filter((o) => junitVerdict(o) === 'passed').length}"`));

  // status --format json: results.json's row shape, and the same journal fields row by row. Outside a run it names
  // the state, so plan words (unchanged, not in this run, blocked) become the state they left.
  const st = await runCli(['status', csv, '--format', 'json'], { env });
  const status = JSON.parse(st.stdout) as { rows: ResultRow[] };
  assert.equal(status.rows.length, results.rows.length);
  for (const row of results.rows) {
    const s = status.rows.find((x) => x.key === row.key);
    assert.ok(s, row.key);
    assert.deepEqual(Object.keys(s).sort(), Object.keys(row).sort(), 'the same field names');
    for (const f of JOURNAL_FIELDS) assert.deepEqual(s[f], row[f], `${row.key} ${f}`);
    if (!['unchanged', 'not in this run', 'blocked'].includes(row.outcome)) assert.equal(s.outcome, row.outcome, row.key);
  }
  return counts;
}

test('run:done, the summary, results.json, runs/*.json, junit.xml, status --format json and the exit code agree row by row', async () => {
  const rows = [
    'region,ip,name,asn',
    'cn-hangzhou,203.0.113.1,hz-1,65001',
    'cn-hangzhou,203.0.113.2,hz-2,65002',
    'cn-hangzhou,203.0.113.999,bad-ip,65003',
    'cn-shanghai,203.0.113.4,sh-4,65004',
    'cn-qingdao,203.0.113.5,qd-5,65005',
    'cn-qingdao,203.0.113.6,qd-6,65006',
    'cn-qingdao,203.0.113.7,qd-7,65007',
  ];
  const t = tempDir({ 'm.csv': rows.join('\n') + '\n' });
  try {
    // 1. Two created, the invalid row left out, the other regions not in this run.
    assert.deepEqual(await applyAndCheck(t, ['--skip-invalid', '--only', '2-4']), { created: 2, invalid: 1, 'not in this run': 4 });

    // 2. Every answer of cn-shanghai's create is lost: outcome unknown; the first two are unchanged.
    emu.configure({ faults: { 'commit-drop': 1 }, faultActions: ['CreateCustomerGateway'] });
    const second = await applyAndCheck(t, ['--skip-invalid', '--only', '2-5']);
    emu.configure({ faults: {}, faultActions: undefined });
    assert.deepEqual(second, { unchanged: 2, unknown: 1, invalid: 1, 'not in this run': 3 });

    // 3. cn-qingdao's quota holds one gateway: one created, the others failed (quota) or not started.
    emu.configure({ quota: 1 });
    const third = await applyAndCheck(t, ['--skip-invalid', '--only', '2,3,6-8', '--concurrency', '1']);
    emu.configure({ quota: 1000 });
    assert.equal(third.created, 1);
    assert.equal((third.failed ?? 0) + (third['not started'] ?? 0), 2);
    assert.equal(third.unchanged, 2);
  } finally {
    t.cleanup();
  }
});
