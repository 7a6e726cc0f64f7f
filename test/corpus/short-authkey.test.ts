// Short BGP AuthKeys (1-7 characters, which the API accepts and existing peers use): planned with a warning, created
// with the key, and never printed or stored: every byte of stdout, stderr, the journal and every report (the .xlsx
// inflated) is scanned for each key and its encodings. Also against an endpoint that quotes the key back.
import '../helpers/env.js';
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_ACCOUNT, startEmulator, type Emulator } from '../../src/emulator/index.js';
import { listZip, readEntry } from '../../src/load/zip.js';
import type { CliResult } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';
import { startHostile } from '../hostile/server.js';
import { runCliBounded } from './run.js';

const creds = { ALIBABA_CLOUD_ACCESS_KEY_ID: DEFAULT_ACCOUNT.accessKeyId, ALIBABA_CLOUD_ACCESS_KEY_SECRET: DEFAULT_ACCOUNT.accessKeySecret };
// Characters that none of our outputs hold otherwise (ids are lower-case letters and digits, hashes hex).
const KEYS = { one: '^', three: 'Q~^', five: 'Zq^~j', seven: 'Zq7^x~]' };

let emu: Emulator;
before(async () => {
  emu = await startEmulator({ accounts: [DEFAULT_ACCOUNT], rateLimits: false });
});
after(async () => {
  await emu.close();
});

/** Every file under dir but the manifest, as text; workbook parts inflated. */
function outputs(dir: string, manifest: string): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (const rel of readdirSync(dir, { recursive: true, encoding: 'utf8' })) {
    const p = join(dir, rel);
    if (rel === manifest || !statSync(p).isFile()) continue;
    const bytes = readFileSync(p);
    if (rel.endsWith('.xlsx')) for (const e of listZip(bytes, 1000)) out.push([`${rel}:${e.name}`, readEntry(bytes, e, 64 * 1024 * 1024).toString('utf8')]);
    else out.push([rel, bytes.toString('utf8')]);
  }
  return out;
}

function forms(key: string): string[] {
  return [...new Set([key, encodeURIComponent(key), JSON.stringify(key).slice(1, -1), Buffer.from(key).toString('base64')])];
}

function assertNowhere(keys: string[], runs: CliResult[], files: Array<[string, string]>): void {
  for (const key of keys) {
    for (const f of forms(key)) {
      for (const r of runs) assert.ok(!r.stdout.includes(f) && !r.stderr.includes(f), `${JSON.stringify(f)} printed:\n${r.stdout}\n${r.stderr}`);
      for (const [name, text] of files) assert.ok(!text.includes(f), `${JSON.stringify(f)} in ${name}`);
    }
  }
}

