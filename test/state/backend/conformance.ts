// The state backend conformance suite: every backend (file, PostgreSQL, OSS) must pass these same cases.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { hostname } from 'node:os';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import type { BackendSpec } from '../../../src/state/backend/index.js';
import { LeaseBusyError, LeaseLostError, type HolderInfo, type Lease, type StateBackend } from '../../../src/state/backend/types.js';
import { repoRoot } from '../../helpers/paths.js';
import type { WorkerJob } from './worker.js';

/** One estate for one test: plain-data spec for child processes, in-process opener, cleanup. */
export interface EstateFixture {
  spec: BackendSpec;
  open(): Promise<StateBackend>;
  /** Arranges that the NEXT append through backends from open() lands but its answer is lost. */
  loseNextAnswer(): Promise<void>;
  /** How many answers were actually lost so far (the case must not pass without its fault). */
  answersLost(): number;
  /** Writes a torn record at the end of the log as a crashed writer would; undefined when the store cannot tear. */
  tear?: (fragment: string) => Promise<void>;
  cleanup(): Promise<void>;
}

export interface BackendHarness {
  name: string;
  /** The ttl the fixtures' specs use. */
  ttlMs: number;
  heartbeatMs: number;
  /** True when a SIGKILLed holder's death is certain at once (a local pid, a closed session); false: after ttl. */
  killSeenAtOnce: boolean;
  /** Host name a child claims so that the store judges it by heartbeat (the file lock trusts local pids). */
  foreignHost: string;
  estate(): Promise<EstateFixture>;
}

const holder = (tag = 'parent'): HolderInfo => ({ host: hostname(), pid: process.pid, startedAt: new Date().toISOString(), runId: tag });
const rec = (o: Record<string, unknown>) => JSON.stringify({ t: 'row', ...o });

const isTs = fileURLToPath(import.meta.url).endsWith('.ts');
const workerPath = fileURLToPath(new URL(isTs ? './worker.ts' : './worker.js', import.meta.url));

/** A spawned worker, its stdout lines, and a bounded wait for a line. */
export class Worker {
  readonly lines: string[] = [];
  stderr = '';
  readonly exited: Promise<number | null>;
  private waiters: Array<() => void> = [];

