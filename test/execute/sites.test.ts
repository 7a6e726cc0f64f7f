// Site rows in the executor, on a fake cloud of VPN gateways whose writes start tasks on a clock: one write at a time
// per gateway and the wait after it, exactly-once connections (ClientToken, intent, tag, settle by listing), waits
// for busy gateways that are not failures, the order of creates and deletes, and no PSK in the journal.
import '../helpers/env.js';
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createInput } from '../../src/execute/connection.js';
import { executePlan } from '../../src/execute/execute.js';
import { generatePsk, PSK_ALPHABET } from '../../src/execute/psk.js';
import { connectionSpecHash } from '../../src/plan/site-identity.js';
import type { RowResult } from '../../src/types.js';
import { VirtualClock } from '../helpers/fake-clock.js';
import { ManualClock } from '../helpers/manual-clock.js';
import { MemoryJournal } from '../helpers/memory-journal.js';
import { REGION } from './fixture.js';
import { GW_A, GW_B, GW_DUAL, fingerprint, site, siteOpts, siteRow, token, vpnFake } from './site-fixture.js';

const byIp = (rs: RowResult[], ip: string): RowResult => rs.find((r) => r.ref.ip === ip)!;

/** Writes on one gateway never overlap a task: the fake says `busy` when one would. */
function busyAnswers(calls: string[]): string[] {
  return calls.filter((c) => c.endsWith(' busy'));
}

test('fresh sites: gateways, then each connection once on its gateway lane, a wait after every write, parts in the result and the journal', async () => {
  const clock = new VirtualClock();
  const fake = vpnFake(clock);
  const rows = [
    siteRow('203.0.113.1', 'create', 'create', { vpnGatewayId: GW_A }),
    siteRow('203.0.113.2', 'create', 'create', { vpnGatewayId: GW_A, remoteSubnet: ['192.168.2.0/24'], psk: { kind: 'ref', ref: 'env:SITE2', value: 'Site2-Shared-Key-xyz' } }),
    siteRow('203.0.113.3', 'create', 'create', { vpnGatewayId: GW_B, psk: undefined }),
    siteRow('203.0.113.4', 'create', 'create', { vpnGatewayId: GW_DUAL, ip2: '203.0.113.5', bgp: { tunnelCidr: '169.254.1.0/30', localBgpIp: '169.254.1.1' }, bgp2: { tunnelCidr: '169.254.2.0/30', localBgpIp: '169.254.2.1' } }),
  ];
  const o = siteOpts(fake, rows);
  const r = await executePlan(o);
  for (const x of r.results) {
    assert.equal(x.status, 'created', `${x.ref.key} gateway`);
    assert.equal(x.connection?.status, 'created', `${x.ref.key} connection: ${x.connection?.errorMessage}`);
    assert.equal(x.connection?.state, 'active');
    assert.equal(x.connection?.negotiation, 'ike_sa_not_established');
  }
  assert.equal(fake.gateways.length, 5, 'five customer gateways (one is the dual site\'s second)');
  assert.equal(fake.connections.size, 4);
  assert.deepEqual(busyAnswers(fake.vpnCalls), [], 'no write was ever sent to a busy gateway');

  // The dual site: master on its own gateway, slave on the second, with its BGP; one generated key per tunnel.
  const dual = byIp(r.results, '203.0.113.4');
  const g2 = dual.gateway2!;
  assert.equal(g2.status, 'created');
  const dv = fake.connections.get(dual.connection!.id!)!.value;
  assert.deepEqual(
    dv.tunnels.map((t) => [t.role, t.customerGatewayId, t.bgp?.tunnelCidr]),
    [
      ['master', dual.gatewayId, '169.254.1.0/30'],
      ['slave', g2.id, '169.254.2.0/30'],
    ],
  );
  const j2 = o.journal.get('cn-hangzhou/203.0.113.5');
  assert.deepEqual([j2?.status, j2?.gatewayId, j2?.siteKey], ['created', g2.id, 'cn-hangzhou/203.0.113.4'], 'the second gateway is a journal row naming its site');

  // Journal: the connection part as asked; the tool's tag on the connection; token of the row's first generation.
  const j1 = o.journal.get('cn-hangzhou/203.0.113.1')!.connection!;
  assert.equal(j1.status, 'created');
  assert.equal(j1.token, token('J1', REGION, '203.0.113.1', 1, 'vco'));
  assert.equal(j1.specHash, connectionSpecHash(rows[0]!.row!.site!, [byIp(r.results, '203.0.113.1').gatewayId!], 'generate'));
  assert.deepEqual(fake.connections.get(j1.connectionId!)?.value.tags, [{ key: 'cgw-batch:site', value: 'J1:cn-hangzhou/203.0.113.1' }]);
  assert.equal(j1.pskFingerprints?.length, 1);
  assert.equal(o.journal.get('cn-hangzhou/203.0.113.2')!.connection!.pskFingerprints?.[0], fingerprint('Site2-Shared-Key-xyz'));
  assert.equal(o.journal.get('cn-hangzhou/203.0.113.3')!.connection!.pskFingerprints, undefined, 'the API made that key: nothing sent to fingerprint');

  // Never a PSK in the journal, in any patch: every key the fake received or answered is absent.
  const written = JSON.stringify(o.journal.log) + JSON.stringify([...o.journal.rows.values()]) + JSON.stringify(r.results);
  assert.ok(fake.sink.length >= 4);
  for (const k of fake.sink) assert.ok(!written.includes(k), 'a PSK reached the journal or the results');

  // Connection lanes were announced and each reported its connections.
  const start = o.events.find((e) => e.type === 'run:start');
  assert.ok(start && start.type === 'run:start');
  assert.deepEqual(
    start.lanes.filter((l) => l.kind === 'connection').map((l) => [l.lane, l.total]),
    [
      [`AK/${REGION}/${GW_A}`, 2],
      [`AK/${REGION}/${GW_B}`, 1],
      [`AK/${REGION}/${GW_DUAL}`, 1],
    ],
  );
  assert.equal(o.events.filter((e) => e.type === 'part:done').length, 4);
  assert.equal(o.events.filter((e) => e.type === 'row:done').length, 4, 'one row:done per row, after all its parts');
});

