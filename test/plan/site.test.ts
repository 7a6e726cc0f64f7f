// Site rows in the plan: one decision with its reason for every state a connection and a second customer gateway can be
// in (journal x listing x flags), the rules between rows, the row's roll-up, and destroy. Pure: plain data in, plan out.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { CustomerGateway, VpnConnection, VpnGateway } from '../../src/cloud/types.js';
import { planDestroy } from '../../src/plan/destroy.js';
import { NO_FLAGS, planManifest, type PlanContext } from '../../src/plan/plan.js';
import { DEFAULT_PROFILE } from '../../src/plan/site-rules.js';
import { planToJson, renderPlanText } from '../../src/report/plan-output.js';
import { SITE_TAG_KEY, connectionSpecHash, pskMark, siteTagValue } from '../../src/plan/site-identity.js';
import type { ConnectionFields, Plan, PlanFlags, PlannedRow, PriorRow, SiteField, SiteSpec, WrittenRow } from '../../src/types.js';
import { VGW, conn, fp, gw, manifest, prior, priors, srow, srows, vco, vpnGw } from './builders.js';

const IP = '203.0.113.10';
const K = `cn-hangzhou/${IP}`;
const CGW = 'cgw-hq';
const HQ = { name: 'HQ', asn: '65000' };
const JOURNAL = 'J-1';
const TAG = { key: SITE_TAG_KEY, value: siteTagValue(JOURNAL, K) };

interface Setup {
  rows?: WrittenRow[];
  site?: Partial<Record<SiteField, string>>;
  pskValue?: string;
  /** The row's journal row (its customer gateway created, unless given otherwise) with this connection part. */
  connection?: Partial<ConnectionFields> | null;
  priorRow?: Partial<PriorRow>;
  extraPrior?: PriorRow[];
  /** Online: the region's customer gateways (default: the row's own) and VPN listing. */
  cgws?: CustomerGateway[];
  gateways?: VpnGateway[];
  connections?: VpnConnection[];
  flags?: Partial<PlanFlags>;
  ctx?: Partial<PlanContext>;
}

const SITE_HQ: SiteSpec = { vpnGatewayId: VGW, localSubnet: ['10.0.0.0/16'], remoteSubnet: ['192.168.1.0/24'], profile: DEFAULT_PROFILE };
const hashOf = (site: SiteSpec, ids = [CGW]) => connectionSpecHash(site, ids, pskMark(site.psk, fp));

function plan(s: Setup = {}, online = s.connections !== undefined || s.gateways !== undefined): Plan {
  const rows = s.rows ?? [srow(s.site ?? {}, { ip: IP, ...HQ }, s.pskValue !== undefined ? { pskValue: s.pskValue } : {})];
  const prs: PriorRow[] = [...(s.extraPrior ?? [])];
  if (s.connection !== undefined || s.priorRow) {
    const p = prior(K, { ...HQ, gatewayId: CGW, ...s.priorRow });
    if (s.connection) p.connection = conn({ customerGatewayIds: [CGW], specHash: hashOf(SITE_HQ), ...s.connection });
    prs.push(p);
  }
  const ctx: PlanContext = { online, quota: 100, prior: priors(...prs), fingerprint: fp, flags: { ...NO_FLAGS, ...s.flags }, journalId: JOURNAL, ...s.ctx };
  if (online) {
    ctx.regions = new Set(['cn-hangzhou']);
    ctx.inventory = new Map([['cn-hangzhou', s.cgws ?? [gw({ id: CGW, ip: IP, ...HQ })]]]);
    ctx.vpn = new Map([['cn-hangzhou', { gateways: s.gateways ?? [vpnGw()], connections: s.connections ?? [] }]]);
  }
  return planManifest(manifest(rows), ctx);
}
const first = (p: Plan): PlannedRow => p.rows[0]!;
const errors = (r: PlannedRow): string[] => r.issues.filter((i) => i.severity === 'error').map((i) => `${i.code} ${i.field}`);

