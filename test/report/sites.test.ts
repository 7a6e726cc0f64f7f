// Reports of site rows: the site columns (only in reports of manifests with sites), the row's one outcome from its
// parts, the connection's error where the gateway has none, provisioned vs negotiated kept apart, and the truth read
// from the journal's connection part and second gateway row; the live view's connection lanes.
import '../helpers/env.js';
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parse } from 'csv-parse/sync';
import { junitXml } from '../../src/report/junit.js';
import { failureLine, outcomeOf, rowStateOutcome } from '../../src/report/outcome.js';
import { resultsCsv, resultsJson, runJson, SITE_COLUMNS } from '../../src/report/results.js';
import { summarize } from '../../src/report/summary.js';
import { truthRows } from '../../src/report/truth.js';
import { applyEvent, laneLine, newRunState, overallLine, runPhase } from '../../src/ui/lanes.js';
import { journalRow, plan, planned, ref, result } from './build.js';

const input = (results: ReturnType<typeof result>[]) => ({ columns: ['region', 'ip', 'name'], results, manifest: 'branches.csv', command: 'apply' });

test('a site row is as done as its least finished part; the failing part names the error', () => {
  const cgwOkConnFailed = result({
    line: 2,
    connection: { status: 'failed', action: 'create', errorCode: 'VpnConnectionParamInvalid.SameVpnAndCgwTrafficSelectorOverlap', errorMessage: 'overlap', errorClass: 'invalid' },
  });
  assert.equal(outcomeOf(cgwOkConnFailed), 'failed');
  assert.match(failureLine(cgwOkConnFailed), /VpnConnectionParamInvalid\.SameVpnAndCgwTrafficSelectorOverlap {2}connection: overlap$/);
  assert.equal(outcomeOf(result({ line: 3, action: 'skip', connection: { status: 'created', action: 'create', id: 'vco-1' } })), 'created');
  assert.equal(outcomeOf(result({ line: 4, action: 'skip', connection: { status: 'created', action: 'skip', id: 'vco-1' } })), 'unchanged');
  assert.equal(outcomeOf(result({ line: 5, connection: { status: 'pending', action: 'create', errorCode: 'NotStarted' } })), 'not started');
  assert.equal(rowStateOutcome(result({ line: 6, connection: { status: 'unknown', action: 'create' } })), 'unknown');
  const s = summarize([cgwOkConnFailed]);
  assert.deepEqual(s.failedByCode, { 'VpnConnectionParamInvalid.SameVpnAndCgwTrafficSelectorOverlap': 1 });
});

test('reports of a manifest without sites are as before; with sites they gain the site columns after customer_gateway_id', () => {
  const plain = [result({ line: 2 }), result({ line: 3, status: 'failed', errorCode: 'IllegalParam.Asn', errorMessage: 'bad asn' })];
  const before = parse(resultsCsv(input(plain)), { bom: true }) as string[][];
  assert.deepEqual(before[0]!.slice(4), ['status', 'customer_gateway_id', 'error_code', 'error_message', 'request_id', 'request_ids', 'attempts', 'duration_ms', 'plan_action', 'in_this_run', 'run_note']);
  assert.ok(!resultsJson(input(plain)).includes('vpn_connection_id'));

  const site = result({
    line: 4,
    gateway2: { status: 'created', action: 'create', id: 'cgw-2nd' },
    connection: { status: 'created', action: 'create', id: 'vco-4', state: 'active', negotiation: 'ike_sa_not_established' },
  });
  const failed = result({ line: 5, connection: { status: 'failed', action: 'create', errorCode: 'Cgw.VpnGatewayBusy', errorMessage: 'stayed updating' } });
  const rows = parse(resultsCsv(input([...plain, site, failed])), { bom: true, columns: true }) as Array<Record<string, string>>;
  assert.deepEqual(Object.keys(rows[0]!).slice(4, 11), ['status', 'customer_gateway_id', ...SITE_COLUMNS]);
  const s = rows.find((r) => r.line === '4')!;
  assert.deepEqual([s.customer_gateway_id, s.customer_gateway_id_2, s.vpn_connection_id, s.connection_status, s.connection_state, s.negotiation], ['cgw-4', 'cgw-2nd', 'vco-4', 'created', 'provisioned', 'ike_sa_not_established']);
  assert.equal(s.attempts, '1');
  const f = rows.find((r) => r.line === '5')!;
  assert.deepEqual([f.status, f.customer_gateway_id, f.connection_status, f.error_code], ['created', 'cgw-5', 'failed', 'Cgw.VpnGatewayBusy'], 'the gateway stays created; the row says why it failed');
  assert.equal(rows.find((r) => r.line === '2')!.vpn_connection_id, '');

  const json = JSON.parse(resultsJson(input([...plain, site, failed])));
  const j = json.rows.find((r: { line: number }) => r.line === 4);
  assert.deepEqual([j.vpn_connection_id, j.connection_state, j.negotiation, j.customer_gateway_id_2], ['vco-4', 'provisioned', 'ike_sa_not_established', 'cgw-2nd']);
  assert.equal(json.rows.find((r: { line: number }) => r.line === 2).vpn_connection_id, null);
  const run = JSON.parse(runJson(input([site, failed])));
  assert.equal(run.rows[1].error_code, 'Cgw.VpnGatewayBusy');
  assert.equal(run.rows[0].vpn_connection_id, 'vco-4');

  const xml = junitXml(input([site, failed]));
  assert.match(xml, /<system-out>created cgw-4 cgw-2nd vco-4<\/system-out>/);
  assert.match(xml, /<failure message="Cgw.VpnGatewayBusy">connection: stayed updating/);
});

