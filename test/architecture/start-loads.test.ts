// What a command loads, traced in the spawned CLI itself (test/helpers/trace-modules.ts): `--help` loads no package
// and no command; a plan or an apply of a CSV loads neither exceljs (results.xlsx is written without it), nor the
// PostgreSQL or OSS clients, nor the device renderers, nor the emulator. Our own modules are traced in the compiled
// modules (dist/src, whose imports the bundle keeps as chunk boundaries); packages in both it and the bundle the bin
// runs (dist/cli). Bounded by what loads, never by time.
import '../helpers/env.js';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { DEFAULT_ACCOUNT, startEmulator, type Emulator } from '../../src/emulator/index.js';
import { hermeticEnv } from '../helpers/env.js';
import { cliBin, repoRoot } from '../helpers/paths.js';
import { tempDir } from '../helpers/tmp.js';

const creds = { ALIBABA_CLOUD_ACCESS_KEY_ID: DEFAULT_ACCOUNT.accessKeyId, ALIBABA_CLOUD_ACCESS_KEY_SECRET: DEFAULT_ACCOUNT.accessKeySecret };
const preload = pathToFileURL(join(repoRoot, 'dist', 'test', 'helpers', 'trace-modules.js')).href;
const src = pathToFileURL(join(repoRoot, 'dist', 'src')).href + '/';
/** The bin (the bundle) and the compiled modules it is built from. */
const ENTRY = { bin: cliBin, modules: join(repoRoot, 'dist', 'src', 'cli.js') };

let emu: Emulator;
before(async () => {
  emu = await startEmulator({ accounts: [DEFAULT_ACCOUNT], seed: 3 });
});
after(async () => {
  await emu.close();
});

interface Loaded {
  code: number | null;
  out: string;
  /** Packages (by name) the process loaded. */
  packages: Set<string>;
  /** Our own modules, relative to dist/src (the `modules` entry only). */
  own: string[];
}

function run(entry: string, args: string[], cwd: string, env: Record<string, string>): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [entry, ...args], { cwd, env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...hermeticEnv, CI: '1', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, out }));
  });
}

async function loaded(t: ReturnType<typeof tempDir>, entry: keyof typeof ENTRY, args: string[]): Promise<Loaded> {
  const trace = t.path(`${entry}-${args.join('-').replace(/[^a-z-]/gi, '')}.modules`);
  const r = await run(ENTRY[entry], args, t.dir, { ...creds, NODE_OPTIONS: `--import=${preload}`, CGW_TRACE_MODULES: trace });
  const urls = readFileSync(trace, 'utf8').split('\n').filter(Boolean);
  const packages = new Set<string>();
  for (const u of urls) {
    const m = /\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(u);
    if (m) packages.add(m[1]!);
  }
  const own = urls.filter((u) => u.startsWith(src)).map((u) => u.slice(src.length));
  return { ...r, packages, own };
}

const HEAVY = ['exceljs', 'pg', 'ali-oss'];
const under = (own: string[], ...folders: string[]) => own.filter((m) => folders.some((f) => m.startsWith(f)));

test('--help (and a command\'s --help) loads no package and no command, only the option parser', async () => {
  const t = tempDir({});
  try {
    let helpText = '';
    for (const args of [['--help'], ['apply', '--help']]) {
      const r = await loaded(t, 'modules', args);
      if (args.length === 1) helpText = r.out;
      assert.equal(r.code, 0, r.out);
      assert.match(r.out, /plan/);
      assert.ok(r.own.includes('options.js'), `the tracer saw the option parser load: ${r.own.join(', ')}`);
      assert.deepEqual([...r.packages], [], `${args.join(' ')} loaded packages`);
      const commandCode = under(r.own, 'commands/', 'run/', 'cloud/', 'load/', 'plan/', 'report/', 'state/', 'execute/', 'device/', 'emulator/', 'ui/');
      assert.deepEqual(commandCode, [], `${args.join(' ')} loaded command code`);
    }
    const bundled = await loaded(t, 'bin', ['--help']);
    assert.equal(bundled.code, 0, bundled.out);
    assert.deepEqual([...bundled.packages], [], 'the bundle\'s --help loads no package');
    // bin/ prints the bundle's help.txt without loading the CLI: it must be the CLI's own text.
    assert.equal(bundled.out, helpText, 'bin/ --help prints what the CLI prints');
    const bare = await run(ENTRY.bin, [], t.dir, creds);
    assert.deepEqual([bare.code, bare.out], [0, helpText], 'no argument: the same help, exit 0');
  } finally {
    t.cleanup();
  }
});

test('plan --offline and apply of a CSV load no exceljs, PostgreSQL or OSS client, device renderer or emulator', async () => {
  // One manifest per run (its own addresses): each apply creates its four gateways.
  const csv = (n: number) => ['region,ip,name,asn', ...['cn-hangzhou', 'cn-shanghai', 'ap-southeast-1', 'eu-central-1'].map((r, i) => `${r},203.0.113.${n + i},site-${n + i},6500${i + 1}`)].join('\n') + '\n';
  const t = tempDir({ 'm.csv': csv(1), 'm-modules.csv': csv(11), 'm-bin.csv': csv(21) });
  try {
    const plan = await loaded(t, 'modules', ['plan', t.path('m.csv'), '--offline']);
    assert.equal(plan.code, 0, plan.out);
    assert.ok(plan.packages.has('csv-parse'), `the tracer saw the CSV parser load: ${[...plan.packages].join(', ')}`);
    for (const p of [...HEAVY, '@alicloud/pop-core']) assert.ok(!plan.packages.has(p), `plan --offline loaded ${p}`);
    assert.deepEqual(under(plan.own, 'device/vendors/', 'emulator/', 'state/backend/postgres', 'state/backend/oss'), []);

    for (const entry of ['modules', 'bin'] as const) {
      const reports = t.path(`reports-${entry}`);
      const apply = await loaded(t, entry, ['apply', t.path(`m-${entry}.csv`), '--endpoint', emu.url, '--yes', '--quiet', '--report-dir', reports]);
      assert.equal(apply.code, 0, apply.out);
      assert.equal(readFileSync(join(reports, 'results.csv'), 'utf8').match(/created/g)?.length, 4, `${entry}: four rows created`);
      assert.ok(readFileSync(join(reports, 'results.xlsx')).length > 0, 'results.xlsx written');
      assert.ok(apply.packages.has('@alicloud/pop-core'), `${entry}: the tracer sees CommonJS packages (the session's SDK)`);
      for (const p of HEAVY) assert.ok(!apply.packages.has(p), `${entry}: apply loaded ${p}`);
      assert.deepEqual(under(apply.own, 'device/vendors/', 'emulator/', 'state/backend/postgres', 'state/backend/oss'), []);
    }
  } finally {
    t.cleanup();
  }
});
