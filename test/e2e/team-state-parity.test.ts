// The same manifest through the built CLI with its journal in a file, in PostgreSQL (a server this file starts) and in
// OSS (the emulator, --state-endpoint): plan, apply, status, the reports and destroy say the same thing on every backend,
// and the reports stay beside the manifest (nothing of the journal lands there when it is shared).
import '../helpers/env.js';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { parse } from 'csv-parse/sync';
import { DEFAULT_ACCOUNT, startEmulator, type Emulator } from '../../src/emulator/index.js';
import { startOssEmulator, type OssEmulator } from '../../src/emulator/oss/server.js';
import { runCli, type CliResult } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';
import { pgBinDir, startPgServer, type PgServer } from '../state/backend/pg-server.js';

const NO_PG = pgBinDir() ? false : 'PostgreSQL binaries not found under /usr/lib/postgresql (apt-get install -y postgresql; .ci/run does)';
const creds = { ALIBABA_CLOUD_ACCESS_KEY_ID: DEFAULT_ACCOUNT.accessKeyId, ALIBABA_CLOUD_ACCESS_KEY_SECRET: DEFAULT_ACCOUNT.accessKeySecret };
let vpc: Emulator;
let oss: OssEmulator;
let pg: PgServer | undefined;
let db = '';
const dirs: Array<ReturnType<typeof tempDir>> = [];

before(async () => {
  vpc = await startEmulator({ accounts: [DEFAULT_ACCOUNT], rates: { CreateCustomerGateway: 500, DescribeCustomerGateways: 500, DeleteCustomerGateway: 500 }, seed: 3 });
  oss = await startOssEmulator({ accounts: [{ accessKeyId: DEFAULT_ACCOUNT.accessKeyId, accessKeySecret: DEFAULT_ACCOUNT.accessKeySecret }] });
  if (!NO_PG) {
    pg = await startPgServer();
    db = await pg.database(`parity_${process.pid}_${randomBytes(3).toString('hex')}`);
  }
});

after(async () => {
  await vpc?.close();
  await oss?.close();
  await pg?.stop();
  for (const d of dirs) d.cleanup();
});

// Two regions, optional fields present and absent.
const MANIFEST =
  'region,ip,name,asn,description\n' +
  'cn-hangzhou,198.51.77.1,branch-1,65001,first\n' +
  'cn-hangzhou,198.51.77.2,branch-2,65002,\n' +
  'cn-shanghai,198.51.77.3,branch-3,,third\n';

function cloudIps(): string[] {
  const acc = (vpc.state() as unknown as { accounts: Record<string, { regions: Record<string, { gateways: Array<{ IpAddress: string }> }> }> }).accounts;
  return Object.values(acc[DEFAULT_ACCOUNT.accountId]?.regions ?? {})
    .flatMap((r) => r.gateways.map((g) => g.IpAddress))
    .filter((ip) => ip.startsWith('198.51.77.'))
    .sort();
}

/** What may differ between two runs of the same manifest: ids, tokens, times, durations, where the journal is. */
function normalize(text: string, journal: string, dir: string): string {
  // A journal file under the working directory is also named relative to it (status, the run's last lines).
  const relative = journal.startsWith('/') ? journal.slice(journal.lastIndexOf('/') + 1) : undefined;
  const masked = text.split(journal).join('<journal>');
  return (relative ? masked.split(relative).join('<journal>') : masked)
    .split(dir)
    .join('<dir>')
    .replace(/cgw-[0-9a-z]{6,}/g, '<cgw>')
    .replace(/[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}/gi, '<uuid>')
    .replace(/\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z/g, '<time>')
    .replace(/\d{8}T\d{6}Z/g, '<stamp>')
    .replace(/\btime="[\d.]+"/g, 'time="0"')
    .replace(/"(\w*(?:Ms|_ms|_s|Sec|seconds|elapsed|duration)\w*)":\s*[\d.]+/gi, '"$1":0')
    .replace(/\b\d+(\.\d+)? ?(ms|s)\b/g, '<dur>')
    .replace(/\d+(\.\d+)? rows?\/s/g, '<rate>');
}

interface Transcript {
  steps: Array<{ step: string; code: number | null; stdout: string; stderr: string }>;
  reports: Record<string, string>;
  besideManifest: string[];
}