test('the truth of a site row comes from the journal: the connection part, and the second gateway\'s own row', () => {
  const r = ref(2, { ip: '203.0.113.1' });
  const r2 = ref(2, { ip: '203.0.113.2' });
  const pr = planned(2, { ref: r, action: 'skip', gateway2: { key: r2.key, action: 'skip', reason: 'up to date' }, connection: { key: r.key, action: 'skip', reason: 'up to date', existingId: 'vco-9' } });
  const journal = new Map([
    [r.key, journalRow(r, { connection: { status: 'created', token: 't', generation: 1, vpnGatewayId: 'vpn-1', connectionId: 'vco-9', state: 'active', negotiation: 'ipsec_sa_established', attempts: 1, requestIds: [] } })],
    [r2.key, journalRow(r2, { gatewayId: 'cgw-two', siteKey: r.key })],
  ]);
  const [row] = truthRows(plan([pr]), journal);
  assert.deepEqual([row!.gatewayId, row!.gateway2?.id, row!.connection?.id, row!.connection?.negotiation, row!.outcome], ['cgw-2', 'cgw-two', 'vco-9', 'ipsec_sa_established', 'created']);
  // A connection whose last change failed reads failed while it stays the journal's.
  journal.set(r.key, journalRow(r, { connection: { status: 'created', token: 't', generation: 1, vpnGatewayId: 'vpn-1', connectionId: 'vco-9', errorCode: 'Cgw.VpnGatewayBusy', attempts: 1, requestIds: [] } }));
  const [again] = truthRows(plan([pr]), journal);
  assert.deepEqual([again!.connection?.status, again!.outcome], ['failed', 'failed']);
});

test('the live view: connection lanes titled region/gateway, counted apart from the overall rows', () => {
  const s = newRunState();
  const key = ref(2).key;
  applyEvent(s, {
    type: 'run:start',
    runId: 'r',
    lanes: [
      { lane: 'acct/cn-hangzhou', region: 'cn-hangzhou', total: 1 },
      { lane: 'acct/cn-hangzhou/vpn-a1', region: 'cn-hangzhou', total: 1, kind: 'connection' },
    ],
  });
  applyEvent(s, { type: 'row:start', lane: 'acct/cn-hangzhou/vpn-a1', ref: ref(2), action: 'create', attempt: 1 });
  const lane = s.lanes.get('acct/cn-hangzhou/vpn-a1')!;
  assert.equal(lane.label, 'cn-hangzhou/vpn-a1');
  assert.equal(s.lanes.get('acct/cn-hangzhou')!.label, 'cn-hangzhou', 'a connection lane does not make its region ambiguous');
  assert.ok(lane.inFlight.has(key));
  applyEvent(s, { type: 'part:done', lane: 'acct/cn-hangzhou/vpn-a1', ref: ref(2), part: 'connection', result: { status: 'created', action: 'create', id: 'vco-1' } });
  assert.match(laneLine(lane, s), /^cn-hangzhou\/vpn-a1 {2}finished {2}1\/1 created/);
  assert.equal(runPhase(s).kind, 'running', 'the row itself is not done yet');
  applyEvent(s, { type: 'row:done', lane: 'acct/cn-hangzhou', result: result({ line: 2, connection: { status: 'created', action: 'create', id: 'vco-1' } }) });
  assert.match(overallLine(s, 0), /1\/1 created/, 'the overall line counts the row once');
  assert.equal(runPhase(s).kind, 'finished');
});
