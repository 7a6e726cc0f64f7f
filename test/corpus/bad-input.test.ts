// Bad-input corpus: every manifest in test/fixtures/bad goes through the built CLI's `plan` and `apply` against the
// emulator. Each must end with its expected exit code, code and file:line, print no stack trace and no secret, send no
// mutating request (none at all when the file cannot be read), and leave nothing behind: no journal, lock or reports.
import '../helpers/env.js';
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { closeSync, copyFileSync, ftruncateSync, mkdirSync, openSync, readFileSync, readdirSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { runInNewContext } from 'node:vm';
import { setFlagsFromString } from 'node:v8';
import { DEFAULT_ACCOUNT, startEmulator, type Emulator, type EmulatorStats } from '../../src/emulator/index.js';
import { ManifestError } from '../../src/errors.js';
import { loadManifest } from '../../src/load/index.js';
import { planManifest } from '../../src/plan/plan.js';
import type { CliResult } from '../helpers/cli.js';
import { fixture } from '../helpers/paths.js';
import { tempDir } from '../helpers/tmp.js';
import { runCliBounded } from './run.js';

interface Expected {
  exit: 1 | 2;
  /** Issue code of the first error (exit 1). Exit 2 (unreadable manifest) carries no code. */
  code?: string;
  /** Line of that issue or of the load error; absent only where no line applies (empty file, size cap). */
  line?: number;
  /** Start of the one-line load error (exit 2), as the tool prints it. */
  message?: string;
  /** Every error issue as [code, line], for files breaking several rules. */
  issues?: Array<{ code: string; line: number }>;
  /** Produced by this test (too large to commit); listed here so the corpus has one table. */
  generated?: boolean;
  about: string;
}

const BAD = fixture('bad');
const EXPECTED = JSON.parse(readFileSync(join(BAD, 'expected.json'), 'utf8')) as Record<string, Expected>;
const MARKER = 'SECRET-MARKER-1234';
const creds = { ALIBABA_CLOUD_ACCESS_KEY_ID: DEFAULT_ACCOUNT.accessKeyId, ALIBABA_CLOUD_ACCESS_KEY_SECRET: DEFAULT_ACCOUNT.accessKeySecret };
// The huge cases also run under a small heap: a loader that buffered a 10 MB field several times would die here.
const SMALL_HEAP = { NODE_OPTIONS: '--max-old-space-size=64' };
const MUTATING = /^(Create|Modify|Delete|Tag|UnTag|Update|Move)/;
const STACK = /\n\s+at .+:\d+:\d+|^\s*at .+:\d+:\d+/m;
const NODE_ERROR = /^(\w*Error: |Uncaught |node:internal)/m;

/** Bytes of the generated cases, written into the case's directory (sparse where the size is all that matters). */
function generate(name: string, path: string): void {
  const MB = 1024 * 1024;
  switch (name) {
    case 'huge-cell-10mb.csv':
      return writeFileSync(path, `region,ip,name\ncn-hangzhou,203.0.113.1,ok\ncn-hangzhou,203.0.113.2,${'x'.repeat(10 * MB)}\n`);
    case 'huge-quoted-cell-10mb.csv':
      return writeFileSync(path, `region,ip,name\ncn-hangzhou,203.0.113.1,"${'x,'.repeat(5 * MB)}"\n`);
    case 'huge-no-line-breaks-5mb.csv':
      return writeFileSync(path, 'region,ip,name' + ',x'.repeat(2.5 * MB));
    case 'huge-over-size-cap.csv': {
      const fd = openSync(path, 'w');
      writeSync(fd, 'region,ip\n');
      ftruncateSync(fd, 51 * MB);
      return closeSync(fd);
    }
    case 'huge-yaml-value-10mb.yaml':
      return writeFileSync(path, `gateways:\n  - region: cn-hangzhou\n    ip: 203.0.113.1\n    name: ${'n'.repeat(10 * MB)}\n`);
    case 'huge-yaml-key-10mb.yaml':
      return writeFileSync(path, `gateways:\n  - region: cn-hangzhou\n    ip: 203.0.113.1\n    ${'k'.repeat(10 * MB)}: v\n`);
    case 'huge-authkey-40k.csv':
      return writeFileSync(path, `region,ip,asn,auth_key\ncn-hangzhou,203.0.113.1,65000,${MARKER}${'a'.repeat(40_000)}\n`);
    case 'huge-region-60k.csv':
      return writeFileSync(path, `region,ip\ncn-${'h'.repeat(60_000)},203.0.113.1\n`);
    default:
      throw new Error(`no generator for ${name}`);
  }
}

const committed = readdirSync(BAD).filter((f) => f !== 'expected.json');
const names = Object.keys(EXPECTED).sort();

test('the corpus: at least 60 cases, each committed file has an expectation and each expectation a file', () => {
  assert.ok(names.length >= 60, `${names.length} cases`);
  assert.deepEqual(committed.filter((f) => !EXPECTED[f]), [], 'files without an expectation');
  assert.deepEqual(names.filter((n) => !EXPECTED[n]!.generated && !committed.includes(n)), [], 'expectations without a file');
  for (const n of names) {
    const e = EXPECTED[n]!;
    assert.ok(e.exit === 1 || e.exit === 2, `${n}: exit ${e.exit}`);
    assert.ok(e.about.length > 3, `${n}: about`);
    if (e.exit === 1) assert.ok(e.code && e.line, `${n}: a row error needs its code and line`);
  }
});

// One emulator per worker, so each run's request counts are its own.
const WORKERS = 2;
const emus: Emulator[] = [];
let root: ReturnType<typeof tempDir>;
before(async () => {
  root = tempDir();
  for (let i = 0; i < WORKERS; i++) emus.push(await startEmulator({ accounts: [DEFAULT_ACCOUNT], rateLimits: false }));
});
after(async () => {
  await Promise.all(emus.map((e) => e.close()));
  root.cleanup();
});

interface Outcome {
  name: string;
  command: 'plan' | 'apply';
  result: CliResult;
  stats: EmulatorStats;
  leftBehind: string[];
}

async function runCase(name: string, emu: Emulator): Promise<Outcome[]> {
  const dir = join(root.dir, name.replace(/[^\w.-]/g, '_'));
  mkdirSync(dir);
  const path = join(dir, name);
  if (EXPECTED[name]!.generated) generate(name, path);
  else copyFileSync(join(BAD, name), path);
  const env = { ...creds, ...(name.startsWith('huge-') ? SMALL_HEAP : {}) };
  const out: Outcome[] = [];
  for (const command of ['plan', 'apply'] as const) {
    emu.resetStats();
    // The emulator answers at once; the request deadline is raised so that a starved machine is not taken for a hung server.
    const common = ['--endpoint', emu.url, '--timeout', '120000'];
    const args = command === 'plan' ? ['plan', path, ...common] : ['apply', path, ...common, '--yes'];
    // Bounded by CPU time, not the wall clock: under load (two suites beside it on 2 cores) a run may take minutes.
    const result = await runCliBounded(args, { env, cwd: dir });
    out.push({ name, command, result, stats: emu.stats(), leftBehind: readdirSync(dir).filter((f) => f !== name) });
  }
  return out;
}

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

function check(o: Outcome): void {
  const e = EXPECTED[o.name]!;
  const { result, stats } = o;
  const all = result.stdout + result.stderr;
  const what = `${o.command} ${o.name} (${e.about})\nexit ${result.code}\nstderr: ${result.stderr.slice(0, 2000)}\nstdout: ${result.stdout.slice(0, 2000)}`;
  assert.equal(result.code, e.exit, what);
  assert.doesNotMatch(all, STACK, `stack trace: ${what}`);
  assert.doesNotMatch(all, NODE_ERROR, `node error: ${what}`);
  assert.doesNotMatch(all, /internal error/, what);
  assert.ok(!all.includes(MARKER), `secret marker printed: ${what}`);
  // Bounded output: a 10 MB field is never echoed whole.
  assert.ok(all.length < 512 * 1024, `${all.length} characters of output: ${o.command} ${o.name}`);

  const at = (line: number) => new RegExp(`${escape(o.name)}:${line}(?=[: ])`);
  if (e.exit === 2) {
    // One clear line naming the file (and the line where one applies).
    assert.match(result.stderr, new RegExp(`^cgw-batch: .*${escape(o.name)}[: ]`), what);
    assert.equal(result.stderr.trim().split('\n').length, 1, what);
    if (e.line !== undefined) assert.match(result.stderr, at(e.line), what);
    if (e.message !== undefined) assert.ok(result.stderr.includes(e.message), `message "${e.message}": ${what}`);
    assert.equal(stats.total, 0, `no request for an unreadable manifest: ${JSON.stringify(stats.actions)}`);
  } else {
    for (const i of e.issues ?? [{ code: e.code!, line: e.line! }]) {
      assert.match(result.stdout, new RegExp(`${escape(o.name)}:${i.line}  \\S+  ${escape(i.code)}  `), `${i.code} at line ${i.line}: ${what}`);
    }
    if (o.command === 'apply') assert.match(result.stderr, /refusing to apply/, what);
  }
  const mutating = Object.keys(stats.actions).filter((a) => MUTATING.test(a));
  assert.deepEqual(mutating, [], `mutating requests: ${JSON.stringify(stats.actions)} for ${o.command} ${o.name}`);
  assert.deepEqual(o.leftBehind, [], `files written by ${o.command} ${o.name}`);
}

// No test timeout: every CLI run is bounded by its own CPU time (runCliBounded), so a hang still fails the test.
test('plan and apply on every bad manifest: exit code, code and file:line, no stack, no request, nothing written', async () => {
  const queue = [...names];
  const outcomes: Outcome[] = [];
  await Promise.all(
    emus.map(async (emu) => {
      for (let name = queue.shift(); name !== undefined; name = queue.shift()) outcomes.push(...(await runCase(name, emu)));
    }),
  );
  const failures: string[] = [];
  for (const o of outcomes) {
    try {
      check(o);
    } catch (err) {
      failures.push((err as Error).message.split('\n').slice(0, 8).join('\n'));
    }
  }
  assert.equal(outcomes.length, names.length * 2);
  assert.deepEqual(failures, [], `${failures.length} failing run(s):\n\n${failures.join('\n\n')}`);
  // Nothing anywhere in the temp tree but the manifests themselves.
  const stray = readdirSync(root.dir, { recursive: true, encoding: 'utf8' }).filter((p) => /\.state\.jsonl|\.results|\.lock/.test(p));
  assert.deepEqual(stray, []);
  const gateways = emus.flatMap((emu) => Object.values<any>((emu.state() as any).accounts ?? {}).flatMap((a) => Object.values<any>(a.regions ?? {}).flatMap((r) => r.gateways)));
  assert.equal(gateways.length, 0, 'no gateway exists in any emulator');
});

/** A callable gc without a command-line flag: expose it into a fresh context (the runner passes no --expose-gc). */
function gcFunction(): () => void {
  const g = (globalThis as { gc?: () => void }).gc;
  if (g) return g;
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}

test('memory stays flat: loading and planning the committed corpus 20 times in-process', async () => {
  const gc = gcFunction();
  const opts = { env: {} as Record<string, string | undefined> };
  const once = async (): Promise<void> => {
    for (const name of committed) {
      const e = EXPECTED[name]!;
      try {
        const m = await loadManifest(join(BAD, name), opts);
        const plan = planManifest(m, { online: false, quota: 100 });
        assert.equal(e.exit, 1, `${name} loaded, so its expectation should be a row error`);
        assert.ok(plan.summary.invalid > 0, `${name}: no invalid row offline`);
      } catch (err) {
        if (err instanceof assert.AssertionError) throw err;
        assert.ok(err instanceof ManifestError, `${name}: ${String(err)}`);
        assert.equal(e.exit, 2, `${name} threw ManifestError, so its expectation should be exit 2`);
      }
    }
  };
  const heap = (): number => {
    gc();
    gc();
    return process.memoryUsage().heapUsed;
  };
  await once();
  await once();
  const base = heap();
  for (let i = 0; i < 20; i++) await once();
  const grown = heap() - base;
  assert.ok(grown < 8 * 1024 * 1024, `heap grew by ${(grown / 1024 / 1024).toFixed(1)} MB over 20 rounds`);
});