test('one gateway, three sites: strictly one task at a time, the lane learns the task time (wall ~ 3 x task)', async () => {
  const clock = new ManualClock(1_000_000);
  const fake = vpnFake(clock);
  const rows = [1, 2, 3].map((i) => siteRow(`203.0.113.${10 + i}`, 'create', 'create', { remoteSubnet: [`192.168.${10 + i}.0/24`] }));
  const o = siteOpts(fake, rows);
  let done = false;
  const p = executePlan(o).then((r) => {
    done = true;
    return r;
  });
  await clock.runUntil(() => done, 60_000);
  const r = await p;
  assert.deepEqual(r.results.map((x) => x.connection?.status), ['created', 'created', 'created']);
  assert.deepEqual(busyAnswers(fake.vpnCalls), []);
  const elapsed = clock.now() - 1_000_000;
  assert.ok(elapsed >= 3 * 2000, `the writes are serial: ${elapsed} ms`);
  assert.ok(elapsed <= 3 * 2000 + 1500, `each wait ends soon after the task: ${elapsed} ms`);
  // Polls: a handful per task, not a busy loop.
  const polls = fake.vpnCalls.filter((c) => c.startsWith('DescribeGw')).length;
  assert.ok(polls <= 3 * 8, `${polls} DescribeVpnGateway calls`);
});

test('a create whose answer is lost (reset after commit, 500 after commit) is settled by the tag: one connection, recorded', async () => {
  for (const fault of ['commit-drop', 'commit-500'] as const) {
    const clock = new VirtualClock();
    const fake = vpnFake(clock);
    fake.vpnScript = (action, n) => (action === 'Create' && n === 1 ? fault : 'ok');
    const o = siteOpts(fake, [siteRow('203.0.113.20', 'create', 'create')]);
    const r = await executePlan(o);
    const c = r.results[0]!.connection!;
    assert.equal(c.status, 'created', `${fault}: ${c.errorMessage}`);
    assert.equal(fake.connections.size, 1, `${fault}: exactly one connection`);
    assert.match(c.note ?? '', /made by an earlier attempt/);
    assert.ok(fake.vpnCalls.some((x) => x.startsWith('ListVco')), 'settled by listing');
    assert.equal(fake.vpnCalls.filter((x) => x.startsWith('Create')).length, 1, 'no second create after the listing found it');
  }
});