describe('connection: create and adopt', () => {
  it('a new site: the gateway and its connection are created; the connection waits for the gateway', () => {
    const r = first(plan());
    assert.equal(r.action, 'create');
    assert.deepEqual(r.connection, { key: K, action: 'create', generation: 1, reason: `new connection on ${VGW}, after its customer gateway is created in this run` });
  });

  it('the gateway exists already (journal): the connection is created on it without waiting', () => {
    const r = first(plan({ priorRow: {} }));
    assert.equal(r.action, 'skip');
    assert.deepEqual(r.connection, { key: K, action: 'create', generation: 1, reason: `new connection on ${VGW}` });
  });

  it('adopt by the tool\'s tag, and by (VPN gateway, customer gateway) when exactly one; what differs is updated', () => {
    const tagged = first(plan({ priorRow: {}, connections: [vco('vco-t', CGW, { tags: [TAG] })] }));
    assert.equal(tagged.connection?.action, 'adopt');
    assert.equal(tagged.connection?.existingId, 'vco-t');
    assert.match(tagged.connection!.reason, /carries this row's cgw-batch:site tag: record it without creating$/);
    const pair = first(plan({ priorRow: {}, site: { remote_subnet: '192.168.2.0/24' }, connections: [vco('vco-p', CGW)] }));
    assert.equal(pair.connection?.action, 'adopt');
    assert.deepEqual(pair.connection?.changes, [{ field: 'remote_subnet', before: '192.168.1.0/24', after: '192.168.2.0/24' }]);
    assert.match(pair.connection!.reason, /already connects this customer gateway to .*, then update it$/);
    // A connection of another VPN gateway, or of another customer gateway, is not this row's.
    const none = first(plan({ priorRow: {}, connections: [vco('vco-x', 'cgw-other'), vco('vco-y', CGW, { vpnGatewayId: 'vpn-other000000000000001' })] }));
    assert.equal(none.connection?.action, 'create');
  });

  it('several on the pair: the one with the row\'s selectors, else the row is refused naming them', () => {
    const two = [vco('vco-a', CGW, { remoteSubnet: ['192.168.9.0/24'] }), vco('vco-b', CGW)];
    assert.equal(first(plan({ priorRow: {}, connections: two })).connection?.existingId, 'vco-b');
    const r = first(plan({ priorRow: {}, site: { remote_subnet: '192.168.3.0/24' }, connections: two }));
    assert.equal(r.action, 'invalid');
    assert.deepEqual(errors(r), ['Cgw.AmbiguousConnection vpn_gateway_id']);
    assert.match(r.issues[0]!.message, /vco-a, vco-b/);
  });

  it('a connection tagged by another journal is refused, not adopted', () => {
    const r = first(plan({ priorRow: {}, connections: [vco('vco-f', CGW, { tags: [{ key: SITE_TAG_KEY, value: `other-journal:${K}` }] })] }));
    assert.deepEqual(errors(r), ['Cgw.ForeignConnection vpn_gateway_id']);
  });
});

describe('connection: the journal\'s own', () => {
  it('up to date: skip (online and offline)', () => {
    for (const online of [true, false]) {
      const r = first(plan({ connection: {}, connections: [vco('vco-1', CGW)] }, online));
      assert.deepEqual(r.connection, { key: K, action: 'skip', existingId: 'vco-1', reason: 'up to date (vco-1)' }, `online ${online}`);
      assert.equal(r.action, 'skip');
    }
  });

  it('update: only what changed, named as the manifest names it (second tunnel with _2)', () => {
    const dual = vpnGw({ disasterRecoveryInternetIp: '47.96.0.2' });
    const listed = vco('vco-1', CGW, { dualTunnel: true });
    listed.tunnels.push({ ...listed.tunnels[0]!, role: 'slave', ike: { ...listed.tunnels[0]!.ike, encAlg: 'des' } });
    const r = first(
      plan({
        connection: { customerGatewayIds: [CGW, CGW] },
        gateways: [dual],
        connections: [listed],
        site: { local_subnet: '10.1.0.0/16', connection_name: 'hq', effect_immediately: 'true', ike_profile: '' },
      }),
    );
    assert.equal(r.connection?.action, 'update');
    assert.deepEqual(r.connection?.changes, [
      { field: 'local_subnet', before: '10.0.0.0/16', after: '10.1.0.0/16' },
      { field: 'connection_name', after: 'hq' },
      { field: 'effect_immediately', before: 'false', after: 'true' },
      { field: 'ike_enc_alg_2', before: 'des', after: 'aes' },
    ]);
    assert.equal(r.connection?.reason, 'change local_subnet, connection_name, effect_immediately, ike_enc_alg_2 of vco-1 in place');
    assert.equal(r.action, 'skip', 'the row\'s own gateway is untouched');
  });

  it('BGP added, moved and removed', () => {
    const add = first(plan({ connection: {}, connections: [vco('vco-1', CGW)], site: { tunnel_cidr: '169.254.10.0/30' } }));
    assert.deepEqual(add.connection?.changes, [{ field: 'tunnel_cidr', after: '169.254.10.0/30' }]);
    const withBgp = vco('vco-1', CGW, { tunnel: { bgp: { tunnelCidr: '169.254.10.0/30', localBgpIp: '169.254.10.1' } } });
    const moved = first(plan({ connection: {}, connections: [withBgp], site: { tunnel_cidr: '169.254.10.0/30', local_bgp_ip: '169.254.10.2' } }));
    assert.deepEqual(moved.connection?.changes, [{ field: 'local_bgp_ip', before: '169.254.10.1', after: '169.254.10.2' }]);
    const removed = first(plan({ connection: {}, connections: [withBgp] }));
    assert.deepEqual(removed.connection?.changes, [{ field: 'tunnel_cidr', before: '169.254.10.0/30' }]);
  });

  it('the PSK by keyed fingerprint, never by value; generate never counts once a key exists', () => {
    const key = 'Key-1';
    const same = first(plan({ connection: { pskFingerprints: [fp(key)], specHash: hashOf({ ...SITE_HQ, psk: { kind: 'ref', ref: 'env:K', value: key } }) }, connections: [vco('vco-1', CGW)], site: { psk: 'env:K' }, pskValue: key }));
    assert.equal(same.connection?.action, 'skip');
    const rotatedPlan = plan({ connection: { pskFingerprints: [fp(key)] }, connections: [vco('vco-1', CGW)], site: { psk: 'env:K' }, pskValue: 'Key-2' });
    const rotated = first(rotatedPlan);
    assert.deepEqual(rotated.connection?.changes, [{ field: 'psk', before: '(set)', after: '(changed)' }]);
    const printed = JSON.stringify(planToJson(rotatedPlan)) + renderPlanText(rotatedPlan, { color: false });
    assert.ok(!printed.includes('Key-2') && !printed.includes(fp('Key-2')) && !printed.includes(fp(key)), 'neither a key nor a fingerprint is printed');
    assert.match(printed, /psk: \(set\) -> \(changed\)/);
    const unknown = first(plan({ connection: {}, connections: [vco('vco-1', CGW)], site: { psk: 'env:K' }, pskValue: key }));
    assert.deepEqual(unknown.connection?.changes, [{ field: 'psk', before: '(unknown)', after: '(set)' }]);
    for (const fps of [[fp('made')], undefined]) {
      const gen = first(plan({ connection: fps ? { pskFingerprints: fps } : {}, connections: [vco('vco-1', CGW)], site: { psk: 'generate' } }));
      assert.equal(gen.connection?.action, 'skip', `generate with fingerprints ${String(fps)}`);
    }
  });

  it('offline: the spec hash tells the site changed (apply compares online); the PSK still by fingerprint', () => {
    const r = first(plan({ connection: {}, site: { remote_subnet: '192.168.7.0/24' } }, false));
    assert.equal(r.connection?.action, 'update');
    assert.equal(r.connection?.changes, undefined);
    assert.match(r.connection!.reason, /^the site changed since vco-1 was last applied: apply compares it with the cloud/);
    const psk = first(plan({ connection: { pskFingerprints: [fp('a')] }, site: { psk: 'env:K' }, pskValue: 'b' }, false));
    assert.deepEqual(psk.connection?.changes, [{ field: 'psk', before: '(set)', after: '(changed)' }]);
  });

  it('deleted outside the tool: created again with the next generation, and a drift warning', () => {
    const r = first(plan({ connection: { generation: 3 }, connections: [] }));
    assert.equal(r.connection?.action, 'create');
    assert.equal(r.connection?.generation, 4);
    assert.match(r.connection!.reason, /^vco-1 was deleted outside cgw-batch: create it again/);
    assert.deepEqual(r.issues.map((i) => `${i.severity} ${i.code}`), ['warning Cgw.Drift']);
  });

  it('the VPN gateway changed: replace (blocked without --allow-replace; the row waits with it)', () => {
    const site = { vpn_gateway_id: 'vpn-new0000000000000000001' };
    const gws = [vpnGw(), vpnGw({ id: 'vpn-new0000000000000000001', internetIp: '47.96.0.5' })];
    const blocked = plan({ connection: { generation: 2 }, site, gateways: gws, connections: [vco('vco-1', CGW)] });
    const r = first(blocked);
    assert.equal(r.connection?.action, 'blocked');
    assert.equal(r.connection?.needs, '--allow-replace');
    assert.equal(r.action, 'blocked');
    assert.equal(r.needs, '--allow-replace');
    assert.equal(r.reason, 'up to date (cgw-hq); not carried out while the connection is blocked (it needs --allow-replace)');
    assert.equal(blocked.summary.blocked, 1);
    assert.equal(blocked.resources?.vco.blocked, 1);
    const allowed = first(plan({ connection: { generation: 2 }, site, gateways: gws, connections: [vco('vco-1', CGW)], flags: { allowReplace: true } }));
    assert.deepEqual(allowed.connection, {
      key: K,
      action: 'replace',
      existingId: 'vco-1',
      generation: 3,
      changes: [{ field: 'vpn_gateway_id', before: VGW, after: 'vpn-new0000000000000000001' }],
      reason: `the VPN gateway changed from ${VGW}: delete vco-1, then create the connection on vpn-new0000000000000000001`,
    });
    assert.equal(allowed.action, 'skip');
  });

  it('its customer gateway is replaced (ASN changed): the connection is replaced first', () => {
    const r = first(plan({ connection: {}, priorRow: { asn: '65001' }, cgws: [gw({ id: CGW, ip: IP, name: 'HQ', asn: '65001' })], connections: [vco('vco-1', CGW)], flags: { allowReplace: true } }));
    assert.equal(r.action, 'replace');
    assert.equal(r.connection?.action, 'replace');
    assert.match(r.connection!.reason, /^its customer gateway is replaced: delete vco-1 first \(a customer gateway in use cannot go\), then create the connection again, after its customer gateway is replaced in this run$/);
  });

  it('the row\'s IP changed (same name): the connection under the old key is replaced, naming the key it leaves', () => {
    const old = prior('cn-hangzhou/203.0.113.99', { ...HQ, gatewayId: 'cgw-old', connection: conn({ customerGatewayIds: ['cgw-old'] }) });
    const r = first(plan({ extraPrior: [old], cgws: [gw({ id: 'cgw-old', ip: '203.0.113.99', ...HQ })], connections: [vco('vco-1', 'cgw-old')], flags: { allowReplace: true } }));
    assert.equal(r.action, 'replace');
    assert.equal(r.replacesKey, 'cn-hangzhou/203.0.113.99');
    assert.equal(r.connection?.action, 'replace');
    assert.equal(r.connection?.replacesKey, 'cn-hangzhou/203.0.113.99');
    assert.equal(r.connection?.existingId, 'vco-1');
  });

  it('the customer gateway failed earlier and is blocked: the connection waits, blocked by the same flag', () => {
    const r = first(plan({ priorRow: { status: 'failed', gatewayId: undefined, errorCode: 'X' } }));
    assert.equal(r.action, 'blocked');
    assert.equal(r.connection?.action, 'blocked');
    assert.equal(r.connection?.needs, '--retry-failed');
    assert.match(r.connection!.reason, /waits for its customer gateway, which is blocked \(--retry-failed\)$/);
  });
});

describe('connection: unknown outcome, failures, deletes', () => {
  const maybe = { status: 'in-flight' as const, connectionId: undefined, generation: 2 };

  it('offline: resume with the same generation; apply lists first', () => {
    const r = first(plan({ connection: maybe }, false));
    assert.equal(r.connection?.action, 'resume');
    assert.equal(r.connection?.generation, 2);
    assert.match(r.connection!.reason, /apply lists the VPN gateway's connections, records the one it made \(by the cgw-batch:site tag, or this customer gateway\), else replays the same ClientToken$/);
  });

  it('online: found by its tag, or by the pair; recorded without a request', () => {
    const byTag = first(plan({ connection: maybe, connections: [vco('vco-other', CGW, { remoteSubnet: ['192.168.8.0/24'] }), vco('vco-made', 'cgw-x', { tags: [TAG] })] }));
    assert.equal(byTag.connection?.action, 'resume');
    assert.equal(byTag.connection?.existingId, 'vco-made');
    assert.equal(byTag.connection?.generation, undefined);
    const byPair = first(plan({ connection: maybe, connections: [vco('vco-made', CGW)] }));
    assert.equal(byPair.connection?.existingId, 'vco-made');
    assert.match(byPair.connection!.reason, /it made vco-made: record it without a request$/);
  });

  it('online, none made: the same ClientToken; the site changed since: a new one; two made: the row stops', () => {
    assert.equal(first(plan({ connection: maybe, connections: [] })).connection?.generation, 2);
    const changed = first(plan({ connection: maybe, connections: [], site: { remote_subnet: '192.168.6.0/24' } }));
    assert.equal(changed.connection?.generation, 3);
    assert.match(changed.connection!.reason, /the site changed since: create it with a new ClientToken$/);
    const two = first(plan({ connection: maybe, connections: [vco('vco-a', 'x', { tags: [TAG] }), vco('vco-b', 'y', { tags: [TAG] })] }));
    assert.equal(two.action, 'invalid');
    assert.deepEqual(errors(two), ['Cgw.AmbiguousConnection vpn_gateway_id']);
  });

  it('failed earlier: blocked until --retry-failed; retried at once when the site changed since', () => {
    const failed = { status: 'failed' as const, connectionId: undefined, errorCode: 'VpnGateway.FinancialLocked' };
    const b = first(plan({ connection: failed }));
    assert.equal(b.connection?.action, 'blocked');
    assert.equal(b.connection?.needs, '--retry-failed');
    assert.equal(b.action, 'blocked');
    const flag = first(plan({ connection: failed, flags: { retryFailed: true } }));
    assert.deepEqual([flag.connection?.action, flag.connection?.generation], ['retry', 2]);
    const changed = first(plan({ connection: failed, site: { remote_subnet: '192.168.5.0/24' } }));
    assert.deepEqual([changed.connection?.action, changed.connection?.generation], ['retry', 2]);
  });

  it('deleted by an earlier run: created again with the next generation', () => {
    const r = first(plan({ connection: { status: 'deleted', generation: 4 } }));
    assert.deepEqual([r.connection?.action, r.connection?.generation], ['create', 5]);
  });

  it('the row no longer names a VPN gateway: delete with --prune, else the row is blocked', () => {
    const plain = srow({}, { ip: IP, ...HQ });
    delete plain.site;
    const blocked = first(plan({ rows: [plain], connection: {}, connections: [vco('vco-1', CGW)] }));
    assert.equal(blocked.connection?.action, 'blocked');
    assert.equal(blocked.connection?.needs, '--prune');
    assert.equal(blocked.action, 'blocked');
    const pruned = first(plan({ rows: [plain], connection: {}, connections: [vco('vco-1', CGW)], flags: { prune: true } }));
    assert.deepEqual(pruned.connection, { key: K, action: 'delete', existingId: 'vco-1', reason: 'the row no longer names a VPN gateway: delete vco-1 (before its customer gateways)' });
    const gone = first(plan({ rows: [plain], connection: {}, connections: [], flags: { prune: true } }));
    assert.match(gone.connection!.reason, /vco-1 is already gone: recorded as deleted$/);
  });

  it('a row removed from the manifest: its connection goes with it (--prune), first', () => {
    const other = srow({}, { ip: '203.0.113.50', name: 'other' });
    const p = plan({ rows: [other], connection: {}, connections: [vco('vco-1', CGW)], flags: { prune: true } });
    const orphan = p.rows.find((r) => r.orphan)!;
    assert.equal(orphan.action, 'delete');
    assert.equal(orphan.connection?.action, 'delete');
    const held = plan({ rows: [other], connection: {}, connections: [vco('vco-1', CGW)] }).rows.find((r) => r.orphan)!;
    assert.deepEqual([held.action, held.connection?.action, held.connection?.needs], ['blocked', 'blocked', '--prune']);
  });
});

describe('a PSK whose env var is not set blocks only rows that must send it', () => {
  const missing = (w: WrittenRow) => {
    w.site!.psk = 'env:PSK_GONE';
    w.issues.push({ severity: 'error', code: 'Cgw.PskEnvMissing', field: 'psk', message: 'environment variable PSK_GONE (the row\'s psk) is not set (or is empty); export it before running', file: w.file, line: w.line });
    return w;
  };
  it('a connection to create: the row is invalid, saying why', () => {
    const r = first(plan({ rows: [missing(srow({}, { ip: IP, ...HQ }))] }));
    assert.equal(r.action, 'invalid');
    assert.deepEqual(errors(r), ['Cgw.PskEnvMissing psk']);
    assert.match(r.issues[0]!.message, /this run creates the connection and must send the key\)$/);
  });
  it('an existing connection: planned as usual, with a note that the key was not compared', () => {
    const r = first(plan({ rows: [missing(srow({}, { ip: IP, ...HQ }))], connection: { pskFingerprints: [fp('x')] }, connections: [vco('vco-1', CGW)] }));
    assert.equal(r.connection?.action, 'skip');
    assert.deepEqual(r.issues.map((i) => `${i.severity} ${i.code}`), ['warning Cgw.PskEnvMissing']);
    assert.match(r.issues[0]!.message, /the key was not compared \(this run does not send it\)$/);
  });
});

describe('the VPN gateway, online', () => {
  const cases: Array<[string, Partial<VpnGateway> | null, Partial<Record<SiteField, string>>, string]> = [
    ['not there', null, {}, 'InvalidVpnGatewayInstanceId.NotFound vpn_gateway_id'],
    ['IPsec disabled', { ipsecVpn: 'disable' }, {}, 'VpnGateway.IpsecVpnDisabled vpn_gateway_id'],
    ['locked for an unpaid bill', { businessStatus: 'FinancialLocked' }, {}, 'VpnGateway.FinancialLocked vpn_gateway_id'],
    ['not active yet', { status: 'provisioning' }, {}, 'VpnGateway.Configuring vpn_gateway_id'],
    ['single tunnel, with ip_2', {}, { ip_2: '203.0.113.11' }, 'InvalidParameter ip_2'],
    ['single tunnel, with tunnel_cidr_2', {}, { tunnel_cidr: '169.254.1.0/30', tunnel_cidr_2: '169.254.2.0/30' }, 'InvalidParameter tunnel_cidr_2'],
    ['dual tunnel, BGP on one tunnel', { disasterRecoveryInternetIp: '47.96.0.2' }, { tunnel_cidr: '169.254.1.0/30' }, 'MissingParameter.TunnelCidr tunnel_cidr_2'],
    ['BGP off on the gateway', { enableBgp: false }, { tunnel_cidr: '169.254.1.0/30' }, 'OperationUnsupported.EnableBgp tunnel_cidr'],
    ['the row\'s IP is the gateway\'s', { internetIp: IP }, {}, 'CustomerGateway.ConflictVpnIp ip'],
    ['ip_2 is the gateway\'s second IP', { disasterRecoveryInternetIp: '203.0.113.11' }, { ip_2: '203.0.113.11' }, 'CustomerGateway.ConflictVpnIp ip_2'],
  ];
  for (const [what, g, site, want] of cases) {
    it(what, () => {
      const r = first(plan({ site, gateways: g === null ? [] : [vpnGw(g)], connections: [] }));
      assert.deepEqual(errors(r), [want]);
      assert.equal(r.action, 'invalid');
      assert.equal(r.connection?.action, 'invalid');
    });
  }
  it('a gateway that is updating (another change in progress): a note, apply waits', () => {
    const r = first(plan({ gateways: [vpnGw({ status: 'updating' })], connections: [] }));
    assert.deepEqual(r.issues.map((i) => `${i.severity} ${i.code}`), ['info Cgw.VpnGatewayBusy']);
    assert.equal(r.connection?.action, 'create');
  });
  it('dual tunnel without ip_2: both tunnels on the one customer gateway', () => {
    const r = first(plan({ priorRow: {}, gateways: [vpnGw({ disasterRecoveryInternetIp: '47.96.0.2' })], connections: [] }));
    assert.equal(r.connection?.action, 'create');
    assert.equal(r.gateway2, undefined);
  });
  it('an IKEv1 connection with several CIDR blocks cannot change its subnets in place', () => {
    const r = first(plan({ connection: {}, connections: [vco('vco-1', CGW)], site: { remote_subnet: '192.168.1.0/24,192.168.2.0/24' } }));
    assert.deepEqual(errors(r), ['ModifyIkeV1WithMultiRoutes.Invalid remote_subnet']);
  });
});

describe('the second customer gateway (ip_2)', () => {
  const IP2 = '203.0.113.11';
  const K2 = `cn-hangzhou/${IP2}`;
  const dual = [vpnGw({ disasterRecoveryInternetIp: '47.96.0.2' })];

  it('decided like the row\'s own: create, then the connection waits for both', () => {
    const r = first(plan({ site: { ip_2: IP2 } }));
    assert.deepEqual(r.gateway2, { key: K2, action: 'create', reason: 'new gateway', generation: 1 });
    assert.match(r.connection!.reason, /after its customer gateways \(ip and ip_2\) are created in this run$/);
  });

  it('owned: skip; listed with this name and ASN: adopt; another gateway there: the row is refused at ip_2', () => {
    const owned = first(plan({ site: { ip_2: IP2 }, extraPrior: [prior(K2, { ...HQ, gatewayId: 'cgw-2', siteKey: K })] }));
    assert.deepEqual(owned.gateway2, { key: K2, action: 'skip', reason: 'up to date (cgw-2)', existingId: 'cgw-2' });
    const adopt = first(plan({ site: { ip_2: IP2 }, gateways: dual, connections: [], cgws: [gw({ id: CGW, ip: IP, ...HQ }), gw({ id: 'cgw-2', ip: IP2, ...HQ })] }));
    assert.equal(adopt.gateway2?.action, 'adopt');
    assert.equal(adopt.gateway2?.existingId, 'cgw-2');
    const clash = first(plan({ site: { ip_2: IP2 }, gateways: dual, connections: [], cgws: [gw({ id: 'cgw-2', ip: IP2, name: 'someone' })] }));
    assert.equal(clash.action, 'invalid');
    assert.deepEqual(errors(clash), ['InvalidIpAddress.AlreadyExist ip_2']);
    assert.match(clash.issues[0]!.message, /^second customer gateway \(ip_2 203\.0\.113\.11\): /);
  });

  it('counted in the per-region duplicate-IP check, either way round', () => {
    const a = srows({ site: { ip_2: '203.0.113.3' } }, {});
    const p = planManifest(manifest(a), { online: false, quota: 100 });
    assert.deepEqual(p.rows.map((r) => r.action), ['create', 'invalid']);
    assert.deepEqual(errors(p.rows[1]!), ['InvalidIpAddress.AlreadyExist ip']);
    const b = srows({}, { site: { ip_2: '203.0.113.2' } });
    const q = planManifest(manifest(b), { online: false, quota: 100 });
    assert.deepEqual(errors(q.rows[1]!), ['InvalidIpAddress.AlreadyExist ip_2']);
  });

  it('ip_2 changed: its old gateway is replaced (not an orphan); the connection is replaced too', () => {
    const old = prior('cn-hangzhou/203.0.113.12', { ...HQ, gatewayId: 'cgw-2old', siteKey: K });
    const p = plan({ site: { ip_2: IP2 }, extraPrior: [old], connection: { customerGatewayIds: [CGW, 'cgw-2old'] }, flags: { allowReplace: true } }, false);
    const r = first(p);
    assert.deepEqual(r.gateway2, {
      key: K2,
      action: 'replace',
      reason: 'ip_2 changed from 203.0.113.12: delete cgw-2old (after the connection that uses it), then create the second customer gateway',
      generation: 1,
      existingId: 'cgw-2old',
      replacesKey: 'cn-hangzhou/203.0.113.12',
      changes: [{ field: 'ip_2', before: '203.0.113.12', after: IP2 }],
    });
    assert.equal(r.connection?.action, 'replace');
    assert.equal(p.rows.length, 1, 'the old second gateway is not planned again as an orphan');
    const held = first(plan({ site: { ip_2: IP2 }, extraPrior: [old], connection: { customerGatewayIds: [CGW, 'cgw-2old'] } }, false));
    assert.deepEqual([held.gateway2?.action, held.gateway2?.needs, held.action], ['blocked', '--allow-replace', 'blocked']);
  });

  it('ip_2 removed: the old second gateway is an orphan of its site (after the connection is replaced)', () => {
    const old = prior(K2, { ...HQ, gatewayId: 'cgw-2', siteKey: K });
    const p = plan({ extraPrior: [old], connection: { customerGatewayIds: [CGW, 'cgw-2'] }, flags: { allowReplace: true, prune: true } }, false);
    assert.equal(first(p).connection?.action, 'replace');
    const orphan = p.rows.find((r) => r.orphan)!;
    assert.equal(orphan.action, 'delete');
    assert.match(orphan.reason, /^second customer gateway of cn-hangzhou\/203\.0\.113\.10: cgw-2 was removed from the manifest/);
  });

  it('counts against the customer gateway quota', () => {
    const p = planManifest(manifest(srows({ site: { ip_2: '203.0.113.50' } }, {})), { online: false, quota: 2 });
    assert.deepEqual(p.rows.map((r) => r.action), ['create', 'invalid']);
    assert.deepEqual(errors(p.rows[1]!), ['Resource.QuotaFull region']);
    assert.equal(p.quota[0]!.creates, 2);
  });
});

describe('rules between rows', () => {
  it('TunnelCidr is unique per VPN gateway, across rows and the gateway\'s other connections', () => {
    const rows = srows({ site: { tunnel_cidr: '169.254.1.0/30' }, fields: { asn: '65001' } }, { site: { tunnel_cidr: '169.254.1.0/30' }, fields: { asn: '65002' } });
    const p = planManifest(manifest(rows), { online: false, quota: 100 });
    assert.deepEqual(p.rows.map((r) => r.action), ['create', 'invalid']);
    assert.deepEqual(errors(p.rows[1]!), ['IllegalParam.TunnelCidr tunnel_cidr']);
    assert.match(p.rows[1]!.issues[0]!.message, /already used on .* by line 2/);
    // Another gateway: fine.
    const apart = srows({ site: { tunnel_cidr: '169.254.1.0/30' }, fields: { asn: '65001' } }, { site: { tunnel_cidr: '169.254.1.0/30', vpn_gateway_id: 'vpn-other000000000000001' }, fields: { asn: '65002' } });
    assert.equal(planManifest(manifest(apart), { online: false, quota: 100 }).summary.invalid, 0);
    // An existing connection of someone else holds it.
    const r = first(plan({ site: { tunnel_cidr: '169.254.7.0/30' }, connections: [vco('vco-z', 'cgw-z', { tunnel: { bgp: { tunnelCidr: '169.254.7.0/30', localBgpIp: '169.254.7.1' } } })] }));
    assert.match(r.issues.find((i) => i.code === 'IllegalParam.TunnelCidr')!.message, /by connection vco-z/);
  });

  it('at most 10 connections per VPN gateway (existing + planned), --quota-vpn-connections N', () => {
    const eleven = srows(...Array.from({ length: 11 }, (_, i) => ({ site: { remote_subnet: `192.168.${i}.0/24` } })));
    const p = planManifest(manifest(eleven), { online: false, quota: 100 });
    assert.equal(p.summary.invalid, 1);
    assert.deepEqual(errors(p.rows[10]!), ['CreateVpnConnectionsQuotaFull.QuotaFull vpn_gateway_id']);
    assert.match(p.rows[10]!.issues[0]!.message, /offline: existing connections not counted\), the quota is 10 per VPN gateway, and only 10 of the 11/);
    assert.equal(planManifest(manifest(eleven), { online: false, quota: 100, vpnQuota: 11 }).summary.invalid, 0);
    // Online, the gateway's existing connections count.
    const nine = Array.from({ length: 9 }, (_, i) => vco(`vco-${i}`, `cgw-${i}`));
    const online = first(plan({ rows: [srow({}, { ip: IP, ...HQ })], connections: nine, ctx: { vpnQuota: 9 } }));
    assert.deepEqual(errors(online), ['CreateVpnConnectionsQuotaFull.QuotaFull vpn_gateway_id']);
    assert.match(online.issues[0]!.message, /already has 9 connection\(s\)/);
  });
});

