// Case 29: a writer SIGKILLed at random moments, again and again: the journal always loads and keeps every durable record.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { Journal, readJournal } from '../../src/state/journal.js';
import { repoRoot } from '../helpers/paths.js';
import { tempDir } from '../helpers/tmp.js';

// Under tsx this file is .ts and the writer must go through tsx too; compiled (dist/test) both are plain .js.
const isTs = fileURLToPath(import.meta.url).endsWith('.ts');
const writer = fileURLToPath(new URL(isTs ? './journal-writer.ts' : './journal-writer.js', import.meta.url));

interface RunOutcome {
  lines: string[];
  stderr: string;
  code: number | null;
  killed: boolean;
}

function runWriter(args: string[], killAfter: { mode: 'spawn' | 'ready'; ms: number }): Promise<RunOutcome> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...(isTs ? ['--import', 'tsx'] : []), writer, ...args], {
      cwd: repoRoot,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let stderr = '';
    let killed = false;
    let timer: NodeJS.Timeout | undefined;
    const kill = () => {
      killed = child.kill('SIGKILL');
    };
    if (killAfter.mode === 'spawn') timer = setTimeout(kill, killAfter.ms);
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      if (killAfter.mode === 'ready' && timer === undefined && out.concat(d).includes('ready\n')) timer = setTimeout(kill, killAfter.ms);
      out += d;
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ lines: out.split('\n').filter(Boolean), stderr, code, killed });
    });
  });
}

test('case 29: SIGKILL at random moments never loses a durable record and the journal always loads', { timeout: 120_000 }, async (ctx) => {
  const t = tempDir({ 'branches.csv': 'region,ip\n' });
  try {
    const state = t.path('branches.csv.state.jsonl');
    const durable = new Map<string, number>();
    let maxHot = -1;
    let kills = 0;
    let tornSeen = 0;
    let takeovers = 0;
    const runs = 20;
    for (let run = 0; run < runs; run++) {
      // A third of the kills land during start-up (open, lock takeover, compaction), the rest mid-append.
      const killAfter = run % 3 === 0 ? { mode: 'spawn' as const, ms: Math.floor(Math.random() * 250) } : { mode: 'ready' as const, ms: Math.floor(Math.random() * 120) };
      const r = await runWriter([state, t.path('branches.csv'), `r${run}`, '4000'], killAfter);
      if (r.killed) kills++;
      if (/took over a stale lock/.test(r.stderr)) takeovers++;
      assert.ok(!/^error:/m.test(r.stderr), `run ${run}: the writer failed: ${r.stderr}`);
      for (const l of r.lines) {
        const [kind, a, b] = l.split(' ');
        if (kind === 'durable' && a && b) durable.set(a, Number(b));
        if (kind === 'hot' && a) maxHot = Math.max(maxHot, Number(a));
      }
      // The state must load after every kill (a torn last line is the only damage allowed).
      const loaded = await readJournal(state);
      if (loaded) {
        if (loaded.warnings.length > 0) tornSeen++;
        for (const [key, i] of durable) {
          const row = loaded.rows.get(key);
          assert.ok(row, `run ${run}: durable record ${key} is missing`);
          assert.equal(row.attempts, i);
          assert.equal(row.token, `tok-${key.split('/')[0]}-${i}`);
        }
        if (maxHot >= 0) assert.ok((loaded.rows.get('hot/0')?.attempts ?? -1) >= maxHot, 'the hot row went back in time');
      } else {
        assert.equal(durable.size, 0, 'the journal vanished after records were durable');
      }
    }
    ctx.diagnostic(`${runs} runs, ${kills} killed, ${durable.size} durable records, ${tornSeen} torn tails seen, ${takeovers} stale locks taken over`);
    assert.ok(kills >= runs / 2, `only ${kills} of ${runs} runs were killed`);
    assert.ok(durable.size > 0, 'no run got far enough to write anything');

    // The next opener takes over the dead writer's lock, removes orphan temp files and sees everything.
    const warnings: string[] = [];
    const j = await Journal.open(state, {
      manifest: { path: t.path('branches.csv'), hash: 'h' },
      endpoint: 'http://127.0.0.1:9',
      caller: { accountId: '1234567890123456', accessKeyId: 'LTAIcrashtest' },
      onWarning: (m) => warnings.push(m),
    });
    for (const [key, i] of durable) assert.equal(j.get(key)?.attempts, i);
    await j.close();
    const leftovers = readdirSync(t.dir).filter((n) => n.includes('.tmp-') && !n.includes('.lock.'));
    assert.deepEqual(leftovers, []);
    assert.deepEqual(readdirSync(t.dir).filter((n) => n.endsWith('.lock')), []);
  } finally {
    t.cleanup();
  }
});
