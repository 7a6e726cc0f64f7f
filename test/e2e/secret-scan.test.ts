// Secret scan: a marker AuthKey, a marker access key secret (and a marker STS token) go through every path we can
// drive (manifest parse errors beside the key, validation errors, every API error and fault kind, timeouts, auth
// failures, SIGKILL, SIGINT, --format json, reports, journal, status/report, the emulator's own log and data file).
// Every byte written (stdout + stderr of every run, every file under the temp dirs) is scanned for the markers, raw
// and in the encodings a leak could take (URL, JSON, XML, CSV, hex, base64, UTF-16).
import '../helpers/env.js';
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_ACCOUNT, startEmulator, type Emulator, type EmulatorAccount } from '../../src/emulator/index.js';
import { runCli, type CliResult } from '../helpers/cli.js';
import { cliBin } from '../helpers/paths.js';
import { hermeticEnv } from '../helpers/env.js';
import { tempDir } from '../helpers/tmp.js';

// --- markers ------------------------------------------------------------------------------------------------------
// Each marker is a distinctive head + characters that every encoding changes + a distinctive tail, so a leak is
// found whole, truncated at a special character, or encoded.
const AK_HEAD = 'AKMARKq7Zj';
const AK_TAIL = 'x9AKTAILw3';
/** A valid BGP AuthKey (printable ASCII, no space, no `?`, <= 64 chars). */
const AUTH_KEY = `${AK_HEAD}"&/+=%<>\\${AK_TAIL}`;
const SK_HEAD = 'SKMARKr4Tb';
const SK_TAIL = 'w8SKTAILp2';
/** The access key secret the emulator account really has. */
const SECRET = `${SK_HEAD}+/=&%"${SK_TAIL}`;
const ST_HEAD = 'STMARKv5Nc';
const ST_TAIL = 'x3STTAILk8';
/** The STS token of that account (sent on the wire, so it also lands in the string to sign). */
const TOKEN = `${ST_HEAD}+/=&%${ST_TAIL}`;
const WR_HEAD = 'WRMARKe2Hd';
/** A wrong secret (signature mismatch path). */
const WRONG_SECRET = `${WR_HEAD}+/=&%WRTAILm6`;

const ACCOUNT: EmulatorAccount = { accessKeyId: 'LTAI5tSecretScan0001', accessKeySecret: SECRET, accountId: '5550000000000001', securityToken: TOKEN };

const creds: Record<string, string> = {
  ALIBABA_CLOUD_ACCESS_KEY_ID: ACCOUNT.accessKeyId,
  ALIBABA_CLOUD_ACCESS_KEY_SECRET: SECRET,
  ALIBABA_CLOUD_SECURITY_TOKEN: TOKEN,
};

function percentEncode(s: string): string {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase());
}