test('an unknown outcome that made nothing replays the same token; the generated key is the same on the wire', async () => {
  const clock = new VirtualClock();
  const fake = vpnFake(clock);
  const sent: Array<{ token?: string; psk?: string }> = [];
  const orig = fake.createVpnConnection.bind(fake);
  fake.createVpnConnection = async (input) => {
    sent.push({ token: input.clientToken, psk: input.tunnels[0]?.psk });
    if (sent.length === 1) throw new (await import('../../src/cloud/errors.js')).CloudError({ code: 'RequestTimeout', message: 'timed out', errorClass: 'transient', outcomeUnknown: true });
    return orig(input);
  };
  const r = await executePlan(siteOpts(fake, [siteRow('203.0.113.21', 'create', 'create')]));
  assert.equal(r.results[0]!.connection?.status, 'created');
  assert.equal(sent.length, 2);
  assert.equal(sent[0]!.token, sent[1]!.token);
  assert.equal(sent[0]!.psk, sent[1]!.psk, 'the key made for this create is kept across its retries');
  assert.equal(fake.connections.size, 1);
});

test('two connections with the row\'s tag stop the row, naming both; nothing is created', async () => {
  const clock = new VirtualClock();
  const fake = vpnFake(clock);
  const journal = new MemoryJournal();
  const first = await executePlan(siteOpts(fake, [siteRow('203.0.113.22', 'create', 'create')], { journal }));
  const cgw = first.results[0]!.gatewayId!;
  // Someone copies the connection, tag and all (a second tool run with the same journal id, a manual clone).
  const c = [...fake.connections.values()][0]!;
  const clone = structuredClone(c);
  clone.value.id = 'vco-clone0001';
  clone.value.remoteSubnet = ['192.168.99.0/24'];
  fake.connections.set(clone.value.id, clone);
  await journal.record('cn-hangzhou/203.0.113.22', { connection: { status: 'unknown' } });
  const r = await executePlan(siteOpts(fake, [siteRow('203.0.113.22', 'skip', 'resume', {}, { row: { existingId: cgw } })], { journal }));
  const part = r.results[0]!.connection!;
  assert.equal(part.status, 'unknown');
  assert.equal(part.errorCode, 'Cgw.DuplicateConnection');
  assert.match(part.errorMessage ?? '', new RegExp(`${c.value.id}.*vco-clone0001`));
  assert.equal(fake.connections.size, 2, 'nothing created, nothing deleted');
});

test('resume after a crash: the listing comes first; found -> recorded without a create; none -> the same token again', async () => {
  const clock = new VirtualClock();
  const fake = vpnFake(clock);
  const journal = new MemoryJournal();
  // Run 1 journaled its intent, its create committed, and the process died before the answer was journaled.
  const row = siteRow('203.0.113.23', 'create', 'create');
  const gw0 = await fake.createCustomerGateway({ regionId: REGION, ipAddress: '203.0.113.23' });
  const tok = token('J1', REGION, '203.0.113.23', 1, 'vco');
  await journal.record(row.ref.key, { status: 'created', gatewayId: gw0.id, connection: { status: 'in-flight', token: tok, generation: 1, vpnGatewayId: GW_A, customerGatewayIds: [gw0.id], attempts: 1, requestIds: [] } });
  await fake.createVpnConnection(createInput(row.row!.site!, REGION, [gw0.id], false, ['Lost-Generated-Key-000'], [{ key: 'cgw-batch:site', value: `J1:${row.ref.key}` }], tok));
  const creates = fake.vpnCalls.filter((x) => x.startsWith('Create')).length;
  // Run 2: resume. The key `generate` would make now is never sent: the listing finds the connection first.
  const resume = siteRow('203.0.113.23', 'skip', 'resume', {}, { row: { existingId: gw0.id } });
  const r = await executePlan(siteOpts(fake, [resume], { journal }));
  assert.equal(r.results[0]!.connection?.status, 'created');
  assert.equal(fake.vpnCalls.filter((x) => x.startsWith('Create')).length, creates, 'found by the listing: no create');
  assert.equal(fake.connections.size, 1);
  assert.equal(journal.get(row.ref.key)?.connection?.connectionId, [...fake.connections.keys()][0]);

  // A resume whose earlier create made nothing: the same token (generation 1) goes out.
  const fake2 = vpnFake(new VirtualClock());
  const j2 = new MemoryJournal();
  const gw = await fake2.createCustomerGateway({ regionId: REGION, ipAddress: '203.0.113.24' });
  await j2.record('cn-hangzhou/203.0.113.24', { status: 'created', gatewayId: gw.id, connection: { status: 'in-flight', token: token('J1', REGION, '203.0.113.24', 1, 'vco'), generation: 1, vpnGatewayId: GW_A, attempts: 1, requestIds: [] } });
  const tokens: string[] = [];
  const orig2 = fake2.createVpnConnection.bind(fake2);
  fake2.createVpnConnection = async (input) => {
    tokens.push(input.clientToken!);
    return orig2(input);
  };
  const r2 = await executePlan(siteOpts(fake2, [siteRow('203.0.113.24', 'skip', 'resume', {}, { row: { existingId: gw.id } })], { journal: j2 }));
  assert.equal(r2.results[0]!.connection?.status, 'created');
  assert.deepEqual(tokens, [token('J1', REGION, '203.0.113.24', 1, 'vco')]);
  assert.equal(j2.get('cn-hangzhou/203.0.113.24')!.connection!.attempts, 2, 'attempts add up across runs');
});

