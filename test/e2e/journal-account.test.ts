// A journal speaks for one account. One whose header names no account and no key is not taken over by another
// account (its gateways would belong to no journal): it is bound to the account that proves it owns its gateways,
// or, when it records none, to the first account that writes it. "Run once with that key to bind it" can be
// followed: a successful apply with the key of an earlier version's journal binds it to the key's account.
import '../helpers/env.js';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { DEFAULT_ACCOUNT, startEmulator, type Emulator } from '../../src/emulator/index.js';
import { runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';

const SAME_ACCOUNT = { accessKeyId: 'LTAI5tBindSecondKey0001', accessKeySecret: 'bindSecondKeySecret0000000001', accountId: DEFAULT_ACCOUNT.accountId };
const OTHER_ACCOUNT = { accessKeyId: 'LTAI5tBindOtherAcct0001', accessKeySecret: 'bindOtherAccountSecret0000001', accountId: '8888888888888888' };
const creds = (a: { accessKeyId: string; accessKeySecret: string }) => ({ ALIBABA_CLOUD_ACCESS_KEY_ID: a.accessKeyId, ALIBABA_CLOUD_ACCESS_KEY_SECRET: a.accessKeySecret });
let emu: Emulator;
before(async () => {
  emu = await startEmulator({ accounts: [DEFAULT_ACCOUNT, SAME_ACCOUNT, OTHER_ACCOUNT], rates: { CreateCustomerGateway: 200, DescribeCustomerGateways: 200 }, seed: 31 });
});
after(async () => {
  await emu.close();
});

function count(accountId: string, prefix: string): number {
  const acc = (emu.state() as any).accounts?.[accountId];
  let n = 0;
  for (const reg of Object.values<any>(acc?.regions ?? {})) n += reg.gateways.filter((g: any) => g.IpAddress.startsWith(prefix)).length;
  return n;
}

/** Rewrites the journal's header line (what an earlier version, or a hand edit, left). */
function editHeader(path: string, edit: (h: Record<string, unknown>) => void): void {
  const lines = readFileSync(path, 'utf8').split('\n');
  const h = JSON.parse(lines[0]!);
  edit(h);
  lines[0] = JSON.stringify(h);
  writeFileSync(path, lines.join('\n'), { mode: 0o600 });
}
const header = (path: string) => JSON.parse(readFileSync(path, 'utf8').split('\n')[0]!);

test('a journal naming no account: another account is refused (nothing sent, nothing bound); the owner binds it', async () => {
  const t = tempDir({ 'm.csv': 'region,ip,name,asn\ncn-hangzhou,198.19.100.1,b-1,65001\ncn-hangzhou,198.19.100.2,b-2,65002\n' });
  try {
    const csv = t.path('m.csv');
    const state = `${csv}.state.jsonl`;
    const apply = (a: typeof DEFAULT_ACCOUNT) => runCli(['apply', csv, '--endpoint', emu.url, '--yes'], { env: creds(a) });
    assert.equal((await apply(DEFAULT_ACCOUNT)).code, 0);
    editHeader(state, (h) => {
      delete h.accountId;
      delete h.accessKeyId;
    });
    const before = readFileSync(state, 'utf8');

    const taken = await apply(OTHER_ACCOUNT);
    assert.equal(taken.code, 2, taken.stdout + taken.stderr);
    assert.match(taken.stderr, new RegExp(`names no account, and none of the gateways it records \\(cgw-\\S+, cgw-\\S+\\) is in account ${OTHER_ACCOUNT.accountId}`));
    assert.equal(count(OTHER_ACCOUNT.accountId, '198.19.100.'), 0, 'nothing created in the other account');
    assert.equal(readFileSync(state, 'utf8'), before, 'the journal is not bound to the other account');

    // Another key of the account that made the gateways proves it owns them: the run goes ahead and binds it.
    const owner = await apply(SAME_ACCOUNT);
    assert.equal(owner.code, 0, owner.stdout + owner.stderr);
    assert.match(owner.stdout, /nothing to do/);
    assert.equal(header(state).accountId, DEFAULT_ACCOUNT.accountId, 'bound to the owner\'s account, though nothing else changed');
    assert.equal(count(DEFAULT_ACCOUNT.accountId, '198.19.100.'), 2, 'no duplicate');
    const again = await apply(OTHER_ACCOUNT);
    assert.equal(again.code, 2);
    assert.match(again.stderr, new RegExp(`belongs to account ${DEFAULT_ACCOUNT.accountId}, but these credentials are of account ${OTHER_ACCOUNT.accountId}`));
  } finally {
    t.cleanup();
  }
});

test('a journal naming no account that records no gateway is bound to the first account that writes it', async () => {
  const t = tempDir({ 'm.csv': 'region,ip,name,asn\ncn-hangzhou,198.19.101.1,e-1,65001\n' });
  try {
    const csv = t.path('m.csv');
    const state = `${csv}.state.jsonl`;
    writeFileSync(
      state,
      JSON.stringify({ t: 'header', version: 1, runId: '6f1c2c2e-1111-4111-8111-111111111111', manifest: { path: 'm.csv', hash: 'x' }, endpoint: emu.url, fingerprintKey: 'ab'.repeat(32), createdAt: '2026-01-01T00:00:00.000Z', updatedAt: '2026-01-01T00:00:00.000Z' }) + '\n',
      { mode: 0o600 },
    );
    const r = await runCli(['apply', csv, '--endpoint', emu.url, '--yes', '--quiet'], { env: creds(OTHER_ACCOUNT) });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.equal(header(state).accountId, OTHER_ACCOUNT.accountId);
    const refused = await runCli(['apply', csv, '--endpoint', emu.url, '--yes'], { env: creds(DEFAULT_ACCOUNT) });
    assert.equal(refused.code, 2);
  } finally {
    t.cleanup();
  }
});

test('an earlier version\'s journal bound to a key: "run once with that key" binds it to the account, then any key of it works', async () => {
  const t = tempDir({ 'm.csv': 'region,ip,name,asn\ncn-hangzhou,198.19.102.1,k-1,65001\n' });
  try {
    const csv = t.path('m.csv');
    const state = `${csv}.state.jsonl`;
    assert.equal((await runCli(['apply', csv, '--endpoint', emu.url, '--yes', '--quiet'], { env: creds(DEFAULT_ACCOUNT) })).code, 0);
    editHeader(state, (h) => {
      delete h.accountId;
      h.accessKeyId = DEFAULT_ACCOUNT.accessKeyId;
    });
    const other = await runCli(['plan', csv, '--endpoint', emu.url], { env: creds(SAME_ACCOUNT) });
    assert.equal(other.code, 2);
    assert.match(other.stderr, new RegExp(`written by an earlier cgw-batch for access key ${DEFAULT_ACCOUNT.accessKeyId}; run cgw-batch apply once with that key`));
    const bind = await runCli(['apply', csv, '--endpoint', emu.url, '--yes'], { env: creds(DEFAULT_ACCOUNT) });
    assert.equal(bind.code, 0, bind.stdout + bind.stderr);
    assert.match(bind.stdout, /nothing to do/);
    assert.equal(header(state).accountId, DEFAULT_ACCOUNT.accountId);
    assert.equal(header(state).accessKeyId, undefined);
    const now = await runCli(['apply', csv, '--endpoint', emu.url, '--yes'], { env: creds(SAME_ACCOUNT) });
    assert.equal(now.code, 0, now.stdout + now.stderr);
  } finally {
    t.cleanup();
  }
});