function encodings(s: string): Array<[string, Buffer]> {
  const out: Array<[string, Buffer]> = [];
  const add = (label: string, v: string | Buffer) => out.push([label, Buffer.isBuffer(v) ? v : Buffer.from(v, 'utf8')]);
  add('raw', s);
  add('url', encodeURIComponent(s));
  add('rfc3986', percentEncode(s));
  add('url-twice', percentEncode(percentEncode(s)));
  add('url-lower', encodeURIComponent(s).replace(/%[0-9A-F]{2}/g, (m) => m.toLowerCase()));
  add('form', new URLSearchParams({ x: s }).toString().slice(2));
  add('json', JSON.stringify(s).slice(1, -1));
  add('json-ascii', JSON.stringify(s).slice(1, -1).replace(/[<>&]/g, (c) => '\\u' + c.charCodeAt(0).toString(16).padStart(4, '0')));
  add('xml', s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;'));
  add('xml-num', s.replace(/&/g, '&#38;').replace(/</g, '&#60;').replace(/>/g, '&#62;').replace(/"/g, '&#34;'));
  add('csv', s.replace(/"/g, '""'));
  add('hex', Buffer.from(s).toString('hex'));
  add('HEX', Buffer.from(s).toString('hex').toUpperCase());
  add('utf16le', Buffer.from(s, 'utf16le'));
  for (let k = 0; k < 3; k++) {
    // base64 of the marker at each of the three byte alignments inside a longer text: keep the stable middle.
    const b = Buffer.from('\0'.repeat(k) + s + '\0\0\0').toString('base64');
    const mid = b.slice(k === 0 ? 0 : 4, -8);
    if (mid.length >= 8) {
      add(`base64@${k}`, mid);
      add(`base64url@${k}`, mid.replace(/\+/g, '-').replace(/\//g, '_'));
    }
  }
  const seen = new Set<string>();
  return out.filter(([, b]) => b.length >= 6 && !seen.has(b.toString('hex')) && (seen.add(b.toString('hex')), true));
}

interface Needle {
  label: string;
  bytes: Buffer;
}

function needlesFor(name: string, parts: string[]): Needle[] {
  const out: Needle[] = [];
  for (const p of parts) for (const [enc, bytes] of encodings(p)) out.push({ label: `${name}[${p === parts[0] ? 'whole' : p}] ${enc}`, bytes });
  return out;
}

const AUTH_NEEDLES = needlesFor('AuthKey', [AUTH_KEY, AK_HEAD, AK_TAIL]);
const SECRET_NEEDLES = [
  ...needlesFor('AccessKeySecret', [SECRET, SK_HEAD, SK_TAIL]),
  ...needlesFor('SecurityToken', [TOKEN, ST_HEAD, ST_TAIL]),
  ...needlesFor('WrongSecret', [WRONG_SECRET, WR_HEAD]),
];
const ALL_NEEDLES = [...AUTH_NEEDLES, ...SECRET_NEEDLES];

/** Returns one line per needle found in `buf`, with a little context (itself masked). */
function findLeaks(where: string, buf: Buffer, needles: Needle[] = ALL_NEEDLES): string[] {
  const found: string[] = [];
  for (const n of needles) {
    const at = buf.indexOf(n.bytes);
    if (at < 0) continue;
    const ctx = buf
      .subarray(Math.max(0, at - 60), Math.min(buf.length, at + n.bytes.length + 60))
      .toString('utf8')
      .replace(/[\r\n]+/g, '⏎');
    found.push(`${where}: ${n.label} at byte ${at}: …${ctx}…`);
  }
  return found;
}

function walkFiles(dir: string): string[] {
  const out: string[] = [];
  if (!existsSync(dir)) return out;
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    const st = statSync(p);
    if (st.isDirectory()) out.push(...walkFiles(p));
    else if (st.isFile()) out.push(p);
  }
  return out;
}

/** Everything one scenario wrote: CLI outputs as they come, then every file under its temp dir. */
class Capture {
  readonly outputs: Array<{ label: string; bytes: Buffer }> = [];
  readonly runs: CliResult[] = [];
  constructor(readonly dir: string) {}
  add(label: string, r: CliResult): CliResult {
    this.runs.push(r);
    this.outputs.push({ label: `${label} stdout`, bytes: Buffer.from(r.stdout, 'utf8') });
    this.outputs.push({ label: `${label} stderr`, bytes: Buffer.from(r.stderr, 'utf8') });
    return r;
  }
  /** Manifests hold the key on purpose: they are input, not output. */
  leaks(inputs: Set<string>): string[] {
    const found: string[] = [];
    for (const o of this.outputs) found.push(...findLeaks(o.label, o.bytes));
    for (const f of walkFiles(this.dir)) {
      if (inputs.has(f)) continue;
      found.push(...findLeaks(f.slice(this.dir.length + 1), readFileSync(f)));
    }
    return found;
  }
}

let emu: Emulator;
let readsFailing: Promise<void>;
let emuDir: ReturnType<typeof tempDir>;
const emuLog: string[] = [];
const allLeaks: string[] = [];
const scanned = { runs: 0, files: 0, bytes: 0 };

before(async () => {
  emuDir = tempDir();
  emu = await startEmulator({
    accounts: [ACCOUNT, DEFAULT_ACCOUNT],
    dataFile: join(emuDir.dir, 'emulator-data.json'),
    rates: { CreateCustomerGateway: 1000, DescribeCustomerGateways: 1000, DescribeRegions: 1000 },
    seed: 77,
    log: (line) => emuLog.push(line),
  });
  readsFailing = readsFailingScenario();
  // Awaited by its own test; never an unhandled rejection before that.
  readsFailing.catch(() => {});
});
after(async () => {
  await emu.close();
  emuDir.cleanup();
});

/**
 * One scenario: a fresh temp dir with the given input files; `body` drives the CLI through `run`; afterwards every
 * output and every file the runs left in the dir is scanned (inputs excluded).
 */
async function scenario(
  files: Record<string, string | Buffer>,
  body: (h: { dir: string; path: (p: string) => string; run: (label: string, args: string[], opts?: Parameters<typeof runCli>[1]) => Promise<CliResult>; cap: Capture }) => Promise<void>,
): Promise<void> {
  const t = tempDir(files);
  const inputs = new Set(Object.keys(files).map((f) => t.path(f)));
  const cap = new Capture(t.dir);
  try {
    for (const f of inputs) chmodSync(f, 0o600);
    const run = async (label: string, args: string[], opts: Parameters<typeof runCli>[1] = {}) => {
      const r = await runCli(args, { cwd: t.dir, ...opts, env: { HOME: t.dir, ...(opts.env ?? {}) } });
      return cap.add(label, r);
    };
    await body({ dir: t.dir, path: t.path, run, cap });
    const leaks = cap.leaks(inputs);
    scanned.runs += cap.runs.length;
    for (const o of cap.outputs) scanned.bytes += o.bytes.length;
    for (const f of walkFiles(t.dir)) if (!inputs.has(f)) (scanned.files++, (scanned.bytes += statSync(f).size));
    allLeaks.push(...leaks);
    assert.deepEqual(leaks, [], `secret markers found in written bytes:\n${leaks.join('\n')}`);
  } finally {
    t.cleanup();
  }
}

/** Runs the tasks with at most `n` at a time (CLI runs are independent processes; the machine may have 2 cores). */
async function pool(tasks: Array<() => Promise<unknown>>, n = 3): Promise<unknown[]> {
  const out: unknown[] = new Array(tasks.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(n, tasks.length) }, async () => {
      while (next < tasks.length) {
        const i = next++;
        out[i] = await tasks[i]!();
      }
    }),
  );
  return out;
}

function csvCell(s: string): string {
  return `"${s.replace(/"/g, '""')}"`;
}
function yamlSingle(s: string): string {
  return `'${s.replace(/'/g, "''")}'`;
}

const ENV_KEYS = { BGP_KEY_A: AUTH_KEY, BGP_KEY_B: AUTH_KEY };

/** Every supported way to give a valid AuthKey, CSV side. */
function csvAllWays(base: number): string {
  return [
    'region,ip,name,asn,auth_key,auth_key_env',
    `cn-hangzhou,203.0.${base}.1,literal,65001,${csvCell(AUTH_KEY)},`,
    `cn-hangzhou,203.0.${base}.2,env-ref,65002,env:BGP_KEY_A,`,
    `cn-shanghai,203.0.${base}.3,env-col,65003,,BGP_KEY_B`,
    `cn-shanghai,203.0.${base}.4,no-key,65004,,`,
  ].join('\r\n') + '\r\n';
}

/** Every supported way to give a valid AuthKey, YAML side (defaults, literal, env:, auth_key_env). */
function yamlAllWays(base: number): string {
  return [
    'defaults:',
    `  auth_key: ${yamlSingle(AUTH_KEY)}`,
    '  asn: "65010"',
    'gateways:',
    `  - region: cn-beijing`,
    `    ip: 198.51.${base}.1`,
    `    name: from-defaults`,
    `  - region: cn-beijing`,
    `    ip: 198.51.${base}.2`,
    `    auth_key: ${yamlSingle(AUTH_KEY)}`,
    `  - region: cn-beijing`,
    `    ip: 198.51.${base}.3`,
    `    auth_key: env:BGP_KEY_A`,
    `  - region: cn-beijing`,
    `    ip: 198.51.${base}.4`,
    `    auth_key_env: BGP_KEY_B`,
    '',
  ].join('\n');
}

// --- 1. manifest parse errors beside the key ----------------------------------------------------------------------

test('CSV parse errors in the row that carries the AuthKey', async () => {
  const H = 'region,ip,name,asn,auth_key\n';
  const files: Record<string, string | Buffer> = {
    // The marker has a `"`: unquoted, it is a quote inside an unquoted value.
    'bare-quote.csv': `${H}cn-hangzhou,203.0.113.1,a,65001,${AUTH_KEY}\n`,
    'unclosed.csv': `${H}cn-hangzhou,203.0.113.1,a,65001,"${AUTH_KEY}\ncn-hangzhou,203.0.113.2,b,65002,x\n`,
    'after-quote.csv': `${H}cn-hangzhou,203.0.113.1,a,65001,"${AUTH_KEY}"${AK_TAIL}\n`,
    'extra-cells.csv': `${H}cn-hangzhou,203.0.113.1,a,65001,${csvCell(AUTH_KEY)},${csvCell(AUTH_KEY)}\n`,
    'no-header.csv': `region,ip,name,asn,auth_key,\ncn-hangzhou,203.0.113.1,a,65001,x,${csvCell(AUTH_KEY)}\n`,
    'cp1252.csv': Buffer.concat([Buffer.from(`${H}cn-hangzhou,203.0.113.1,caf`), Buffer.from([0xe9]), Buffer.from(`,65001,${csvCell(AUTH_KEY)}\n`)]),
    'huge-record.csv': `${H}cn-hangzhou,203.0.113.1,a,65001,"${AUTH_KEY}${'x'.repeat(70_000)}\n`,
    'semicolon-mix.csv': `region;ip;asn;auth_key\ncn-hangzhou;203.0.113.1;65001;${AUTH_KEY},x;y\n`,
  };
  await scenario(files, async ({ run, path }) => {
    await pool(
      Object.keys(files).flatMap((f, i) => [
        async () => {
          const fmt = i % 2 === 0 ? 'text' : 'json';
          const r = await run(`plan ${f} ${fmt}`, ['plan', path(f), '--offline', '--format', fmt], { env: ENV_KEYS });
          assert.ok(r.code === 1 || r.code === 2, `${f}: exit ${r.code}\n${r.stderr}`);
        },
        async () => {
          const fmt = i % 2 === 0 ? 'json' : 'text';
          await run(`apply ${f} ${fmt}`, ['apply', path(f), '--endpoint', emu.url, '--yes', '--format', fmt], { env: { ...creds, ...ENV_KEYS } });
        },
      ]),
    );
  });
});

test('YAML parse errors on or next to the line with the AuthKey', async () => {
  const item = (extra: string) => `gateways:\n  - region: cn-hangzhou\n    ip: 203.0.113.1\n    asn: "65001"\n${extra}`;
  const files: Record<string, string> = {
    'alias.yaml': item(`    auth_key: *${AK_HEAD}\n`),
    'alias-quoted-neighbour.yaml': item(`    auth_key: ${yamlSingle(AUTH_KEY)}\n    name: *${AK_HEAD}\n`),
    'bad-indent-after.yaml': item(`    auth_key: ${yamlSingle(AUTH_KEY)}\n   name: x\n  bad: [\n`),
    'reserved.yaml': item(`    auth_key: @${AUTH_KEY}\n`),
    'backtick.yaml': item(`    auth_key: \`${AUTH_KEY}\n`),
    'duplicate.yaml': item(`    auth_key: ${yamlSingle(AUTH_KEY)}\n    auth_key: ${yamlSingle(AUTH_KEY + 'x')}\n`),
    'tab.yaml': item(`\tauth_key: ${yamlSingle(AUTH_KEY)}\n`),
    'unterminated.yaml': item(`    auth_key: "${AUTH_KEY.replace(/["\\]/g, '')}\n    name: x\n`),
    'flow.yaml': item(`    auth_key: {${AK_HEAD}: ${AK_TAIL}\n`),
    'list-value.yaml': item(`    auth_key: [${yamlSingle(AUTH_KEY)}]\n`),
    'tagged.yaml': item(`    auth_key: !!binary ${Buffer.from(AUTH_KEY).toString('base64')}\n`),
    'two-docs.yaml': item(`    auth_key: ${yamlSingle(AUTH_KEY)}\n---\n${item(`    auth_key: ${yamlSingle(AUTH_KEY)}\n`)}`),
    'comment.yaml': item(`    auth_key: ${AK_HEAD}/+=%<>${AK_TAIL} #rest-of-key\n`),
    'number.yaml': item(`    auth_key: 0${'1234567'}\n    name: ${yamlSingle(AUTH_KEY)}\n    bogus: [\n`),
  };
  await scenario(files, async ({ run, path }) => {
    await pool(
      Object.keys(files).flatMap((f, i) => [
        () => run(`plan ${f} ${i % 2 ? 'json' : 'text'}`, ['plan', path(f), '--offline', '--format', i % 2 ? 'json' : 'text'], { env: ENV_KEYS }),
        () => run(`apply ${f}`, ['apply', path(f), '--endpoint', emu.url, '--yes', '--format', i % 2 ? 'text' : 'json'], { env: { ...creds, ...ENV_KEYS } }),
      ]),
    );
  });
});

// --- 2. validation errors -----------------------------------------------------------------------------------------

test('validation errors on rows whose AuthKey (valid or invalid) contains the marker', async () => {
  const rows = [
    ['cn-hangzhou', '203.0.113.1', 'space', '65001', `${AUTH_KEY} x`],
    ['cn-hangzhou', '203.0.113.2', 'qmark', '65001', `${AUTH_KEY}?`],
    ['cn-hangzhou', '203.0.113.3', 'long', '65001', AUTH_KEY.repeat(3)],
    ['cn-hangzhou', '203.0.113.4', 'cjk', '65001', `${AUTH_KEY}密`],
    ['cn-hangzhou', '203.0.113.5', 'tab', '65001', `${AUTH_KEY}\tx`],
    ['cn-hangzhou', '203.0.113.6', 'no-asn', '', AUTH_KEY],
    ['cn-hangzhou', '203.0.113.07', 'bad-ip', '65001', AUTH_KEY],
    ['cn-hangzhou', '203.0.113.8', 'bad-asn', '1.23E+11', AUTH_KEY],
    ['cn-hangzhou', '203.0.113.9', 'dup', '65001', AUTH_KEY],
    ['cn-hangzhou', '203.0.113.9', 'dup', '65001', AUTH_KEY],
    ['cn-nowhere-9', '203.0.113.10', 'region', '65001', AUTH_KEY],
    ['', '203.0.113.11', 'no-region', '65001', AUTH_KEY],
    ['cn-hangzhou', '203.0.113.12', `name ${AUTH_KEY}`, '65001', AUTH_KEY],
    ['cn-hangzhou', '203.0.113.13', 'padded', '65001', `  ${AUTH_KEY}  `],
    ['cn-hangzhou', '203.0.113.14', 'ok', '65001', AUTH_KEY],
  ];
  const csv = 'region,ip,name,asn,auth_key,auth_key_env,tags\n' + rows.map((r) => [...r.map(csvCell), '', ''].join(',')).join('\n') + '\n' +
    // both auth_key and auth_key_env, an env var that is missing, and a tag holding the key
    `cn-hangzhou,203.0.113.20,both,65001,${csvCell(AUTH_KEY)},BGP_KEY_A,\n` +
    `cn-hangzhou,203.0.113.21,missing-env,65001,env:NOPE_NOT_SET,,\n` +
    `cn-hangzhou,203.0.113.22,tag,65001,${csvCell(AUTH_KEY)},,${csvCell(`acs:k=${AUTH_KEY}`)}\n`;
  const yaml = [
    'gateways:',
    `  - {region: cn-hangzhou, ip: 192.0.2.1, asn: "65001", auth_key: ${yamlSingle(AUTH_KEY + ' x')}}`,
    `  - {region: cn-hangzhou, ip: 192.0.2.2, auth_key: ${yamlSingle(AUTH_KEY)}}`,
    `  - {region: cn-hangzhou, ip: 192.0.2.3, asn: "65001", auth_key: ${yamlSingle(AUTH_KEY)}, auth_key_env: BGP_KEY_A}`,
    `  - {region: cn-hangzhou, ip: 192.0.2.04, asn: "65001", auth_key: ${yamlSingle(AUTH_KEY)}}`,
    `  - {region: cn-hangzhou, ip: 192.0.2.5, asn: "65001", auth_key: ${yamlSingle(AUTH_KEY.repeat(3))}}`,
    '',
  ].join('\n');
  await scenario({ 'invalid.csv': csv, 'invalid.yaml': yaml }, async ({ run, path }) => {
    const env = { ...creds, ...ENV_KEYS };
    // Plans and refused applies write nothing and take no lock: they can overlap.
    await pool(
      ['invalid.csv', 'invalid.yaml'].flatMap((f) =>
        ['text', 'json'].flatMap((fmt) => [
          async () => {
            const off = await run(`plan --offline ${f} ${fmt}`, ['plan', path(f), '--offline', '--format', fmt], { env: ENV_KEYS });
            assert.equal(off.code, 1, off.stderr);
          },
          async () => {
            const on = await run(`plan online ${f} ${fmt}`, ['plan', path(f), '--endpoint', emu.url, '--format', fmt], { env });
            assert.equal(on.code, 1, on.stderr);
          },
          () => run(`apply refused ${f} ${fmt}`, ['apply', path(f), '--endpoint', emu.url, '--yes', '--format', fmt], { env }),
        ]),
      ),
      4,
    );
    // --skip-invalid: the valid rows go out, the invalid ones land in the reports and the journal.
    await Promise.all(
      ['invalid.csv', 'invalid.yaml'].map(async (f) => {
        const s = await run(`apply --skip-invalid ${f}`, ['apply', path(f), '--endpoint', emu.url, '--yes', '--skip-invalid'], { env });
        assert.equal(s.code, 1, s.stderr);
        await run(`status ${f}`, ['status', path(f), '--format', 'json'], { env: creds });
        await run(`status ${f} text`, ['status', path(f)], { env: creds });
        await run(`report ${f}`, ['report', path(f)], { env: creds });
      }),
    );
  });
});

// --- 3. the happy paths: every way to supply the key, plan/apply/status/report, text and JSON --------------------

/** Every authKeyFingerprint in a journal: keyed HMAC, never the key nor an unkeyed hash of it. */
function checkFingerprints(journal: string): number {
  let n = 0;
  const raw = sha256hex(AUTH_KEY);
  for (const line of readFileSync(journal, 'utf8').split('\n')) {
    if (!line.trim()) continue;
    const rec = JSON.parse(line) as Record<string, unknown>;
    const visit = (v: unknown): void => {
      if (!v || typeof v !== 'object') return;
      for (const [k, x] of Object.entries(v)) {
        if (k === 'authKeyFingerprint' && typeof x === 'string') {
          n++;
          assert.match(x, /^hmac-sha256:[0-9a-f]{32}$/);
          assert.notEqual(x, AUTH_KEY);
          assert.ok(!raw.startsWith(x.slice('hmac-sha256:'.length)), 'the fingerprint is not an unkeyed sha256 of the key');
        } else visit(x);
      }
    };
    visit(rec);
  }
  return n;
}
function sha256hex(s: string): string {
  return createHash('sha256').update(s).digest('hex');
}

test('every way to supply the key: plan, apply, rerun, status and report in text and JSON', async () => {
  await scenario({ 'ways.csv': csvAllWays(100), 'ways.yaml': yamlAllWays(100) }, async ({ run, path }) => {
    for (const f of ['ways.csv', 'ways.yaml']) {
      const env = { ...creds, ...ENV_KEYS };
      assert.equal((await run(`plan ${f}`, ['plan', path(f), '--endpoint', emu.url], { env })).code, 0);
      assert.equal((await run(`plan ${f} json`, ['plan', path(f), '--endpoint', emu.url, '--format', 'json'], { env })).code, 0);
      assert.equal((await run(`plan offline ${f}`, ['plan', path(f), '--offline'], { env: ENV_KEYS })).code, 0);
      const a = await run(`apply ${f}`, ['apply', path(f), '--endpoint', emu.url, '--yes'], { env });
      assert.equal(a.code, 0, a.stderr);
      const j = await run(`apply again ${f} json`, ['apply', path(f), '--endpoint', emu.url, '--yes', '--format', 'json'], { env });
      assert.equal(j.code, 0, j.stderr);
      await run(`status ${f}`, ['status', path(f)], { env });
      await run(`status ${f} json`, ['status', path(f), '--format', 'json'], { env });
      await run(`report ${f}`, ['report', path(f), '--report-dir', path(`${f}.rep2`)], { env });
      const fps = checkFingerprints(path(`${f}.state.jsonl`));
      assert.ok(fps >= 3, `${f}: expected AuthKey fingerprints in the journal, found ${fps}`);
    }
    // The keys really reached the (emulated) cloud, so the scan above is meaningful.
    const withKey = gateways().filter((g) => g.IpAddress.startsWith('203.0.100.') || g.IpAddress.startsWith('198.51.100.'));
    // The state dump shows keys as keyed fingerprints only; the emulator computes the one to compare with.
    assert.equal(withKey.filter((g) => g.AuthKey?.fingerprint === emu.fingerprint(AUTH_KEY)).length, 7);
  });
});

function gateways(): Array<{ CustomerGatewayId: string; IpAddress: string; AuthKey?: { fingerprint: string; length: number } }> {
  const out: any[] = [];
  for (const acc of Object.values<any>(emu.state().accounts)) for (const reg of Object.values<any>(acc.regions ?? {})) out.push(...reg.gateways);
  return out;
}

test('gateways that already hold the key in the cloud: inventory, adopt and conflicts when the manifest lacks the key', async () => {
  // Rows whose IPs were created with the marker key above; this manifest names no key, so the redactor does not know it.
  const other = [
    'region,ip,name,asn',
    'cn-hangzhou,203.0.100.1,literal,65001',
    'cn-hangzhou,203.0.100.2,renamed,65099',
    'cn-shanghai,203.0.100.3,env-col,65003',
  ].join('\n') + '\n';
  const withOtherKey = [
    'region,ip,name,asn,auth_key',
    'cn-hangzhou,203.0.100.1,literal,65001,other-key-1',
    'cn-shanghai,203.0.100.3,env-col,65003,other-key-2',
  ].join('\n') + '\n';
  await scenario({ 'nokey.csv': other, 'otherkey.csv': withOtherKey }, async ({ run, path }) => {
    for (const f of ['nokey.csv', 'otherkey.csv']) {
      for (const fmt of ['text', 'json']) {
        await run(`plan ${f} ${fmt}`, ['plan', path(f), '--endpoint', emu.url, '--format', fmt], { env: creds });
        await run(`apply ${f} ${fmt}`, ['apply', path(f), '--endpoint', emu.url, '--yes', '--format', fmt], { env: creds });
      }
      await run(`status ${f}`, ['status', path(f), '--format', 'json'], { env: creds });
    }
  });
});

// --- 4. API errors of every kind ----------------------------------------------------------------------------------

const FAULTS = ['conflict', 'throttle', 'unavailable', 'internal', 'html', 'empty', 'reset', 'hang', 'commit-drop'] as const;

test('every injected fault kind on CreateCustomerGateway (hang -> timeout, commit-drop -> replay)', async () => {
  const faults = Object.fromEntries(FAULTS.map((k) => [k, 0.03]));
  emu.resetStats();
  emu.configure({ faults, faultActions: ['CreateCustomerGateway'] });
  try {
    await scenario({ 'faults.csv': manyRows(8, 24), 'faults.yaml': yamlAllWays(101) }, async ({ run, path }) => {
      const env = { ...creds, ...ENV_KEYS };
      await Promise.all([
        run('apply faults.csv text', ['apply', path('faults.csv'), '--endpoint', emu.url, '--yes', '--timeout', '250', '--rate', '200'], { env }),
        run('apply faults.yaml json', ['apply', path('faults.yaml'), '--endpoint', emu.url, '--yes', '--timeout', '250', '--rate', '200', '--format', 'json'], { env }),
      ]);
      emu.configure({ faults: {} });
      await run('rerun faults.csv', ['apply', path('faults.csv'), '--endpoint', emu.url, '--yes', '--retry-failed'], { env });
      await run('status faults.yaml', ['status', path('faults.yaml')], { env });
      await run('report faults.yaml', ['report', path('faults.yaml')], { env });
    });
  } finally {
    emu.configure({ faults: {}, faultActions: [] });
  }
  const seen = emu.stats().actions.CreateCustomerGateway ?? {};
  const kinds = Object.keys(seen).join(', ');
  assert.ok(Object.keys(seen).length >= 4, `expected several fault kinds to fire, saw: ${kinds}`);
});

/**
 * Plan-time reads failing (retried with backoff, then the plan stops with the API error) mostly wait, so this
 * scenario runs on its own emulator in the background from the start of the file; its test only awaits it.
 */
function readsFailingScenario(): Promise<void> {
  return (async () => {
    const own = await startEmulator({
      accounts: [ACCOUNT],
      seed: 78,
      faults: { hang: 0.25, html: 0.25, internal: 0.25, empty: 0.25 },
      faultActions: ['DescribeRegions', 'DescribeCustomerGateways'],
      log: (line) => emuLog.push(line),
    });
    try {
      await scenario({ 'one.csv': csvAllWays(102) }, async ({ run, path }) => {
        const env = { ...creds, ...ENV_KEYS };
        const runs = await Promise.all([
          run('plan reads failing', ['plan', path('one.csv'), '--endpoint', own.url, '--timeout', '150'], { env }),
          run('plan reads failing json', ['plan', path('one.csv'), '--endpoint', own.url, '--timeout', '150', '--format', 'json'], { env }),
          run('apply reads failing json', ['apply', path('one.csv'), '--endpoint', own.url, '--yes', '--timeout', '150', '--format', 'json'], { env }),
        ]);
        for (const r of runs) assert.equal(r.code, 2, r.stderr);
      });
    } finally {
      await own.close();
    }
  })();
}

test('API errors on the plan-time reads (DescribeRegions / DescribeCustomerGateways), timeouts included', async () => {
  await readsFailing;
});

test('errors the emulator raises itself: region quota, user quota, forbidden, sub-user, RAM permission', async () => {
  const flagsList: Array<Record<string, boolean>> = [
    { forbidden: true },
    { subUser: true },
    { noRamPermission: true },
    { userGatewayQuotaFull: true },
  ];
  const none = { forbidden: false, subUser: false, noRamPermission: false, userGatewayQuotaFull: false, financialLocked: false, vpnConfiguring: false };
  await scenario({ 'deny.csv': csvAllWays(103) }, async ({ run, path }) => {
    const env = { ...creds, ...ENV_KEYS };
    try {
      for (const flags of flagsList) {
        emu.setAccountFlags(ACCOUNT.accountId, { ...none, ...flags });
        const name = Object.keys(flags)[0];
        await run(`apply ${name}`, ['apply', path('deny.csv'), '--endpoint', emu.url, '--yes', '--max-failures', '1'], { env });
        await run(`apply ${name} json`, ['apply', path('deny.csv'), '--endpoint', emu.url, '--yes', '--format', 'json', '--retry-failed'], { env });
      }
      emu.setAccountFlags(ACCOUNT.accountId, none);
      emu.configure({ quota: 0 });
      await run('apply quota', ['apply', path('deny.csv'), '--endpoint', emu.url, '--yes', '--retry-failed', '--quota', '1000'], { env });
    } finally {
      emu.setAccountFlags(ACCOUNT.accountId, none);
      emu.configure({ quota: 100 });
    }
    await run('status deny', ['status', path('deny.csv'), '--format', 'json'], { env });
    await run('report deny', ['report', path('deny.csv')], { env });
  });
});

// --- 5. authentication failures -----------------------------------------------------------------------------------

test('auth failures: wrong secret (string to sign holds the key and token), unknown key id, bad/missing token', async () => {
  await scenario({ 'auth.csv': csvAllWays(104), 'auth.yaml': yamlAllWays(104) }, async ({ run, path }) => {
    const variants: Array<[string, Record<string, string>]> = [
      ['wrong secret', { ...creds, ALIBABA_CLOUD_ACCESS_KEY_SECRET: WRONG_SECRET }],
      ['unknown key id', { ...creds, ALIBABA_CLOUD_ACCESS_KEY_ID: 'LTAI5tNoSuchKey0000' }],
      ['wrong token', { ...creds, ALIBABA_CLOUD_SECURITY_TOKEN: `${TOKEN.slice(0, -1)}Q` }],
      ['no token', { ALIBABA_CLOUD_ACCESS_KEY_ID: ACCOUNT.accessKeyId, ALIBABA_CLOUD_ACCESS_KEY_SECRET: SECRET }],
      ['legacy env names', { ALICLOUD_ACCESS_KEY: ACCOUNT.accessKeyId, ALICLOUD_SECRET_KEY: WRONG_SECRET }],
    ];
    // Each fails at the first (plan-time) read, before the journal is opened, so the runs can overlap.
    await pool(
      variants.flatMap(([label, c]) => {
        const env = { ...c, ...ENV_KEYS };
        return [
          async () => {
            const p = await run(`plan ${label} csv`, ['plan', path('auth.csv'), '--endpoint', emu.url], { env });
            assert.equal(p.code, 2, `${label}: ${p.stderr}`);
          },
          () => run(`plan ${label} yaml json`, ['plan', path('auth.yaml'), '--endpoint', emu.url, '--format', 'json'], { env }),
          () => run(`apply ${label} csv json`, ['apply', path('auth.csv'), '--endpoint', emu.url, '--yes', '--format', 'json'], { env }),
          () => run(`apply ${label} yaml`, ['apply', path('auth.yaml'), '--endpoint', emu.url, '--yes'], { env }),
        ];
      }),
      4,
    );
    // The same manifests with the right credentials: the failures above left nothing behind that breaks a run.
    const ok = await run('plan ok', ['plan', path('auth.csv'), '--endpoint', emu.url], { env: { ...creds, ...ENV_KEYS } });
    assert.equal(ok.code, 0, ok.stderr);
    await run('status after auth', ['status', path('auth.csv'), '--format', 'json'], { env: creds });
  });
});

// --- 6. crash and interrupt ---------------------------------------------------------------------------------------

function manyRows(base: number, n: number): string {
  const lines = ['region,ip,name,asn,auth_key,auth_key_env'];
  for (let i = 1; i <= n; i++) {
    const how = i % 3;
    lines.push(`cn-hangzhou,10.${base}.0.${i},row-${i},${65000 + i},${how === 0 ? csvCell(AUTH_KEY) : how === 1 ? 'env:BGP_KEY_A' : ''},${how === 2 ? 'BGP_KEY_B' : ''}`);
  }
  return lines.join('\n') + '\n';
}

test('SIGKILL mid-apply, then SIGINT mid-apply, then a rerun to completion', async () => {
  emu.configure({ latency: { minMs: 20, maxMs: 40 }, faults: { 'commit-drop': 0.1, reset: 0.05 }, faultActions: ['CreateCustomerGateway'] });
  try {
    await scenario({ 'crash.csv': manyRows(7, 30) }, async ({ run, path }) => {
      const env = { ...creds, ...ENV_KEYS };
      const args = ['apply', path('crash.csv'), '--endpoint', emu.url, '--yes', '--rate', '20', '--concurrency', '4', '--format', 'json'];
      let killed = false;
      const k = await run('apply SIGKILL', args, {
        env,
        onStdout: (chunk, child) => {
          if (!killed && chunk.includes('"row:done"')) {
            killed = true;
            child.kill('SIGKILL');
          }
        },
      });
      assert.equal(k.signal, 'SIGKILL', 'the run was killed mid-way');
      let interrupted = false;
      const i = await run('apply SIGINT', args, {
        env,
        onStdout: (chunk, child) => {
          if (!interrupted && chunk.includes('"row:done"')) {
            interrupted = true;
            child.kill('SIGINT');
          }
        },
      });
      assert.equal(i.code, 130, i.stderr);
      // Twice Ctrl-C: abort at once.
      let sigs = 0;
      await run('apply SIGINT x2', [...args.slice(0, -2)], {
        env,
        onStdout: (_chunk, child) => {
          if (sigs < 2) {
            sigs++;
            child.kill('SIGINT');
          }
        },
      });
      await run('status mid', ['status', path('crash.csv')], { env });
      emu.configure({ faults: {}, latency: { minMs: 0, maxMs: 0 } });
      const done = await run('apply to completion', [...args.slice(0, -2), '--rate', '100'], { env });
      assert.equal(done.code, 0, done.stderr);
      await run('status end', ['status', path('crash.csv'), '--format', 'json'], { env });
      await run('report end', ['report', path('crash.csv')], { env });
      checkFingerprints(path('crash.csv.state.jsonl'));
    });
  } finally {
    emu.configure({ faults: {}, faultActions: [], latency: { minMs: 0, maxMs: 0 } });
  }
});

// --- 7. --sandbox (the embedded emulator writes its own data file) -------------------------------------------------

test('--sandbox: the embedded emulator, its announcement and data file', async () => {
  await scenario({ 'sb.csv': csvAllWays(105) }, async ({ run, path }) => {
    const r = await run('apply --sandbox', ['apply', path('sb.csv'), '--sandbox', '--sandbox-data', path('sandbox/data.json'), '--yes'], { env: ENV_KEYS });
    assert.equal(r.code, 0, r.stderr);
    await run('plan --sandbox json', ['plan', path('sb.csv'), '--sandbox', '--sandbox-data', path('sandbox/data.json'), '--format', 'json'], { env: ENV_KEYS });
    // The sandbox data file is the emulated cloud's database: it must hold the AuthKey (DescribeCustomerGateway
    // returns it). Check it is private and holds the key nowhere but in gateway AuthKey fields.
    const data = path('sandbox/data.json');
    assert.equal(statSync(data).mode & 0o077, 0, 'the sandbox data file is private (0600)');
    checkEmulatorData(data);
    // Not an output of the tool beyond the emulated cloud state: remove it before the whole-dir scan.
    writeFileSync(data, '');
  });
});

/** The emulator's data file: no access secret / token anywhere; the AuthKey only as a stored gateway attribute. */
function checkEmulatorData(file: string): void {
  const bytes = readFileSync(file);
  assert.deepEqual(findLeaks(file, bytes, SECRET_NEEDLES), []);
  const doc = JSON.parse(bytes.toString('utf8'));
  const strip = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(strip);
    if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).filter(([k]) => k !== 'AuthKey').map(([k, x]) => [k, strip(x)]));
    return v;
  };
  assert.deepEqual(findLeaks(`${file} (AuthKey fields removed)`, Buffer.from(JSON.stringify(strip(doc)))), []);
}

// --- 8. the emulator as a command ---------------------------------------------------------------------------------

function spawnEmulator(args: string[], onOut?: (s: string, stop: () => void) => void): Promise<{ stdout: string; stderr: string; code: number | null }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cliBin, 'emulator', ...args], {
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...hermeticEnv },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    // Only a safety net against an emulator that never stops: the first run includes a whole apply, which a loaded
    // 2-core machine may take tens of seconds to start and finish. Nothing here asserts a duration.
    const timer = setTimeout(() => child.kill('SIGKILL'), 180_000);
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
      onOut?.(stdout, () => child.kill('SIGINT'));
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ stdout, stderr, code });
    });
  });
}