test('busy gateways are waits, not failures: someone else\'s task before the write, a Configuring answer, then the same token', async () => {
  const clock = new VirtualClock();
  const fake = vpnFake(clock);
  fake.vpnGateways.get(GW_A)!.busyUntil = clock.now() + 5000;
  fake.vpnScript = (action, n) => (action === 'Create' && n === 1 ? 'VpnTask.CONFLICT' : 'ok');
  const tokens: string[] = [];
  const orig = fake.createVpnConnection.bind(fake);
  fake.createVpnConnection = async (input) => {
    tokens.push(input.clientToken!);
    return orig(input);
  };
  const r = await executePlan(siteOpts(fake, [siteRow('203.0.113.30', 'create', 'create')]));
  const c = r.results[0]!.connection!;
  assert.equal(c.status, 'created', c.errorMessage);
  assert.equal(tokens.length, 2);
  assert.equal(tokens[0], tokens[1]);
  assert.ok(fake.vpnCalls.findIndex((x) => x.includes('updating')) < fake.vpnCalls.findIndex((x) => x.startsWith('Create')), 'waited before the first write');
  assert.equal(r.results[0]!.connection?.errorCode, undefined);
});

test('a gateway that stays busy fails the part after the configured bound; the customer gateway stays created and says so', async () => {
  const clock = new VirtualClock();
  const fake = vpnFake(clock);
  fake.vpnGateways.get(GW_A)!.status = 'updating';
  const o = siteOpts(fake, [siteRow('203.0.113.31', 'create', 'create')], { vpnWaitMs: 10_000 });
  const r = await executePlan(o);
  const row = r.results[0]!;
  assert.equal(row.status, 'created', 'the customer gateway is created');
  assert.equal(row.connection?.status, 'failed');
  assert.equal(row.connection?.errorCode, 'Cgw.VpnGatewayBusy');
  assert.match(row.connection?.errorMessage ?? '', /CGW_BATCH_VPN_WAIT_MS=10000/);
  assert.ok(clock.now() <= 10_000 + 2_500, `bounded by the configuration: ${clock.now()}`);
  assert.equal(fake.connections.size, 0);
  assert.equal(o.journal.get(row.ref.key)?.status, 'created');
});

test('Ctrl-C during the wait ends it at once: the created connection is recorded, the next site is not started', async () => {
  const clock = new ManualClock(0);
  const fake = vpnFake(clock);
  fake.taskMs = 60_000;
  const stop = new AbortController();
  const rows = [siteRow('203.0.113.40', 'create', 'create'), siteRow('203.0.113.41', 'create', 'create', { remoteSubnet: ['192.168.41.0/24'] })];
  const o = siteOpts(fake, rows, { stopSignal: stop.signal });
  let done = false;
  const p = executePlan(o).then((r) => ((done = true), r));
  await clock.runUntil(() => fake.connections.size === 1, 30_000);
  const at = clock.now();
  stop.abort();
  // No timer needs to fire: the wait and the queued site leave on the stop.
  for (let i = 0; i < 50 && !done; i++) await new Promise((res) => setImmediate(res));
  assert.ok(done, 'the run ended without the clock moving');
  assert.equal(clock.now(), at);
  const r = await p;
  assert.equal(r.stopReason, 'interrupt');
  const created = r.results.find((x) => x.connection?.status === 'created');
  const other = r.results.find((x) => x !== created)!;
  assert.ok(created, 'the connection whose create was answered is recorded');
  assert.equal(other.connection?.errorCode, 'NotStarted');
  assert.equal(fake.connections.size, 1);
});

