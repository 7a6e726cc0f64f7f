// The typed journal patch: one patch function for the file journal and its in-memory double (test/helpers), so the
// double can neither keep nor drop a field the real journal would not.
import '../helpers/env.js';
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { JournalPort } from '../../src/execute/execute.js';
import { Journal, readJournal } from '../../src/state/journal.js';
import { patchRow } from '../../src/state/records.js';
import type { JournalPatch } from '../../src/types.js';
import { MemoryJournal } from '../helpers/memory-journal.js';
import { stateDir } from './setup.js';

const KEY = 'cn-hangzhou/1.2.3.4';
const PATCHES: JournalPatch[] = [
  { region: 'cn-hangzhou', ip: '1.2.3.4', line: 2, token: 'tok-1', generation: 1, status: 'in-flight', name: 'gw', tags: [{ key: 'site', value: 'a' }] },
  { status: 'failed', errorCode: 'InternalError', errorMessage: 'boom', errorClass: 'transient', attempts: 2, requestIds: ['r1', 'r2'], durationMs: 40 },
  // undefined clears optional fields; a required field given undefined keeps its value.
  { status: 'created', gatewayId: 'cgw-1', errorCode: undefined, errorMessage: undefined, errorClass: undefined, token: undefined, generation: undefined },
];

test('patchRow: undefined clears optional fields, never required ones; rows handed out before stay as they were', () => {
  let row = patchRow(undefined, KEY, PATCHES[0]!);
  const first = row;
  for (const p of PATCHES.slice(1)) row = patchRow(row, KEY, p);
  assert.equal(row.status, 'created');
  assert.equal(row.gatewayId, 'cgw-1');
  assert.equal('errorCode' in row, false);
  assert.equal(row.token, 'tok-1');
  assert.equal(row.generation, 1);
  assert.equal(first.status, 'in-flight', 'copy on write');
  // A secret-looking name a careless caller might smuggle in never lands in a row.
  const smuggled = { authKey: 'not-stored' } as JournalPatch;
  assert.equal('authKey' in patchRow(row, KEY, smuggled), false);
});

test('the in-memory journal is a JournalPort and ends with exactly the rows the file journal keeps', async () => {
  const t = stateDir();
  try {
    const file = await Journal.open(t.state, t.opts());
    const memory = new MemoryJournal();
    // Both are checked against the executor's port type.
    const ports: JournalPort[] = [file, memory];
    for (const p of PATCHES) for (const port of ports) await port.record(KEY, p);
    await file.close();
    const reread = await readJournal(t.state);
    assert.deepEqual(memory.rows.get(KEY), file.rows().get(KEY));
    assert.deepEqual(memory.rows.get(KEY), reread?.rows.get(KEY));
  } finally {
    t.cleanup();
  }
});
