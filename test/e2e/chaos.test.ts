// The short chaos soak inside npm test: SIGKILL the apply at random moments under every fault kind until done.
import '../helpers/env.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runChaos } from '../../bench/lib/chaos.js';

test('kill -9 under faults: exactly one gateway per row, nothing lost, journal/status/report agree', { timeout: 240_000 }, async () => {
  // 20 rows per region at 4/s (about 5 s of work): kills at 0.15-2 s land inside the runs, five times over.
  const s = await runChaos({ rows: 60, minKills: 5, regions: 3, seed: 1234, rate: 4 });
  assert.ok(s.kills >= 5, s.line);
  assert.equal(s.duplicates, 0, s.line);
  assert.equal(s.extra, 0, s.line);
  assert.equal(s.lost, 0, s.line);
  assert.equal(s.gateways, 60, s.line);
  assert.equal(s.tokenReuseAcrossRows, 0, s.line);
  assert.equal(s.journalMismatches, 0, s.line);
  assert.equal(s.statusMismatches, 0, s.line);
  assert.equal(s.reportMismatches, 0, s.line);
});