test('a failed customer gateway never gets a connection; a failed connection leaves its gateway created', async () => {
  const clock = new VirtualClock();
  const fake = vpnFake(clock);
  const orig = fake.createCustomerGateway.bind(fake);
  fake.createCustomerGateway = async (input) => {
    if (input.ipAddress === '203.0.113.50') throw new (await import('../../src/cloud/errors.js')).CloudError({ code: 'InvalidIpAddress.Malformed', message: 'bad', errorClass: 'invalid', status: 400 });
    return orig(input);
  };
  fake.vpnScript = (action) => (action === 'Create' ? 'VpnConnectionParamInvalid.SameVpnAndCgwTrafficSelectorOverlap' : 'ok');
  const r = await executePlan(siteOpts(fake, [siteRow('203.0.113.50', 'create', 'create'), siteRow('203.0.113.51', 'create', 'create')]));
  const a = byIp(r.results, '203.0.113.50');
  assert.equal(a.status, 'failed');
  assert.equal(a.connection?.errorCode, 'NotStarted');
  assert.match(a.connection?.errorMessage ?? '', /customer gateway 203\.0\.113\.50/);
  const b = byIp(r.results, '203.0.113.51');
  assert.equal(b.status, 'created');
  assert.ok(b.gatewayId);
  assert.equal(b.connection?.status, 'failed');
  assert.equal(b.connection?.errorCode, 'VpnConnectionParamInvalid.SameVpnAndCgwTrafficSelectorOverlap');
  assert.equal(fake.connections.size, 0);
});

test('update: only what changed goes in the Modify (subnet; a rotated key by reference; a dual tunnel by its tunnel ids)', async () => {
  const clock = new VirtualClock();
  const fake = vpnFake(clock);
  const journal = new MemoryJournal();
  const spec = { psk: { kind: 'ref' as const, ref: 'env:K', value: 'Old-Key-Value-0001' } };
  const dualSpec = { vpnGatewayId: GW_DUAL, ip2: '203.0.113.61', psk: { kind: 'ref' as const, ref: 'env:K', value: 'Old-Key-Value-0001' } };
  const first = await executePlan(siteOpts(fake, [siteRow('203.0.113.60', 'create', 'create', spec), siteRow('203.0.113.62', 'create', 'create', dualSpec)], { journal }));
  const [a, d] = first.results;
  fake.vpnCalls.length = 0;
  const rotated = { kind: 'ref' as const, ref: 'env:K', value: 'New-Key-Value-0002' };
  const rows = [
    siteRow('203.0.113.60', 'skip', 'update', { ...spec, remoteSubnet: ['192.168.60.0/24'], psk: rotated }, { row: { existingId: a!.gatewayId }, connection: { existingId: a!.connection!.id, changes: [{ field: 'remote_subnet' }, { field: 'psk' }] } }),
    siteRow('203.0.113.62', 'skip', 'update', { ...dualSpec, psk: rotated, profile: { ...site().profile, ike: { ...site().profile.ike, pfs: 'group5' } } }, { row: { existingId: d!.gatewayId }, gateway2: { action: 'skip', existingId: d!.gateway2!.id }, connection: { existingId: d!.connection!.id, changes: [{ field: 'psk' }, { field: 'ike_pfs' }, { field: 'ike_pfs_2' }] } }),
  ];
  const r = await executePlan(siteOpts(fake, rows, { journal }));
  assert.deepEqual(r.results.map((x) => x.connection?.status), ['updated', 'updated']);
  const mods = fake.vpnCalls.filter((x) => x.startsWith('Modify'));
  assert.deepEqual(mods.sort(), [`Modify ${a!.connection!.id} remoteSubnet,psk1`, `Modify ${d!.connection!.id} psk1,ike1:pfs,psk2,ike2:pfs`].sort());
  assert.deepEqual(fake.connections.get(d!.connection!.id!)!.psks, ['New-Key-Value-0002', 'New-Key-Value-0002']);
  assert.equal(journal.get('cn-hangzhou/203.0.113.60')!.connection!.pskFingerprints?.[0], fingerprint('New-Key-Value-0002'));
  assert.deepEqual(busyAnswers(fake.vpnCalls), []);
});