  constructor(readonly job: WorkerJob) {
    this.proc = spawn(process.execPath, [...(isTs ? ['--import', 'tsx'] : []), workerPath, JSON.stringify(job)], {
      cwd: repoRoot,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let buf = '';
    this.proc.stdout?.setEncoding('utf8').on('data', (d: string) => {
      buf += d;
      const parts = buf.split('\n');
      buf = parts.pop() ?? '';
      this.lines.push(...parts);
      for (const w of this.waiters.splice(0)) w();
    });
    this.proc.stderr?.setEncoding('utf8').on('data', (d: string) => (this.stderr += d));
    this.exited = new Promise((resolve) =>
      this.proc.on('close', (code) => {
        for (const w of this.waiters.splice(0)) w();
        resolve(code);
      }),
    );
  }
  readonly proc: ChildProcess;

  /** Waits for a stdout line matching `re` (bounded: the test's own timeout is the real bound). */
  async waitFor(re: RegExp, ms = 60_000): Promise<string> {
    const until = Date.now() + ms;
    for (;;) {
      const hit = this.lines.find((l) => re.test(l));
      if (hit) return hit;
      const err = this.lines.find((l) => l.startsWith('error '));
      if (err) throw new Error(`worker ${this.job.id}: ${err}\n${this.stderr}`);
      if (this.proc.exitCode !== null || Date.now() > until) throw new Error(`worker ${this.job.id} never printed ${re}: ${this.lines.join(' | ')}\n${this.stderr}`);
      await new Promise<void>((r) => {
        this.waiters.push(r);
        setTimeout(r, 200).unref();
      });
    }
  }

  send(line: string): void {
    this.proc.stdin?.write(line + '\n');
  }

  kill(sig: NodeJS.Signals): void {
    if (this.proc.exitCode === null) this.proc.kill(sig);
  }
}

async function withEstate(h: BackendHarness, fn: (fx: EstateFixture, open: () => Promise<StateBackend>) => Promise<void>): Promise<void> {
  const fx = await h.estate();
  const opened: StateBackend[] = [];
  const leases: Lease[] = [];
  const open = async () => {
    const b = await fx.open();
    opened.push(b);
    const acquire = b.acquire.bind(b);
    b.acquire = async (o) => {
      const l = await acquire(o);
      leases.push(l);
      return l;
    };
    return b;
  };
  try {
    await fn(fx, open);
  } finally {
    for (const l of leases) await l.release().catch(() => undefined);
    for (const b of opened) await b.close().catch(() => undefined);
    await fx.cleanup();
  }
}

function rows(records: readonly string[]): Array<Record<string, unknown>> {
  return records.map((r) => JSON.parse(r) as Record<string, unknown>);
}

export function conformance(h: BackendHarness): void {
  const name = (s: string) => `${h.name}: ${s}`;

  test(name('a new estate reads as absent; its first lease reads an empty log; records read back in order, byte for byte'), async () => {
    await withEstate(h, async (_fx, open) => {
      const a = await open();
      assert.equal(await a.read(), undefined);
      const lease = await a.acquire({ holder: holder() });
      assert.deepEqual(lease.log.records, []);
      const batches = [[rec({ n: 1, s: 'é ü 漢字 "quoted" \\ back' })], [rec({ n: 2 }), rec({ n: 3, nested: { a: [1, 2, { b: null }] } })]];
      for (const b of batches) await lease.append(b);
      const b = await open();
      const seen = await b.read();
      assert.deepEqual(seen?.records, batches.flat());
      assert.deepEqual(seen?.warnings, []);
      await lease.release();
      const again = await b.acquire({ holder: holder() });
      assert.deepEqual(again.log.records, batches.flat(), 'the next lease reads what was appended');
      await again.append([rec({ n: 4 })]);
      assert.deepEqual((await a.read())?.records, [...batches.flat(), rec({ n: 4 })]);
    });
  });

  test(name('an estate leased but never written reads as absent, while held and after release (a refused first apply leaves no journal)'), async () => {
    await withEstate(h, async (_fx, open) => {
      const a = await open();
      const lease = await a.acquire({ holder: holder() });
      const reader = await open();
      assert.equal(await reader.read(), undefined, 'while held');
      await lease.release();
      assert.equal(await reader.read(), undefined, 'after release');
      const next = await a.acquire({ holder: holder() });
      assert.deepEqual(next.log.records, [], 'the next lease starts an empty log');
      await next.release();
    });
  });

  test(name('records that are not one JSON object on one line are refused before anything is written'), async () => {
    await withEstate(h, async (_fx, open) => {
      const lease = await (await open()).acquire({ holder: holder() });
      for (const bad of ['not json', '{"a":1}\n{"b":2}', '', '[1,2]']) await assert.rejects(lease.append([bad]), /one JSON object on one line/);
      await lease.append([rec({ ok: true })]);
      assert.deepEqual((await (await open()).read())?.records, [rec({ ok: true })]);
    });
  });

  test(name('a torn last record is dropped with a warning, and appends after it stay readable'), async (t) => {
    await withEstate(h, async (fx, open) => {
      if (!fx.tear) {
        t.skip(`${h.name} stores whole records only: a torn tail cannot exist`);
        return;
      }
      const a = await open();
      const lease = await a.acquire({ holder: holder() });
      await lease.append([rec({ n: 1 }), rec({ n: 2 })]);
      await lease.release();
      await fx.tear('{"t":"row","n":3,"half');
      const seen = await a.read();
      assert.deepEqual(seen?.records, [rec({ n: 1 }), rec({ n: 2 })]);
      assert.match(seen?.warnings.join('\n') ?? '', /dropped an? (incomplete|unreadable) last line/);
      const warnings: string[] = [];
      const next = await a.acquire({ holder: holder(), onWarning: (m) => warnings.push(m) });
      assert.deepEqual(next.log.records, [rec({ n: 1 }), rec({ n: 2 })]);
      assert.ok(warnings.some((w) => /last line/.test(w)), warnings.join('\n'));
      await next.append([rec({ n: 4 })]);
      const after = await (await open()).read();
      assert.deepEqual(after?.records, [rec({ n: 1 }), rec({ n: 2 }), rec({ n: 4 })]);
      assert.deepEqual(after?.warnings, [], 'the torn part no longer shows');
    });
  });

  test(name('batches are atomic: a concurrent reader sees whole batches (the file may show the batch being written as a prefix)'), async () => {
    await withEstate(h, async (_fx, open) => {
      const lease = await (await open()).acquire({ holder: holder() });
      const reader = await open();
      const size = 40;
      let done = false;
      let reads = 0;
      const check = (records: readonly string[]) => {
        const seen = rows(records);
        for (let i = 0; i < seen.length; ) {
          const b = seen[i]?.['b'] as number;
          let j = i;
          while (j < seen.length && seen[j]?.['b'] === b) j++;
          const whole = j - i === size;
          const lastAndPrefix = j === seen.length && h.name === 'file';
          assert.ok(whole || lastAndPrefix, `batch ${b} seen with ${j - i} of ${size} records`);
          for (let k = i; k < j; k++) assert.equal(seen[k]?.['j'], k - i, 'records of a batch in order');
          i = j;
        }
      };
      const readLoop = (async () => {
        while (!done) {
          const r = await reader.read();
          if (r) check(r.records);
          reads++;
        }
      })();
      for (let b = 0; b < 12; b++) await lease.append(Array.from({ length: size }, (_, j) => rec({ b, j, pad: 'x'.repeat(200) })));
      done = true;
      await readLoop;
      const final = await reader.read();
      assert.equal(final?.records.length, 12 * size);
      check(final?.records ?? []);
      assert.ok(reads > 0);
    });
  });

  test(name('two holders race for the lease: exactly one wins, the others are refused naming it'), async () => {
    await withEstate(h, async (_fx, open) => {
      for (let round = 0; round < 3; round++) {
        const backends = await Promise.all(Array.from({ length: 6 }, () => open()));
        const results = await Promise.allSettled(backends.map((b, i) => b.acquire({ holder: holder(`r${round}-${i}`) })));
        const won = results.filter((r): r is PromiseFulfilledResult<Lease> => r.status === 'fulfilled');
        assert.equal(won.length, 1, `round ${round}: ${won.length} winners`);
        for (const r of results) if (r.status === 'rejected') assert.ok(r.reason instanceof LeaseBusyError, String(r.reason));
        const winner = won[0]?.value;
        assert.ok(winner);
        await winner.append([rec({ round })]);
        await winner.release();
      }
      assert.deepEqual(rows((await (await open()).read())?.records ?? []).map((r) => r['round']), [0, 1, 2]);
    });
  });

  test(name('release lets the next runner in at once; the released lease appends nothing'), async () => {
    await withEstate(h, async (_fx, open) => {
      const a = await (await open()).acquire({ holder: holder('a') });
      await a.append([rec({ by: 'a' })]);
      await a.release();
      await a.release();
      assert.equal(a.signal.aborted, true);
      await assert.rejects(a.append([rec({ by: 'a-late' })]), LeaseLostError);
      const started = performance.now();
      const b = await (await open()).acquire({ holder: holder('b') });
      assert.ok(performance.now() - started < h.ttlMs, 'no ttl wait after a release');
      assert.ok(b.takeover === undefined, 'a released lease is not a takeover');
      if (a.epoch !== undefined) assert.ok((b.epoch ?? 0) > a.epoch, 'the epoch grows');
      await b.append([rec({ by: 'b' })]);
      assert.deepEqual(rows((await (await open()).read())?.records ?? []).map((r) => r['by']), ['a', 'b']);
    });
  });

  test(name("a broken lease fences its holder: the stale holder's append is refused and its signal aborts"), async () => {
    await withEstate(h, async (_fx, open) => {
      const a = await (await open()).acquire({ holder: holder('a') });
      await a.append([rec({ by: 'a', n: 1 })]);
      const admin = await open();
      assert.equal((await admin.status()).held, true);
      const removed = await admin.breakLease();
      assert.equal(removed?.runId, 'a');
      const b = await (await open()).acquire({ holder: holder('b') });
      await b.append([rec({ by: 'b', n: 2 })]);
      await assert.rejects(a.append([rec({ by: 'a', n: 3 })]), (e: unknown) => {
        assert.ok(e instanceof LeaseLostError, String(e));
        return true;
      });
      assert.equal(a.signal.aborted, true);
      assert.throws(() => a.assertHeld(), LeaseLostError);
      await b.append([rec({ by: 'b', n: 4 })]);
      assert.deepEqual(rows((await admin.read())?.records ?? []).map((r) => r['n']), [1, 2, 4]);
      // The stale holder's release must not free the successor's lease.
      await a.release();
      await assert.rejects((await open()).acquire({ holder: holder('c') }), LeaseBusyError);
    });
  });

  test(name('a live holder keeps its lease past the ttl: a waiting runner is refused'), async () => {
    await withEstate(h, async (_fx, open) => {
      const a = await (await open()).acquire({ holder: holder('a') });
      const started = performance.now();
      await assert.rejects((await open()).acquire({ holder: holder('b'), waitMs: h.ttlMs * 1.6 }), LeaseBusyError);
      assert.ok(performance.now() - started >= h.ttlMs * 1.6 - 50, 'it waited');
      a.assertHeld();
      await a.append([rec({ still: 'a' })]);
    });
  });

  test(name('a frozen holder is taken over only after the ttl on the taker’s clock; thawed, it is fenced'), { timeout: 120_000 }, async () => {
    await withEstate(h, async (fx, open) => {
      const w = new Worker({ spec: fx.spec, id: 'frozen', mode: 'hold', batches: 1, batchSize: 2, waitMs: 0, host: h.foreignHost });
      try {
        await w.waitFor(/^holding$/);
        w.kill('SIGSTOP');
        const stoppedAt = performance.now();
        const warnings: string[] = [];
        const b = await (await open()).acquire({ holder: holder('taker'), waitMs: h.ttlMs * 4 + 10_000, onWarning: (m) => warnings.push(m) });
        const waited = performance.now() - stoppedAt;
        assert.ok(waited >= h.ttlMs - h.heartbeatMs, `taken over after ${Math.round(waited)} ms, before the ttl ${h.ttlMs} ms minus a beat`);
        assert.ok(waited <= h.ttlMs + 5_000 + h.heartbeatMs, `took ${Math.round(waited)} ms (ttl ${h.ttlMs} ms + 5 s)`);
        assert.ok(b.takeover, `the lease says it took over: ${warnings.join(' | ')}`);
        assert.equal(b.log.records.length, 3, 'begin + the frozen holder’s durable batch');
        await b.append([rec({ by: 'taker' })]);
        w.kill('SIGCONT');
        w.send('append');
        assert.match(await w.waitFor(/^(appended|refused)/), /^refused LeaseLostError aborted$/);
        const seen = rows((await (await open()).read())?.records ?? []);
        assert.equal(seen.filter((r) => r['kind'] === 'late').length, 0, 'the thawed holder wrote nothing');
        assert.equal(seen.at(-1)?.['by'], 'taker');
      } finally {
        w.kill('SIGCONT');
        w.kill('SIGKILL');
        await w.exited;
      }
    });
  });

  test(name('SIGKILL of the holder: the next runner takes over and keeps every acknowledged record'), { timeout: 120_000 }, async () => {
    await withEstate(h, async (fx, open) => {
      const w = new Worker({ spec: fx.spec, id: 'killed', mode: 'hold', batches: 3, batchSize: 5, waitMs: 0 });
      await w.waitFor(/^holding$/);
      w.kill('SIGKILL');
      await w.exited;
      const killedAt = performance.now();
      const b = await (await open()).acquire({ holder: holder('next'), waitMs: h.ttlMs * 4 + 10_000 });
      const waited = performance.now() - killedAt;
      if (h.killSeenAtOnce) assert.ok(waited < h.ttlMs, `a certain death is seen at once, took ${Math.round(waited)} ms`);
      else assert.ok(waited >= h.ttlMs - h.heartbeatMs && waited <= h.ttlMs + 5_000 + h.heartbeatMs, `took ${Math.round(waited)} ms for ttl ${h.ttlMs}`);
      assert.ok(b.takeover, 'reported as a takeover');
      const durable = w.lines.filter((l) => l.startsWith('durable ')).length;
      assert.equal(durable, 3);
      assert.equal(b.log.records.length, 1 + 3 * 5);
    });
  });

  test(name('compaction under concurrent readers: every read is a whole state, never a mix, never going back'), async () => {
    await withEstate(h, async (_fx, open) => {
      const lease = await (await open()).acquire({ holder: holder() });
      const readers = await Promise.all([open(), open()]);
      let n = 0;
      let done = false;
      // The state is the counter n: records {n} one by one; a snapshot is {upto: n}.
      const value = (records: readonly string[]): number => {
        let v = 0;
        for (const r of rows(records)) {
          if (typeof r['upto'] === 'number') {
            assert.equal(v, 0, 'a snapshot only starts a log');
            v = r['upto'];
          } else {
            assert.equal(r['n'], v + 1, `record ${String(r['n'])} after ${v}: a gap or a mix`);
            v = r['n'] as number;
          }
        }
        return v;
      };
      const loops = readers.map(async (r) => {
        let last = 0;
        let reads = 0;
        while (!done || reads === 0) {
          const got = await r.read();
          const v = got ? value(got.records) : 0;
          assert.ok(v >= last, `went back from ${last} to ${v}`);
          last = v;
          reads++;
        }
        return reads;
      });
      for (let round = 0; round < 6; round++) {
        for (let i = 0; i < 5; i++) await lease.append([rec({ n: ++n })]);
        await lease.compact([rec({ upto: n })]);
      }
      await lease.append([rec({ n: ++n })]);
      done = true;
      await Promise.all(loops);
      const final = await readers[0]?.read();
      assert.deepEqual(final?.records, [rec({ upto: n - 1 }), rec({ n })]);
      await lease.release();
      const next = await (await open()).acquire({ holder: holder() });
      assert.deepEqual(next.log.records, [rec({ upto: n - 1 }), rec({ n })]);
    });
  });

  test(name('an answer lost after commit: the append resolves once the batch is found durable, never duplicated'), async () => {
    await withEstate(h, async (fx, open) => {
      const lease = await (await open()).acquire({ holder: holder() });
      await lease.append([rec({ n: 1 })]);
      await fx.loseNextAnswer();
      await lease.append([rec({ n: 2 }), rec({ n: 3 })]);
      assert.equal(fx.answersLost(), 1, 'the answer was really lost');
      await lease.append([rec({ n: 4 })]);
      assert.deepEqual(rows((await (await open()).read())?.records ?? []).map((r) => r['n']), [1, 2, 3, 4]);
      lease.assertHeld();
    });
  });

  test(name('N processes race on one estate: each appends its run exactly once, runs never interleave'), { timeout: 120_000 }, async () => {
    await withEstate(h, async (fx, open) => {
      const n = 4;
      const workers = Array.from(
        { length: n },
        (_, i) => new Worker({ spec: fx.spec, id: `w${i}`, mode: 'race', batches: 3, batchSize: 4, waitMs: 90_000 }),
      );
      const codes = await Promise.all(workers.map((w) => w.exited));
      for (const w of workers) assert.ok(w.lines.includes('released'), `${w.job.id}: ${w.lines.join(' | ')} ${w.stderr}`);
      assert.deepEqual(codes, Array(n).fill(0));
      const seen = rows((await (await open()).read())?.records ?? []);
      assert.equal(seen.length, n * (2 + 3 * 4));
      // Contiguous runs: begin, 12 batch records in order, end, per worker, each worker once.
      const order: string[] = [];
      for (let i = 0; i < seen.length; i += 14) {
        const w = seen[i]?.['w'] as string;
        order.push(w);
        assert.equal(seen[i]?.['kind'], 'begin');
        for (let k = 1; k <= 12; k++) {
          assert.equal(seen[i + k]?.['w'], w, 'runs interleaved');
          assert.deepEqual([seen[i + k]?.['i'], seen[i + k]?.['j']], [Math.floor((k - 1) / 4), (k - 1) % 4]);
        }
        assert.equal(seen[i + 13]?.['kind'], 'end');
      }
      assert.deepEqual([...order].sort(), workers.map((w) => w.job.id).sort());
    });
  });
}