describe('destroy: connections first', () => {
  it('each journal row\'s connection is deleted (before any customer gateway); a lost create is found by its tag', () => {
    const rows = new Map<string, PriorRow>([
      [K, prior(K, { ...HQ, gatewayId: CGW, line: 2, connection: conn({ customerGatewayIds: [CGW] }) })],
      ['cn-hangzhou/203.0.113.11', prior('cn-hangzhou/203.0.113.11', { ...HQ, gatewayId: 'cgw-2', line: 2, siteKey: K })],
      ['cn-hangzhou/203.0.113.20', prior('cn-hangzhou/203.0.113.20', { gatewayId: 'cgw-b', line: 3, connection: conn({ status: 'unknown', connectionId: undefined, customerGatewayIds: ['cgw-b'] }) })],
    ]);
    const p = planDestroy({
      file: 'sites.csv',
      manifestHash: 'h',
      prior: rows,
      inventory: new Map([['cn-hangzhou', [gw({ id: CGW, ip: IP }), gw({ id: 'cgw-2', ip: '203.0.113.11' }), gw({ id: 'cgw-b', ip: '203.0.113.20' })]]]),
      flags: NO_FLAGS,
      vpn: new Map([['cn-hangzhou', { gateways: [vpnGw()], connections: [vco('vco-1', CGW), vco('vco-lost', 'cgw-b', { tags: [{ key: SITE_TAG_KEY, value: siteTagValue(JOURNAL, 'cn-hangzhou/203.0.113.20') }] })] }]]),
      journalId: JOURNAL,
    });
    const byKey = new Map(p.rows.map((r) => [r.ref.key, r]));
    assert.deepEqual(byKey.get(K)!.connection, { key: K, action: 'delete', existingId: 'vco-1', adopted: false, reason: `vco-1, created by cgw-batch, on ${VGW}: deleted before every customer gateway` });
    // The second customer gateway is a part of its site's row (as in apply's plan), not a row of its own.
    assert.equal(byKey.has('cn-hangzhou/203.0.113.11'), false);
    assert.deepEqual(byKey.get(K)!.gateway2, { key: 'cn-hangzhou/203.0.113.11', action: 'delete', reason: 'cgw-2, created by cgw-batch', existingId: 'cgw-2', adopted: false });
    assert.equal(p.rows.length, 2);
    assert.deepEqual([byKey.get('cn-hangzhou/203.0.113.20')!.connection?.action, byKey.get('cn-hangzhou/203.0.113.20')!.connection?.existingId], ['delete', 'vco-lost']);
    assert.deepEqual([p.resources?.vco.delete, p.resources?.cgw.delete, p.resources?.cgw2.delete], [2, 2, 1]);
    // One whose site row is gone from the journal stays a row, saying whose it was.
    const orphaned = planDestroy({
      file: 'sites.csv',
      manifestHash: 'h',
      prior: new Map([['cn-hangzhou/203.0.113.11', rows.get('cn-hangzhou/203.0.113.11')!]]),
      inventory: new Map([['cn-hangzhou', [gw({ id: 'cgw-2', ip: '203.0.113.11' })]]]),
      flags: NO_FLAGS,
    });
    assert.match(orphaned.rows[0]!.reason, /^second customer gateway of cn-hangzhou\/203\.0\.113\.10: cgw-2, created by cgw-batch$/);
  });

  it('a second gateway goes with the site whose connection uses it (after the site\'s IP changed, its siteKey names the old key)', () => {
    const OLD = 'cn-hangzhou/203.0.113.10';
    const NEW = 'cn-hangzhou/203.0.113.70';
    const SECOND = 'cn-hangzhou/203.0.113.11';
    const rows = new Map<string, PriorRow>([
      [OLD, prior(OLD, { ...HQ, status: 'deleted', gatewayId: 'cgw-old', line: 2, connection: conn({ status: 'deleted', customerGatewayIds: ['cgw-old', 'cgw-2'] }) })],
      [SECOND, prior(SECOND, { ...HQ, gatewayId: 'cgw-2', line: 2, siteKey: OLD })],
      [NEW, prior(NEW, { ...HQ, gatewayId: 'cgw-new', line: 2, connection: conn({ connectionId: 'vco-new', customerGatewayIds: ['cgw-new', 'cgw-2'] }) })],
    ]);
    const p = planDestroy({ file: 'sites.csv', manifestHash: 'h', prior: rows, inventory: new Map([['cn-hangzhou', [gw({ id: 'cgw-new', ip: '203.0.113.70' }), gw({ id: 'cgw-2', ip: '203.0.113.11' })]]]), flags: NO_FLAGS });
    const byKey = new Map(p.rows.map((r) => [r.ref.key, r]));
    assert.deepEqual([...byKey.keys()].sort(), [OLD, NEW].sort());
    assert.equal(byKey.get(NEW)!.gateway2?.existingId, 'cgw-2');
    assert.equal(byKey.get(OLD)!.gateway2, undefined);
  });

  it('a journal without connections plans destroy exactly as before (no parts, no per-resource counts)', () => {
    const p = planDestroy({ file: 'x.csv', manifestHash: 'h', prior: priors(prior(K)), inventory: new Map([['cn-hangzhou', []]]), flags: NO_FLAGS });
    assert.equal(p.resources, undefined);
    assert.equal('connection' in p.rows[0]!, false);
  });
});

