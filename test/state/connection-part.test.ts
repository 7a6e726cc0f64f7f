// A journal row's IPsec-connection part: patched field by field like the row (`null` removes it whole), replayed
// from the file as patches, compacted whole, checked on read, and never holding a PSK under any name.
import '../helpers/env.js';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { test } from 'node:test';
import type { JournalPort } from '../../src/execute/execute.js';
import { Journal, readJournal, toPriorRows } from '../../src/state/journal.js';
import { patchRow } from '../../src/state/records.js';
import type { JournalPatch } from '../../src/types.js';
import { MemoryJournal } from '../helpers/memory-journal.js';
import { stateDir } from './setup.js';

const KEY = 'cn-hangzhou/1.2.3.4';
const PSK = 'Never-In-The-Journal-42';

const PATCHES: JournalPatch[] = [
  { region: 'cn-hangzhou', ip: '1.2.3.4', line: 2, token: 'tok-cgw', generation: 1, status: 'created', gatewayId: 'cgw-1' },
  // The intent, before the first CreateVpnConnection.
  {
    connection: {
      status: 'in-flight',
      token: 'tok-vco',
      generation: 1,
      vpnGatewayId: 'vpn-1',
      customerGatewayIds: ['cgw-1'],
      specHash: 'h1',
      pskFingerprints: ['hmac:abc'],
      operation: 'create',
      attempts: 0,
      requestIds: [],
      startedAt: '2026-01-01T00:00:00.000Z',
    },
  },
  // The row's own fields and the connection's are patched apart: this touches only the connection.
  { connection: { status: 'unknown', errorCode: 'InternalError', errorMessage: 'boom', errorClass: 'transient', attempts: 1, requestIds: ['r1'] } },
  { connection: { status: 'created', connectionId: 'vco-1', state: 'active', errorCode: undefined, errorMessage: undefined, errorClass: undefined, attempts: 2, requestIds: ['r1', 'r2'], token: undefined } },
];

test('the connection part is patched field by field; undefined clears optional fields, never required ones; null removes it', () => {
  let row = patchRow(undefined, KEY, PATCHES[0]!);
  for (const p of PATCHES.slice(1)) row = patchRow(row, KEY, p);
  assert.deepEqual(row.connection, {
    status: 'created',
    token: 'tok-vco',
    generation: 1,
    vpnGatewayId: 'vpn-1',
    customerGatewayIds: ['cgw-1'],
    specHash: 'h1',
    pskFingerprints: ['hmac:abc'],
    operation: 'create',
    attempts: 2,
    requestIds: ['r1', 'r2'],
    startedAt: '2026-01-01T00:00:00.000Z',
    connectionId: 'vco-1',
    state: 'active',
  });
  assert.equal(row.status, 'created', "the gateway's status is its own");
  const before = row;
  row = patchRow(row, KEY, { status: 'updated' });
  assert.equal(row.connection?.status, 'created', 'a patch without the part leaves it alone');
  row = patchRow(row, KEY, { connection: null });
  assert.equal('connection' in row, false);
  assert.equal(before.connection?.connectionId, 'vco-1', 'copy on write');
});

test('file journal, its replay, its compaction and the in-memory double agree on the connection part', async () => {
  const t = stateDir();
  try {
    const file = await Journal.open(t.state, t.opts());
    const memory = new MemoryJournal();
    const ports: JournalPort[] = [file, memory];
    for (const p of PATCHES) for (const port of ports) await port.record(KEY, p);
    await file.record('cn-hangzhou/5.6.7.8', { region: 'cn-hangzhou', ip: '5.6.7.8', status: 'created', gatewayId: 'cgw-2', siteKey: KEY });
    await memory.record('cn-hangzhou/5.6.7.8', { region: 'cn-hangzhou', ip: '5.6.7.8', status: 'created', gatewayId: 'cgw-2', siteKey: KEY });
    await file.close();
    // The file holds patches of the part (one per record), not the part whole.
    const lines = readFileSync(t.state, 'utf8').trim().split('\n');
    assert.ok(lines.some((l) => l.includes('"connection":{"status":"unknown"')));
    const replayed = await readJournal(t.state);
    assert.deepEqual(memory.rows.get(KEY), replayed?.rows.get(KEY));
    assert.deepEqual(memory.rows.get('cn-hangzhou/5.6.7.8'), replayed?.rows.get('cn-hangzhou/5.6.7.8'));
    // Reopening compacts the file into one snapshot per row: the part whole, read back the same.
    const again = await Journal.open(t.state, t.opts());
    await again.close();
    const compacted = await readJournal(t.state);
    assert.deepEqual(compacted?.rows.get(KEY), memory.rows.get(KEY));
    // The planner sees the part and the second gateway's site.
    const prior = toPriorRows(compacted!.rows);
    assert.equal(prior.get(KEY)?.connection?.connectionId, 'vco-1');
    assert.equal(prior.get('cn-hangzhou/5.6.7.8')?.siteKey, KEY);
  } finally {
    t.cleanup();
  }
});

test('never a PSK: secret-looking names in the part are dropped on the way in, in memory and on disk', async () => {
  const t = stateDir();
  try {
    const file = await Journal.open(t.state, t.opts());
    const memory = new MemoryJournal();
    const smuggled = { connection: { status: 'created', psk: PSK, Psk: PSK, preSharedKey: PSK, tunnelPsk: PSK, authKey: PSK, pskFingerprints: ['fp'] } } as unknown as JournalPatch;
    for (const port of [file, memory] as JournalPort[]) {
      await port.record(KEY, PATCHES[0]!);
      await port.record(KEY, smuggled);
    }
    await file.close();
    assert.ok(!readFileSync(t.state, 'utf8').includes(PSK));
    assert.ok(!JSON.stringify([...memory.rows.values()]).includes(PSK));
    assert.deepEqual(memory.rows.get(KEY)?.connection?.pskFingerprints, ['fp'], 'the keyed fingerprint is kept');
  } finally {
    t.cleanup();
  }
});

test('a hand-damaged connection part is refused on read, naming the field and never its value', async () => {
  const t = stateDir();
  try {
    const file = await Journal.open(t.state, t.opts());
    await file.record(KEY, PATCHES[0]!);
    await file.close();
    const good = readFileSync(t.state, 'utf8');
    for (const [bad, field] of [
      [{ status: 'created', attempts: -1 }, 'connection.attempts'],
      [{ status: 'exploded' }, 'connection.status'],
      [{ customerGatewayIds: 'cgw-1' }, 'connection.customerGatewayIds'],
      [{ connectionId: { PSK } }, 'connection.connectionId'],
    ] as const) {
      writeFileSync(t.state, good + JSON.stringify({ t: 'row', key: KEY, connection: bad, ts: 'x' }) + '\n');
      await assert.rejects(readJournal(t.state), (e: Error) => e.message.includes(`"${field}"`) && !e.message.includes(PSK));
    }
    writeFileSync(t.state, good + JSON.stringify({ t: 'row', key: KEY, connection: ['x'], ts: 'x' }) + '\n');
    await assert.rejects(readJournal(t.state), /field "connection" must be an object/);
  } finally {
    t.cleanup();
  }
});