test('destroy order: connections first (delete, wait until gone), then customer gateways, the second one too; NotFound counts as done', async () => {
  const clock = new VirtualClock();
  const fake = vpnFake(clock);
  const journal = new MemoryJournal();
  const made = await executePlan(
    siteOpts(fake, [siteRow('203.0.113.70', 'create', 'create'), siteRow('203.0.113.71', 'create', 'create', { vpnGatewayId: GW_DUAL, ip2: '203.0.113.72' }), siteRow('203.0.113.73', 'create', 'create', { vpnGatewayId: GW_B })], { journal }),
  );
  const [a, b, c] = made.results;
  // Someone deletes the third site's connection by hand before destroy.
  fake.connections.delete(c!.connection!.id!);
  fake.vpnCalls.length = 0;
  fake.day2.length = 0;
  // Destroy as planned from the journal: no site spec; the second gateway as a row of its own, listed first.
  const del = (key: string, id: string, connId?: string): import('../../src/types.js').PlannedRow => {
    const [region, ip] = key.split('/') as [string, string];
    const ref = { key, file: 'sites.csv', line: 0, region, ip };
    return { ref, action: 'delete', reason: 'destroy', issues: [], inRun: true, existingId: id, ...(connId ? { connection: { key, action: 'delete' as const, reason: 'destroy', existingId: connId } } : {}) };
  };
  const rows = [
    del('cn-hangzhou/203.0.113.72', b!.gateway2!.id!),
    del('cn-hangzhou/203.0.113.70', a!.gatewayId!, a!.connection!.id),
    del('cn-hangzhou/203.0.113.71', b!.gatewayId!, b!.connection!.id),
    del('cn-hangzhou/203.0.113.73', c!.gatewayId!, c!.connection!.id),
  ];
  const r = await executePlan(siteOpts(fake, rows, { journal }));
  for (const x of r.results) assert.equal(x.status, 'deleted', `${x.ref.key}: ${x.errorMessage}`);
  assert.deepEqual(
    r.results.filter((x) => x.connection).map((x) => x.connection!.status),
    ['deleted', 'deleted', 'deleted'],
  );
  assert.equal(fake.gateways.length, 0);
  assert.equal(fake.connections.size, 0);
  assert.deepEqual(fake.day2.filter((x) => x.endsWith('in use')), [], 'no gateway delete was sent while a connection still used it');
  assert.equal(journal.get('cn-hangzhou/203.0.113.73')!.connection!.status, 'deleted', 'NotFound counts as done');
  assert.equal(journal.get('cn-hangzhou/203.0.113.70')!.connection!.status, 'deleted');
});

test('replace (the VPN gateway changed): delete on the old gateway, create on the new one with the next generation', async () => {
  const clock = new VirtualClock();
  const fake = vpnFake(clock);
  const journal = new MemoryJournal();
  const made = await executePlan(siteOpts(fake, [siteRow('203.0.113.80', 'create', 'create', { vpnGatewayId: GW_A })], { journal }));
  const old = made.results[0]!;
  const row = siteRow('203.0.113.80', 'skip', 'replace', { vpnGatewayId: GW_B }, { row: { existingId: old.gatewayId }, connection: { existingId: old.connection!.id, generation: 2 } });
  const r = await executePlan(siteOpts(fake, [row], { journal }));
  const c = r.results[0]!.connection!;
  assert.equal(c.status, 'created', c.errorMessage);
  assert.notEqual(c.id, old.connection!.id);
  assert.deepEqual(fake.summary(), [`${c.id} ${GW_B} ${old.gatewayId} active`]);
  const j = journal.get(row.ref.key)!.connection!;
  assert.deepEqual([j.generation, j.vpnGatewayId, j.operation, j.token], [2, GW_B, 'replace', token('J1', REGION, '203.0.113.80', 2, 'vco')]);
});

test('generate: a CSPRNG over letters and digits, a key every device type takes', () => {
  const seen = new Set<string>();
  for (let i = 0; i < 200; i++) {
    const k = generatePsk();
    assert.equal(k.length, 32);
    for (const ch of k) seen.add(ch);
    assert.match(k, /^[0-9A-Za-z]{32}$/);
  }
  assert.ok(seen.size > 55, `draws cover the alphabet (${seen.size} of ${PSK_ALPHABET.length})`);
  assert.equal(new Set(PSK_ALPHABET).size, 62);
});
