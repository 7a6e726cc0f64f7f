// apply end to end: the built CLI, the real pop-core client, the emulator on 127.0.0.1.
import '../helpers/env.js';
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { DEFAULT_ACCOUNT, startEmulator, type Emulator } from '../../src/emulator/index.js';
import { runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';

const creds = { ALIBABA_CLOUD_ACCESS_KEY_ID: DEFAULT_ACCOUNT.accessKeyId, ALIBABA_CLOUD_ACCESS_KEY_SECRET: DEFAULT_ACCOUNT.accessKeySecret };
let emu: Emulator;
before(async () => {
  emu = await startEmulator({ accounts: [DEFAULT_ACCOUNT], rates: { CreateCustomerGateway: 200, DescribeCustomerGateways: 200 }, seed: 3 });
});
after(async () => {
  await emu.close();
});

function gateways(): Array<{ CustomerGatewayId: string; IpAddress: string; Name?: string; Tags: Array<{ Key: string; Value: string }> }> {
  const out: any[] = [];
  for (const acc of Object.values<any>((emu.state() as any).accounts ?? {})) for (const reg of Object.values<any>(acc.regions ?? {})) out.push(...reg.gateways);
  return out;
}

const MANIFEST = [
  'region,ip,name,asn,description,tags,owner',
  'cn-hangzhou,203.0.113.10,hz-branch-1,65010,"first, with a comma",env=prod;team=net,alice',
  'cn-hangzhou,203.0.113.11,"=HYPERLINK(""http://x"")",65011,formula-looking name,,bob',
  'cn-shanghai,203.0.113.12,sh-branch-1,65012.1,asdot asn,env=prod,carol',
  'ap-southeast-1,198.51.100.7,sg-branch,,no asn,,dave',
].join('\r\n') + '\r\n';

test('apply creates every row once, writes Excel-ready reports, and a rerun skips everything', async () => {
  const t = tempDir({ 'branches.csv': MANIFEST });
  try {
    const csv = t.path('branches.csv');
    const r = await runCli(['apply', csv, '--endpoint', emu.url, '--yes'], { env: creds });
    assert.equal(r.code, 0, r.stderr + r.stdout);
    const mine = gateways().filter((g) => ['203.0.113.10', '203.0.113.11', '203.0.113.12', '198.51.100.7'].includes(g.IpAddress));
    assert.equal(mine.length, 4);
    const hz = mine.find((g) => g.IpAddress === '203.0.113.10');
    assert.deepEqual(hz?.Tags.map((x) => `${x.Key}=${x.Value}`).sort(), ['env=prod', 'team=net']);

    const reportDir = t.path('branches.csv.results');
    const raw = readFileSync(join(reportDir, 'results.csv'));
    assert.deepEqual([...raw.subarray(0, 3)], [0xef, 0xbb, 0xbf], 'UTF-8 BOM for Excel');
    assert.ok(raw.includes('\r\n'));
    const rows = parse(raw, { bom: true, columns: true }) as Array<Record<string, string>>;
    assert.equal(rows.length, 4);
    assert.deepEqual(rows.map((x) => x.status), ['created', 'created', 'created', 'created']);
    assert.equal(rows[0]?.owner, 'alice', 'unknown input columns are echoed');
    assert.equal(rows[1]?.name, `'=HYPERLINK("http://x")`, 'formula cells are escaped');
    for (const row of rows) assert.match(row.customer_gateway_id ?? '', /^cgw-[a-z0-9]{21}$/);
    assert.ok(existsSync(join(reportDir, 'results.json')));
    assert.match(readFileSync(join(reportDir, 'junit.xml'), 'utf8'), /<testsuite/);
    const state = csv + '.state.jsonl';
    assert.equal(statSync(state).mode & 0o777, 0o600);

    const again = await runCli(['apply', csv, '--endpoint', emu.url, '--yes', '--format', 'json'], { env: creds });
    assert.equal(again.code, 0, again.stderr);
    const plan = JSON.parse(again.stdout.split('\n')[0]!);
    assert.equal(plan.summary.skip, 4);
    assert.equal(gateways().filter((g) => g.IpAddress.startsWith('203.0.113.1')).length, 3, 'nothing created twice');

    const status = await runCli(['status', csv, '--format', 'json'], { env: creds });
    assert.equal(status.code, 0, status.stderr);
    const st = JSON.parse(status.stdout);
    assert.equal(st.rows.length, 4);
    assert.ok(st.rows.every((x: any) => x.status === 'created'));
  } finally {
    t.cleanup();
  }
});

test('invalid rows: apply refuses, nothing reaches the API; --skip-invalid sends only the valid ones', async () => {
  const t = tempDir({ 'bad.csv': 'region,ip,name,asn\ncn-hangzhou,203.0.113.50,ok-row,65050\ncn-hangzhou,203.0.113.051,bad-ip,65051\ncn-hangzhou,203.0.113.52,bad-asn,45104\n' });
  try {
    emu.resetStats();
    const r = await runCli(['apply', t.path('bad.csv'), '--endpoint', emu.url, '--yes'], { env: creds });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /refusing to apply: 2 row\(s\) are invalid/);
    assert.match(r.stdout, /bad\.csv:3 +ip +InvalidIpAddress\.WrongFormat/);
    assert.match(r.stdout, /bad\.csv:4 +asn +IllegalParam\.Asn/);
    assert.equal(emu.stats().actions.CreateCustomerGateway, undefined, 'no create request was sent');

    const s = await runCli(['apply', t.path('bad.csv'), '--endpoint', emu.url, '--yes', '--skip-invalid'], { env: creds });
    assert.equal(s.code, 1, 'invalid rows still make the run fail');
    assert.equal(emu.stats().actions.CreateCustomerGateway?.ok, 1);
    const rows = parse(readFileSync(t.path('bad.csv.results/results.csv')), { bom: true, columns: true }) as Array<Record<string, string>>;
    assert.deepEqual(rows.map((x) => [x.status, x.error_code]), [['created', ''], ['invalid', 'InvalidIpAddress.WrongFormat'], ['invalid', 'IllegalParam.Asn']]);
  } finally {
    t.cleanup();
  }
});

