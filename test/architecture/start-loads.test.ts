// What a command loads, traced in the spawned CLI itself (test/helpers/trace-modules.ts): `--help` loads no package
// and no command; a plan or an apply of a CSV loads neither exceljs (results.xlsx is written without it), nor the
// PostgreSQL or OSS clients, nor the device renderers, nor the emulator. Bounded by what loads, never by time.
import '../helpers/env.js';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { DEFAULT_ACCOUNT, startEmulator, type Emulator } from '../../src/emulator/index.js';
import { runCli } from '../helpers/cli.js';
import { repoRoot } from '../helpers/paths.js';
import { tempDir } from '../helpers/tmp.js';

const creds = { ALIBABA_CLOUD_ACCESS_KEY_ID: DEFAULT_ACCOUNT.accessKeyId, ALIBABA_CLOUD_ACCESS_KEY_SECRET: DEFAULT_ACCOUNT.accessKeySecret };
const preload = pathToFileURL(join(repoRoot, 'dist', 'test', 'helpers', 'trace-modules.js')).href;
const src = pathToFileURL(join(repoRoot, 'dist', 'src')).href + '/';

let emu: Emulator;
before(async () => {
  emu = await startEmulator({ accounts: [DEFAULT_ACCOUNT], seed: 3 });
});
after(async () => {
  await emu.close();
});

/** The packages (by name) and our own modules (relative to dist/src) a CLI run loaded. */
async function loaded(t: ReturnType<typeof tempDir>, args: string[], name: string): Promise<{ code: number | null; packages: Set<string>; own: string[]; out: string }> {
  const trace = t.path(`${name}.modules`);
  const r = await runCli(args, { cwd: t.path('.'), env: { ...creds, NODE_OPTIONS: `--import=${preload}`, CGW_TRACE_MODULES: trace } });
  const urls = readFileSync(trace, 'utf8').split('\n').filter(Boolean);
  const packages = new Set<string>();
  for (const u of urls) {
    const m = /\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(u);
    if (m) packages.add(m[1]!);
  }
  const own = urls.filter((u) => u.startsWith(src)).map((u) => u.slice(src.length));
  return { code: r.code, packages, own, out: r.stdout + r.stderr };
}

const HEAVY = ['exceljs', 'pg', 'ali-oss'];
const notUnder = (own: string[], ...folders: string[]) => own.filter((m) => folders.some((f) => m.startsWith(f)));

test('--help (and a command\'s --help) loads no package and no command, only the option parser', async () => {
  const t = tempDir({});
  try {
    for (const args of [['--help'], ['apply', '--help']]) {
      const r = await loaded(t, args, args.join('-'));
      assert.equal(r.code, 0, r.out);
      assert.match(r.out, /plan/);
      assert.ok(r.own.includes('options.js'), `the tracer saw the option parser load: ${r.own.join(', ')}`);
      assert.deepEqual([...r.packages], [], `${args.join(' ')} loaded packages`);
      assert.deepEqual(notUnder(r.own, 'commands/', 'run/', 'cloud/', 'load/', 'plan/', 'report/', 'state/', 'execute/', 'device/', 'emulator/', 'ui/'), [], `${args.join(' ')} loaded command code`);
    }
  } finally {
    t.cleanup();
  }
});

test('plan --offline and apply of a CSV load no exceljs, PostgreSQL or OSS client, device renderer or emulator', async () => {
  const rows = ['cn-hangzhou', 'cn-shanghai', 'ap-southeast-1', 'eu-central-1'].map((r, i) => `${r},203.0.113.${i + 1},site-${i + 1},6500${i + 1}`);
  const t = tempDir({ 'm.csv': ['region,ip,name,asn', ...rows].join('\n') + '\n' });
  try {
    const plan = await loaded(t, ['plan', t.path('m.csv'), '--offline'], 'plan');
    assert.equal(plan.code, 0, plan.out);
    assert.ok(plan.packages.has('csv-parse'), `the tracer saw the CSV parser load: ${[...plan.packages].join(', ')}`);
    for (const p of [...HEAVY, '@alicloud/pop-core']) assert.ok(!plan.packages.has(p), `plan --offline loaded ${p}`);
    assert.deepEqual(notUnder(plan.own, 'device/vendors/', 'emulator/', 'state/backend/postgres', 'state/backend/oss'), []);

    const apply = await loaded(t, ['apply', t.path('m.csv'), '--endpoint', emu.url, '--yes', '--quiet', '--report-dir', t.path('reports')], 'apply');
    assert.equal(apply.code, 0, apply.out);
    assert.match(readFileSync(t.path('reports/results.csv'), 'utf8'), /created/);
    assert.ok(readFileSync(t.path('reports/results.xlsx')).length > 0, 'results.xlsx written');
    assert.ok(apply.packages.has('@alicloud/pop-core'), 'the tracer sees CommonJS packages (the SDK of the session)');
    for (const p of HEAVY) assert.ok(!apply.packages.has(p), `apply loaded ${p}`);
    assert.deepEqual(notUnder(apply.own, 'device/vendors/', 'emulator/', 'state/backend/postgres', 'state/backend/oss'), []);
  } finally {
    t.cleanup();
  }
});