async function transcript(kind: 'file' | 'postgres' | 'oss'): Promise<Transcript> {
  const t = tempDir({ 'branches.csv': MANIFEST });
  dirs.push(t);
  const estate = `parity-${randomBytes(3).toString('hex')}`;
  // PostgreSQL through the environment, OSS through the flags: both forms are documented.
  const env: Record<string, string> = kind === 'postgres' ? { ...creds, CGW_BATCH_STATE: `${db}?estate=${estate}` } : creds;
  const ossFlags = kind === 'oss' ? ['--state', `oss://cgw-state/parity?estate=${estate}`, '--state-endpoint', oss.url] : [];
  const journal =
    kind === 'file' ? t.path('branches.csv.state.jsonl') : kind === 'postgres' ? new RegExp(`postgres://[^\\s"]*#${estate}`) : `oss://cgw-state/parity/${estate}`;
  const out: Transcript = { steps: [], reports: {}, besideManifest: [] };
  const step = async (name: string, args: string[], online = true): Promise<CliResult> => {
    const r = await runCli([...args, ...ossFlags, ...(online ? ['--endpoint', vpc.url] : [])], { env, cwd: t.dir, timeoutMs: 120_000 });
    const j = typeof journal === 'string' ? journal : (r.stdout + r.stderr).match(journal)?.[0] ?? '<none>';
    out.steps.push({ step: name, code: r.code, stdout: normalize(r.stdout, j, t.dir), stderr: normalize(r.stderr, j, t.dir) });
    return r;
  };
  await step('plan', ['plan', 'branches.csv', '--format', 'json']);
  await step('apply', ['apply', 'branches.csv', '--yes', '--format', 'json']);
  assert.deepEqual(cloudIps(), ['198.51.77.1', '198.51.77.2', '198.51.77.3'], `${kind}: the three valid rows exist`);
  await step('plan again', ['plan', 'branches.csv']);
  await step('status', ['status', 'branches.csv', '--format', 'json'], false);
  await step('status text', ['status', 'branches.csv'], false);
  for (const f of readdirSync(t.path('branches.csv.results'), { withFileTypes: true }).filter((d) => d.isFile()).map((d) => d.name).sort()) {
    if (f.endsWith('.xlsx')) continue;
    let text = readFileSync(t.path(`branches.csv.results/${f}`), 'utf8');
    if (f.endsWith('.csv')) {
      // A row's time column is the only one that may differ: zero it by name, compare the rest cell by cell.
      const rows = parse(text, { bom: true, columns: true }) as Array<Record<string, string>>;
      text = rows.map((r) => JSON.stringify(Object.fromEntries(Object.entries(r).map(([k, v]) => [k, /(_ms|_s|duration|elapsed)$/.test(k) ? '0' : v])))).join('\n');
    }
    out.reports[f] = normalize(text, typeof journal === 'string' ? journal : '<none>', t.dir);
  }
  await step('destroy', ['destroy', 'branches.csv', '--yes', '--format', 'json']);
  assert.deepEqual(cloudIps(), [], `${kind}: destroyed`);
  await step('status after destroy', ['status', 'branches.csv', '--format', 'json'], false);
  out.besideManifest = readdirSync(t.dir).sort();
  return out;
}

let file: Transcript | undefined;
const reference = async (): Promise<Transcript> => (file ??= await transcript('file'));

/** Every line that differs from the file journal's transcript, as `step: want -> got` (all of them, for one readable failure). */
function differences(got: Transcript, want: Transcript): string[] {
  const out: string[] = [];
  const lines = (name: string, g: string | undefined, w: string | undefined) => {
    const gl = (g ?? '').split('\n');
    const wl = (w ?? '').split('\n');
    for (let i = 0; i < Math.max(gl.length, wl.length); i++) if (gl[i] !== wl[i]) out.push(`${name} line ${i + 1}:\n  file: ${wl[i]}\n  here: ${gl[i]}`);
  };
  for (let i = 0; i < Math.max(got.steps.length, want.steps.length); i++) {
    const g = got.steps[i];
    const w = want.steps[i];
    if (g?.step !== w?.step || g?.code !== w?.code) out.push(`step ${i + 1}: file ${w?.step} exit ${w?.code}, here ${g?.step} exit ${g?.code}`);
    lines(`${w?.step} stdout`, g?.stdout, w?.stdout);
  }
  for (const f of new Set([...Object.keys(want.reports), ...Object.keys(got.reports)])) lines(f, got.reports[f], want.reports[f]);
  return out;
}

test('the file journal: the reference transcript, with the journal and the reports beside the manifest', { timeout: 300_000 }, async () => {
  const f = await reference();
  assert.deepEqual(
    f.steps.map((s) => [s.step, s.code]),
    [
      ['plan', 0],
      ['apply', 0],
      ['plan again', 0],
      ['status', 0],
      ['status text', 0],
      ['destroy', 0],
      ['status after destroy', 0],
    ],
  );
  assert.ok(f.reports['results.csv'], 'results.csv written');
  assert.deepEqual(f.besideManifest, ['branches.csv', 'branches.csv.results', 'branches.csv.state.jsonl', 'branches.csv.state.jsonl.bak']);
});

test('postgres: every command prints what it prints over a file journal; the reports stay beside the manifest', { timeout: 300_000, skip: NO_PG }, async () => {
  const want = await reference();
  const got = await transcript('postgres');
  assert.deepEqual(differences(got, want), [], 'postgres: every output as with a file journal');
  assert.deepEqual(got.besideManifest, ['branches.csv', 'branches.csv.results'], 'no journal file beside the manifest');
});

test('oss (--state oss://... --state-endpoint): every command prints what it prints over a file journal; the reports stay local', { timeout: 300_000 }, async () => {
  const want = await reference();
  const got = await transcript('oss');
  assert.deepEqual(differences(got, want), [], 'oss: every output as with a file journal');
  assert.deepEqual(got.besideManifest, ['branches.csv', 'branches.csv.results'], 'no journal file beside the manifest');
});
