// Child process for the backend conformance suite: takes an estate's lease and appends, printing each step on stdout.
// Not a test file itself (no `.test.` in the name); spawned by conformance.ts with a JSON job as its argument.
import { createInterface } from 'node:readline';
import { hostname } from 'node:os';
import { openBackend, type BackendSpec } from '../../../src/state/backend/index.js';

export interface WorkerJob {
  spec: BackendSpec;
  id: string;
  /** race: acquire (waiting), append begin + batches + end, release. hold: acquire, append, then obey stdin. */
  mode: 'race' | 'hold';
  batches: number;
  batchSize: number;
  waitMs: number;
  /** Pretend to run on another machine (the file lock then judges us by heartbeat, not by pid). */
  host?: string;
}

function say(line: string): void {
  // Stdout to a pipe is synchronous on Linux: a line printed is a line the parent sees, even after SIGKILL.
  process.stdout.write(line + '\n');
}

async function main(): Promise<void> {
  const arg = process.argv[2];
  if (!arg) {
    // Also reached when a runner treats every .js under dist/test as a test file: do nothing, successfully.
    process.stderr.write('usage: worker <job json> (a helper of the backend conformance suite)\n');
    return;
  }
  const job = JSON.parse(arg) as WorkerJob;
  const backend = await openBackend(job.spec);
  const lease = await backend.acquire({
    holder: { host: job.host ?? hostname(), pid: process.pid, startedAt: new Date().toISOString() },
    waitMs: job.waitMs,
    onWarning: (m) => process.stderr.write(`warning: ${m}\n`),
  });
  say(`acquired ${lease.epoch ?? '-'} ${lease.log.records.length}`);
  const rec = (kind: string, i: number, j: number) => JSON.stringify({ t: 'row', w: job.id, kind, i, j });
  await lease.append([rec('begin', 0, 0)]);
  for (let i = 0; i < job.batches; i++) {
    await lease.append(Array.from({ length: job.batchSize }, (_, j) => rec('batch', i, j)));
    say(`durable ${i}`);
  }
  if (job.mode === 'race') {
    await lease.append([rec('end', 0, 0)]);
    await lease.release();
    await backend.close();
    say('released');
    return;
  }
  say('holding');
  // hold: each stdin line is a command; the parent freezes (SIGSTOP) or kills us between them.
  const rl = createInterface({ input: process.stdin });
  for await (const line of rl) {
    if (line === 'append') {
      try {
        await lease.append([rec('late', 0, 0)]);
        say('appended');
      } catch (e) {
        say(`refused ${(e as Error).name} ${lease.signal.aborted ? 'aborted' : 'not-aborted'}`);
      }
    } else if (line === 'assert') {
      try {
        lease.assertHeld();
        say('held');
      } catch (e) {
        say(`lost ${(e as Error).name}`);
      }
    } else if (line === 'release') {
      await lease.release();
      await backend.close();
      say('released');
      break;
    }
  }
  rl.close();
}

main().catch((e: unknown) => {
  say(`error ${(e as Error).name}: ${(e as Error).message}`);
  process.exitCode = 1;
});
