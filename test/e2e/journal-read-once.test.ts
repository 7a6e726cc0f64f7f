// apply, destroy and plan read the journal file once per run: traced in the spawned CLI itself (every open of the
// journal and the bytes read through it, test/helpers/trace-journal-reads.ts), against the emulator on 127.0.0.1.
import '../helpers/env.js';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { DEFAULT_ACCOUNT, startEmulator, type Emulator } from '../../src/emulator/index.js';
import { runCli } from '../helpers/cli.js';
import { repoRoot } from '../helpers/paths.js';
import { tempDir } from '../helpers/tmp.js';

const creds = { ALIBABA_CLOUD_ACCESS_KEY_ID: DEFAULT_ACCOUNT.accessKeyId, ALIBABA_CLOUD_ACCESS_KEY_SECRET: DEFAULT_ACCOUNT.accessKeySecret };
const preload = pathToFileURL(join(repoRoot, 'dist', 'test', 'helpers', 'trace-journal-reads.js')).href;
let emu: Emulator;
before(async () => {
  emu = await startEmulator({ accounts: [DEFAULT_ACCOUNT], rates: { CreateCustomerGateway: 200, DescribeCustomerGateways: 200 }, seed: 5 });
});
after(async () => {
  await emu.close();
});

interface Opened {
  path: string;
  flags: string;
  bytesRead: number;
}

async function traced(t: ReturnType<typeof tempDir>, args: string[], name: string): Promise<{ code: number | null; opened: Opened[]; out: string }> {
  const traceFile = t.path(`${name}.trace.json`);
  const r = await runCli([...args, '--endpoint', emu.url], { env: { ...creds, NODE_OPTIONS: `--import=${preload}`, CGW_TRACE_FILE: traceFile } });
  return { code: r.code, opened: JSON.parse(readFileSync(traceFile, 'utf8')) as Opened[], out: r.stdout + r.stderr };
}

const reads = (opened: Opened[]) => opened.filter((o) => o.bytesRead > 0);

test('a run reads the journal file once: apply on an existing journal, plan, destroy', async () => {
  const row = (n: number) => `cn-hangzhou,203.0.113.${n},site-${n},6500${n}`;
  const t = tempDir({ 'm.csv': ['region,ip,name,asn', row(1), row(2)].join('\n') + '\n' });
  try {
    const csv = t.path('m.csv');
    const first = await traced(t, ['apply', csv, '--yes'], 'first');
    assert.equal(first.code, 0, first.out);
    assert.deepEqual(reads(first.opened), [], 'no journal yet: nothing to read');
    assert.ok(first.opened.length >= 1, 'the tracer sees the journal opened for appending');

    writeFileSync(csv, ['region,ip,name,asn', row(1), row(2), row(3)].join('\n') + '\n');
    const second = await traced(t, ['apply', csv, '--yes'], 'second');
    assert.equal(second.code, 0, second.out);
    assert.match(second.out, /this run: 1 created, 2 unchanged/);
    assert.equal(reads(second.opened).length, 1, JSON.stringify(second.opened));
    assert.equal(reads(second.opened)[0]?.path, t.path('m.csv.state.jsonl'));

    const plan = await traced(t, ['plan', csv], 'plan');
    assert.equal(plan.code, 0, plan.out);
    assert.equal(reads(plan.opened).length, 1, JSON.stringify(plan.opened));

    const destroy = await traced(t, ['destroy', csv, '--yes'], 'destroy');
    assert.equal(destroy.code, 0, destroy.out);
    assert.equal(reads(destroy.opened).length, 1, JSON.stringify(destroy.opened));
  } finally {
    t.cleanup();
  }
});