test('`cgw-batch emulator` with a marker account: its output, its data file, and a corrupt data file', async () => {
  const t = tempDir();
  const leaks: string[] = [];
  try {
    const data = t.path('emu.json');
    writeFileSync(t.path('m.csv'), csvAllWays(106));
    let url = '';
    const started = await spawnEmulator(
      ['--port', '0', '--data', data, '--account', `${ACCOUNT.accessKeyId}:${SECRET}:${ACCOUNT.accountId}`, '--seed', '5'],
      (out, stop) => {
        const m = /listening on (\S+)/.exec(out);
        if (m && !url && out.includes('\n', out.indexOf('listening'))) {
          url = m[1]!;
          // Create through the CLI (no token on this account), then stop the emulator.
          void runCli(['apply', t.path('m.csv'), '--endpoint', url, '--yes', '--format', 'json'], {
            env: { ALIBABA_CLOUD_ACCESS_KEY_ID: ACCOUNT.accessKeyId, ALIBABA_CLOUD_ACCESS_KEY_SECRET: SECRET, ...ENV_KEYS },
          }).then((r) => {
            leaks.push(...findLeaks('apply against the emulator command stdout', Buffer.from(r.stdout)), ...findLeaks('… stderr', Buffer.from(r.stderr)));
            assert.equal(r.code, 0, r.stderr);
            stop();
          }, stop);
        }
      },
    );
    leaks.push(...findLeaks('emulator stdout', Buffer.from(started.stdout)), ...findLeaks('emulator stderr', Buffer.from(started.stderr)));
    assert.ok(url, `the emulator started: ${started.stderr}`);
    assert.ok(existsSync(data));
    checkEmulatorData(data);
    // A corrupt data file that holds the key: the start-up error must not quote it.
    const text = readFileSync(data, 'utf8');
    const at = text.indexOf('"AuthKey"');
    assert.ok(at > 0, 'the data file has a gateway with an AuthKey');
    writeFileSync(t.path('corrupt.json'), text.slice(0, at) + '"AuthKey":' + text.slice(at + '"AuthKey":"'.length));
    writeFileSync(t.path('truncated.json'), text.slice(0, at + 30));
    for (const f of ['corrupt.json', 'truncated.json']) {
      const r = await spawnEmulator(['--port', '0', '--data', t.path(f)], (_out, stop) => stop());
      assert.equal(r.code, 2, r.stdout + r.stderr);
      leaks.push(...findLeaks(`emulator --data ${f} stdout`, Buffer.from(r.stdout)), ...findLeaks(`emulator --data ${f} stderr`, Buffer.from(r.stderr)));
    }
    // Bad --account values: the usage error never echoes the secret.
    for (const bad of [`${SECRET}`, `a:${SECRET}:bad id!`, `:${SECRET}`]) {
      const r = await spawnEmulator(['--port', '0', '--account', bad]);
      assert.equal(r.code, 2);
      leaks.push(...findLeaks(`emulator --account ${bad.slice(0, 3)}… stderr`, Buffer.from(r.stdout + r.stderr)));
    }
  } finally {
    t.cleanup();
  }
  allLeaks.push(...leaks);
  assert.deepEqual(leaks, [], leaks.join('\n'));
});

// --- 9. the shared emulator's own log and data file, after everything above -----------------------------------

test('the in-process emulator log and data file hold no marker (AuthKey only as stored gateway state)', async () => {
  await emu.close();
  const log = Buffer.from(emuLog.join('\n'), 'utf8');
  assert.ok(emuLog.length > 50, 'the emulator logged the requests');
  const leaks = findLeaks('emulator log', log);
  const data = join(emuDir.dir, 'emulator-data.json');
  assert.ok(existsSync(data));
  checkEmulatorData(data);
  for (const f of walkFiles(emuDir.dir)) if (f !== data) leaks.push(...findLeaks(f, readFileSync(f)));
  allLeaks.push(...leaks);
  assert.deepEqual(leaks, [], leaks.join('\n'));
  // Restart so after() can close it again harmlessly.
  emu = await startEmulator({ accounts: [ACCOUNT], seed: 1 });
  mkdirSync(emuDir.dir, { recursive: true });
  assert.deepEqual(allLeaks, []);
  assert.ok(scanned.runs > 100, `scanned ${scanned.runs} CLI runs, ${scanned.files} files, ${scanned.bytes} bytes`);
});