test('usage and credential problems exit 2 with one clear line and no stack trace', async () => {
  const t = tempDir({ 'm.csv': 'region,ip\ncn-hangzhou,203.0.113.60\n' });
  try {
    const noYes = await runCli(['apply', t.path('m.csv'), '--endpoint', emu.url], { env: creds });
    assert.equal(noYes.code, 2);
    assert.match(noYes.stderr, /--yes/);
    const badKey = await runCli(['apply', t.path('m.csv'), '--endpoint', emu.url, '--yes'], {
      env: { ALIBABA_CLOUD_ACCESS_KEY_ID: 'LTAInope', ALIBABA_CLOUD_ACCESS_KEY_SECRET: 'SECRET-MARKER-AKS-9999' },
    });
    assert.equal(badKey.code, 2);
    assert.match(badKey.stderr, /InvalidAccessKeyId\.NotFound/);
    const wrongSecret = await runCli(['apply', t.path('m.csv'), '--endpoint', emu.url, '--yes'], {
      env: { ALIBABA_CLOUD_ACCESS_KEY_ID: DEFAULT_ACCOUNT.accessKeyId, ALIBABA_CLOUD_ACCESS_KEY_SECRET: 'SECRET-MARKER-AKS-9999' },
    });
    assert.equal(wrongSecret.code, 2);
    assert.match(wrongSecret.stderr, /SignatureDoesNotMatch/);
    for (const out of [noYes, badKey, wrongSecret]) {
      assert.doesNotMatch(out.stderr + out.stdout, /SECRET-MARKER|\n\s+at \S+ \(/);
    }
    const unknown = await runCli(['frobnicate']);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /unknown command 'frobnicate'/);
    const flag = await runCli(['apply', t.path('m.csv'), '--auth-key', 'SECRET-MARKER-AK']);
    assert.equal(flag.code, 2);
    assert.doesNotMatch(flag.stderr, /SECRET-MARKER/);
    const missing = await runCli(['plan', t.path('nope.csv'), '--offline']);
    assert.equal(missing.code, 2);
  } finally {
    t.cleanup();
  }
});

test('Ctrl-C stops launching, writes journal and reports, exits 130; rerun completes exactly once', async () => {
  const slow = await startEmulator({ accounts: [DEFAULT_ACCOUNT], rates: { CreateCustomerGateway: 10 }, latency: { minMs: 5, maxMs: 10 }, seed: 9 });
  const lines = ['region,ip,name'];
  for (let i = 1; i <= 40; i++) lines.push(`cn-hangzhou,198.51.100.${i},site-${i}`);
  const t = tempDir({ 'm.csv': lines.join('\n') + '\n' });
  try {
    let sent = false;
    const r = await runCli(['apply', t.path('m.csv'), '--endpoint', slow.url, '--yes', '--rate', '10', '--format', 'json'], {
      env: creds,
      onStdout: (chunk, child) => {
        if (!sent && chunk.includes('"row:done"')) {
          sent = true;
          child.kill('SIGINT');
        }
      },
    });
    assert.equal(r.code, 130, r.stderr);
    assert.ok(existsSync(t.path('m.csv.results/results.csv')));
    const created = () => {
      const out: any[] = [];
      for (const acc of Object.values<any>((slow.state() as any).accounts ?? {})) for (const reg of Object.values<any>(acc.regions ?? {})) out.push(...reg.gateways);
      return out;
    };
    assert.ok(created().length < 40, 'stopped early');
    const again = await runCli(['apply', t.path('m.csv'), '--endpoint', slow.url, '--yes', '--rate', '50'], { env: creds });
    assert.equal(again.code, 0, again.stderr);
    assert.equal(created().length, 40);
    assert.equal(new Set(created().map((g) => g.IpAddress)).size, 40);
  } finally {
    t.cleanup();
    await slow.close();
  }
});