test('AuthKeys of 1, 3, 5 and 7 characters: planned with a warning, created with the key, printed and stored nowhere', async () => {
  const t = tempDir({
    'm.csv': [
      'region,ip,name,asn,auth_key',
      `cn-hangzhou,203.0.113.71,k1,65001,${KEYS.one}`,
      `cn-hangzhou,203.0.113.73,k3,65001,${KEYS.three}`,
      'cn-hangzhou,203.0.113.75,k5,65001,env:SHORT_KEY_5',
      'cn-hangzhou,203.0.113.77,k7,65001,env:SHORT_KEY_7',
    ].join('\n') + '\n',
  });
  try {
    const env = { ...creds, SHORT_KEY_5: KEYS.five, SHORT_KEY_7: KEYS.seven };
    const common = ['--endpoint', emu.url, '--timeout', '120000'];
    const plan = await runCliBounded(['plan', t.path('m.csv'), ...common], { env, cwd: t.dir });
    assert.equal(plan.code, 0, plan.stdout + plan.stderr);
    assert.equal((plan.stdout.match(/Cgw\.WeakAuthKey/g) ?? []).length, 4, plan.stdout);
    assert.match(plan.stdout, /has 1 character: the API accepts it/);
    const apply = await runCliBounded(['apply', t.path('m.csv'), ...common, '--yes'], { env, cwd: t.dir });
    assert.equal(apply.code, 0, apply.stdout + apply.stderr);
    // Read-only commands work from the journal (no --endpoint).
    const status = await runCliBounded(['status', t.path('m.csv')], { env, cwd: t.dir });
    assert.equal(status.code, 0, status.stdout + status.stderr);
    const report = await runCliBounded(['report', t.path('m.csv')], { env, cwd: t.dir });
    assert.equal(report.code, 0, report.stdout + report.stderr);

    const made = Object.values<any>((emu.state() as any).accounts ?? {}).flatMap((a) => Object.values<any>(a.regions ?? {}).flatMap((r) => r.gateways));
    const byIp = new Map(made.map((g: any) => [g.IpAddress, g.AuthKey]));
    assert.deepEqual(['203.0.113.71', '203.0.113.73', '203.0.113.75', '203.0.113.77'].map((ip) => byIp.get(ip)), [KEYS.one, KEYS.three, KEYS.five, KEYS.seven].map((k) => ({ fingerprint: emu.fingerprint(k), length: k.length })));

    const files = outputs(t.dir, 'm.csv');
    assert.ok(files.some(([n]) => n.endsWith('.state.jsonl')) && files.some(([n]) => n.endsWith('results.csv')) && files.some(([n]) => n.includes('results.xlsx:')));
    assertNowhere(Object.values(KEYS), [plan, apply, status, report], files);
  } finally {
    t.cleanup();
  }
});

test('an endpoint that quotes a 4-7 character AuthKey back in its error: the key is printed and stored nowhere', async () => {
  const h = await startHostile({ behaviour: 'quote-secret' });
  const t = tempDir({ 'm.csv': 'region,ip,name,asn,auth_key\ncn-hangzhou,203.0.113.81,q5,65001,env:SHORT_KEY_5\ncn-hangzhou,203.0.113.82,q4,65001,env:SHORT_KEY_4\n' });
  try {
    const env = { ...creds, SHORT_KEY_5: KEYS.five, SHORT_KEY_4: 'Zq^]' };
    const apply = await runCliBounded(['apply', t.path('m.csv'), '--endpoint', h.url, '--timeout', '120000', '--yes'], { env, cwd: t.dir });
    assert.equal(apply.code, 1, apply.stdout + apply.stderr);
    assert.ok(h.hits.some((x) => x.action === 'CreateCustomerGateway' && x.params['AuthKey'] === KEYS.five), 'the key was sent');
    assertNowhere([KEYS.five, 'Zq^]'], [apply], outputs(t.dir, 'm.csv'));
  } finally {
    await h.close();
    t.cleanup();
  }
});

// Keys of 1-7 characters cannot be masked by value in ordinary text (a 3-character key is inside too many words; and
// its encoded forms are shorter still): src/cloud withholds the whole message of an answer that quotes such a key in
// any form, and names only its code.
test('an endpoint that quotes a 1-3 character AuthKey back (raw, URL-encoded, base64): printed and stored nowhere', async () => {
  const h = await startHostile({ behaviour: 'quote-secret' });
  const t = tempDir({ 'm.csv': 'region,ip,name,asn,auth_key\ncn-hangzhou,203.0.113.83,q3,65001,env:SHORT_KEY_3\n' });
  try {
    const apply = await runCliBounded(['apply', t.path('m.csv'), '--endpoint', h.url, '--timeout', '120000', '--yes'], { env: { ...creds, SHORT_KEY_3: KEYS.three }, cwd: t.dir });
    assert.equal(apply.code, 1, apply.stdout + apply.stderr);
    assertNowhere([KEYS.three], [apply], outputs(t.dir, 'm.csv'));
    // The row still says what the server answered: its code, and that its message was withheld.
    const results = readFileSync(t.path('m.csv.results/results.csv'), 'utf8');
    assert.match(results, /InvalidParameter/);
    assert.match(results, /withheld/);
  } finally {
    await h.close();
    t.cleanup();
  }
});