describe('import', () => {
  it('records an existing connection (adopt) and creates nothing: a connection to create is skipped with why', () => {
    const adopt = first(plan({ priorRow: {}, connections: [vco('vco-p', CGW, { remoteSubnet: ['192.168.9.0/24'] })], ctx: { command: 'import' } }));
    assert.equal(adopt.connection?.action, 'adopt');
    assert.equal(adopt.connection?.changes, undefined, 'import records; the next apply converges');
    const none = first(plan({ priorRow: {}, connections: [], ctx: { command: 'import' } }));
    assert.equal(none.connection?.action, 'skip');
    assert.match(none.connection!.reason, /^nothing to import: new connection on /);
  });
});

describe('plan shape', () => {
  it('per-resource counts only for site plans; rows not in the run are counted apart', () => {
    const p = planManifest(manifest(srows({ site: { ip_2: '203.0.113.60' } }, {})), { online: false, quota: 100, select: (ref) => ref.line === 2 });
    assert.deepEqual(
      Object.fromEntries(Object.entries(p.resources!).map(([k, s]) => [k, [s.rows, s.create, s.notInRun]])),
      { cgw: [2, 1, 1], cgw2: [1, 1, 0], vco: [2, 1, 1] },
    );
    const plain = planManifest(manifest([gwRow()]), { online: false, quota: 100 });
    assert.equal(plain.resources, undefined);
    assert.equal('connection' in plain.rows[0]!, false);
  });

  it('the spec hash names what the executor records: a generated key is the word, a reference its fingerprint', () => {
    assert.equal(pskMark({ kind: 'generate' }, fp), 'generate');
    assert.equal(pskMark({ kind: 'ref', ref: 'env:K', value: 'v' }, fp), fp('v'));
    assert.equal(pskMark(undefined, fp), null);
    const a = connectionSpecHash(SITE_HQ, [CGW], null);
    assert.notEqual(a, connectionSpecHash(SITE_HQ, ['cgw-other'], null));
    assert.notEqual(a, connectionSpecHash({ ...SITE_HQ, vpnGatewayId: 'vpn-x' }, [CGW], null));
    assert.equal(a, connectionSpecHash({ ...SITE_HQ, remoteSubnet: ['192.168.1.0/24'], effectImmediately: false }, [CGW], null), 'false is the API default');
  });
});

function gwRow(): WrittenRow {
  const w = srow({}, { ip: IP });
  delete w.site;
  return w;
}