test('a second apply on the same journal is refused while the first holds the lock', async () => {
  const slow = await startEmulator({ accounts: [DEFAULT_ACCOUNT], rates: { CreateCustomerGateway: 5 }, seed: 10 });
  const lines = ['region,ip'];
  for (let i = 1; i <= 15; i++) lines.push(`cn-beijing,192.0.2.${i}`);
  const t = tempDir({ 'm.csv': lines.join('\n') + '\n' });
  try {
    const first = runCli(['apply', t.path('m.csv'), '--endpoint', slow.url, '--yes', '--rate', '5'], { env: creds });
    // Wait until the first run holds the lock.
    for (let i = 0; i < 100 && !existsSync(t.path('m.csv.state.jsonl.lock')); i++) await new Promise((r) => setTimeout(r, 50));
    const started = Date.now();
    const second = await runCli(['apply', t.path('m.csv'), '--endpoint', slow.url, '--yes'], { env: creds });
    assert.equal(second.code, 2);
    assert.match(second.stderr, /locked by pid \d+/);
    assert.ok(Date.now() - started < 5000);
    assert.equal((await first).code, 0);
  } finally {
    t.cleanup();
    await slow.close();
  }
});

test('plan --format json follows the contract and exits 1 on invalid rows', async () => {
  const t = tempDir({ 'p.csv': 'region,ip,name\ncn-hangzhou,203.0.113.70,ok\ncn-hangzhou,203.0.113.70,dup\n' });
  try {
    writeFileSync(t.path('empty.csv'), '');
    const r = await runCli(['plan', t.path('p.csv'), '--endpoint', emu.url, '--format', 'json'], { env: creds });
    assert.equal(r.code, 1, r.stderr);
    const doc = JSON.parse(r.stdout);
    assert.deepEqual(Object.keys(doc.summary).slice(0, 5), ['rows', 'create', 'adopt', 'skip', 'invalid']);
    assert.equal(doc.rows[1].action, 'invalid');
    assert.equal(doc.rows[1].issues[0].code, 'InvalidIpAddress.AlreadyExist');
    assert.match(doc.rows[1].issues[0].message, /line 2/);
    const empty = await runCli(['plan', t.path('empty.csv'), '--offline']);
    assert.equal(empty.code, 2);
    assert.doesNotMatch(empty.stderr, /\n\s+at /);
  } finally {
    t.cleanup();
  }
});

test('a normal run of 80 rows with retries prints no Node warning (no listener growth, nothing hidden globally)', async () => {
  const rows = Array.from({ length: 80 }, (_, i) => `${i % 2 ? 'cn-hangzhou' : 'cn-shanghai'},198.51.${100 + Math.floor(i / 200)}.${(i % 200) + 1},w${i}`);
  const t = tempDir({ 'w.csv': 'region,ip,name\n' + rows.join('\n') + '\n' });
  try {
    // Conflicts make many rows sleep in backoff at once: the case that used to add a listener per sleeping row. A
    // quarter of the creates: enough to keep dozens asleep together, and far inside the run's retry budget (500 tokens,
    // 5 per conflict) even when a loaded machine bunches sends into throttling (1 token each).
    emu.configure({ faults: { conflict: 0.25 }, faultActions: ['CreateCustomerGateway'] });
    const r = await runCli(['apply', t.path('w.csv'), '--endpoint', emu.url, '--yes', '--quiet'], { env: { ...creds, CGW_BATCH_RETRY_BASE_MS: '20' } });
    const failed = (): string => {
      try {
        const doc = JSON.parse(readFileSync(t.path('w.csv.results/results.json'), 'utf8')) as { rows: Array<{ status: string; error_code?: string; attempts?: number }> };
        return JSON.stringify(doc.rows.filter((x) => x.status !== 'created').map((x) => [x.status, x.error_code, x.attempts]));
      } catch (e) {
        return String(e);
      }
    };
    assert.equal(r.code, 0, `${r.stderr}\nrows not created: ${failed()}`);
    assert.doesNotMatch(r.stderr, /\(node:\d+\)|Warning:/, r.stderr);
  } finally {
    emu.configure({ faults: {}, faultActions: undefined });
    t.cleanup();
  }
});
