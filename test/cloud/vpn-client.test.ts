// The VPN calls of the pop-core client against the emulator: both encodings of CreateVpnConnection, the Describe
// answers read back (Tags / Tag), Modify by tunnel, tags on VPNCONNECTION, Delete; and PSKs never leave the client
// except through readVpnConnectionPsks (every one reaches the sink at once, and no error message quotes one).
import '../helpers/env.js';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { test } from 'node:test';
import { CloudError } from '../../src/cloud/errors.js';
import { PopVpcClient } from '../../src/cloud/pop-client.js';
import type { Emulator } from '../../src/emulator/index.js';
import { CREDS, DUAL_GW, REGION, SINGLE_GW, VPN_FIXTURES, emulator, manualClock } from '../emulator/util.js';

const PSK = 'Site#Key;With$Odd`Chars';
const DEFAULT_IKE = { version: 'ikev2', mode: 'main', encAlg: 'aes256', authAlg: 'sha256', pfs: 'group14', lifetime: 28800 } as const;
const DEFAULT_IPSEC = { encAlg: 'aes256', authAlg: 'sha256', pfs: 'group14', lifetime: 3600 } as const;

function client(emu: Emulator, sink: string[]): PopVpcClient {
  return new PopVpcClient({ endpoint: emu.url, credentials: CREDS, timeoutMs: 3000, onSecret: (s) => sink.push(s) });
}

async function setup(t: { after: (fn: () => Promise<void>) => void }) {
  const clock = manualClock();
  const emu = await emulator({ vpnGateways: VPN_FIXTURES, clock: clock.now, vpnTaskMs: 1000 });
  t.after(() => emu.close());
  const sink: string[] = [];
  const c = client(emu, sink);
  const cgw1 = (await c.createCustomerGateway({ regionId: REGION, ipAddress: '203.0.113.51', asn: '65001' })).id;
  const cgw2 = (await c.createCustomerGateway({ regionId: REGION, ipAddress: '203.0.113.52', asn: '65001' })).id;
  return { emu, clock, sink, c, cgw1, cgw2 };
}

test('single tunnel: JSON-string configs and tags on create; Describe reads them back without the PSK; only readVpnConnectionPsks returns it', async (t) => {
  const { clock, sink, c, cgw1 } = await setup(t);
  const created = await c.createVpnConnection({
    regionId: REGION,
    vpnGatewayId: SINGLE_GW,
    localSubnet: ['10.0.0.0/16'],
    remoteSubnet: ['192.168.1.0/24', '192.168.2.0/24'],
    name: 'branch-1',
    effectImmediately: true,
    tunnels: [{ customerGatewayId: cgw1, ike: { ...DEFAULT_IKE, remoteId: 'branch1.example' }, ipsec: DEFAULT_IPSEC, enableDpd: false, enableNatTraversal: true, bgp: { tunnelCidr: '169.254.10.0/30', localBgpIp: '169.254.10.1' }, psk: PSK }],
    tags: [{ key: 'cgw-batch:site', value: 'j1:cn-hangzhou/203.0.113.51' }],
    clientToken: 'tok-vco-1',
  });
  assert.match(created.id, /^vco-/);
  assert.ok(sink.includes(PSK), 'a PSK the client sends joins the sink');
  // The token replays: the same connection, not a second one.
  const again = await c.createVpnConnection({
    regionId: REGION,
    vpnGatewayId: SINGLE_GW,
    localSubnet: ['10.0.0.0/16'],
    remoteSubnet: ['192.168.1.0/24', '192.168.2.0/24'],
    name: 'branch-1',
    effectImmediately: true,
    tunnels: [{ customerGatewayId: cgw1, ike: { ...DEFAULT_IKE, remoteId: 'branch1.example' }, ipsec: DEFAULT_IPSEC, enableDpd: false, enableNatTraversal: true, bgp: { tunnelCidr: '169.254.10.0/30', localBgpIp: '169.254.10.1' }, psk: PSK }],
    tags: [{ key: 'cgw-batch:site', value: 'j1:cn-hangzhou/203.0.113.51' }],
    clientToken: 'tok-vco-1',
  });
  assert.equal(again.id, created.id);

  assert.equal((await c.describeVpnGateway(REGION, SINGLE_GW)).status, 'updating');
  clock.advance(1000);
  const gw = await c.describeVpnGateway(REGION, SINGLE_GW);
  assert.deepEqual([gw.status, gw.internetIp, gw.disasterRecoveryInternetIp, gw.ipsecVpn, gw.enableBgp], ['active', '47.96.0.1', undefined, 'enable', true]);

  const vco = await c.describeVpnConnection(REGION, created.id);
  assert.ok(!JSON.stringify(vco).includes(PSK), 'the answer value holds no PSK');
  assert.deepEqual(
    { ...vco, createTime: 0 },
    {
      id: created.id,
      regionId: REGION,
      vpnGatewayId: SINGLE_GW,
      customerGatewayId: cgw1,
      name: 'branch-1',
      localSubnet: ['10.0.0.0/16'],
      remoteSubnet: ['192.168.1.0/24', '192.168.2.0/24'],
      effectImmediately: true,
      state: 'active',
      status: 'ike_sa_not_established',
      tunnels: [
        {
          customerGatewayId: cgw1,
          ike: { ...DEFAULT_IKE, localId: '47.96.0.1', remoteId: 'branch1.example' },
          ipsec: DEFAULT_IPSEC,
          enableDpd: false,
          enableNatTraversal: true,
          bgp: { tunnelCidr: '169.254.10.0/30', localBgpIp: '169.254.10.1', localAsn: '45104' },
        },
      ],
      dualTunnel: false,
      tags: [{ key: 'cgw-batch:site', value: 'j1:cn-hangzhou/203.0.113.51' }],
      createTime: 0,
    },
  );
  assert.deepEqual(await c.readVpnConnectionPsks(REGION, created.id), [PSK]);

  // The list item spells its tags `Tag`; the filters reach the API (gateway, customer gateway, tag).
  const listed = await c.listVpnConnections(REGION, { vpnGatewayId: SINGLE_GW, customerGatewayId: cgw1, tags: [{ key: 'cgw-batch:site', value: 'j1:cn-hangzhou/203.0.113.51' }] });
  assert.deepEqual(listed.map((x) => [x.id, x.tags]), [[created.id, [{ key: 'cgw-batch:site', value: 'j1:cn-hangzhou/203.0.113.51' }]]]);
  assert.ok(!JSON.stringify(listed).includes(PSK));
  assert.deepEqual(await c.listVpnConnections(REGION, { tags: [{ key: 'cgw-batch:site', value: 'other' }] }), []);
});

test('an API-generated PSK is read, handed to the sink and withheld; Modify sends only what it is given', async (t) => {
  const { clock, sink, c, cgw1 } = await setup(t);
  const id = (
    await c.createVpnConnection({
      regionId: REGION,
      vpnGatewayId: SINGLE_GW,
      localSubnet: ['10.1.0.0/16'],
      remoteSubnet: ['192.168.9.0/24'],
      tunnels: [{ customerGatewayId: cgw1, ike: { version: 'ikev1', mode: 'main', encAlg: 'aes', authAlg: 'md5', pfs: 'group2', lifetime: 86400 }, ipsec: { encAlg: 'aes', authAlg: 'md5', pfs: 'group2', lifetime: 86400 }, enableDpd: true, enableNatTraversal: true }],
    })
  ).id;
  clock.advance(1000);
  const before = sink.length;
  const vco = await c.describeVpnConnection(REGION, id);
  const [generated] = sink.slice(before);
  assert.ok(generated !== undefined && generated.length === 16, 'the generated 16-character key reached the sink');
  assert.ok(!JSON.stringify(vco).includes(generated));

  // IKEv1 with one CIDR per side: a Modify of the encryption alone (no IKE version sent) is accepted.
  await c.modifyVpnConnectionAttribute({ regionId: REGION, id, remoteSubnet: ['192.168.9.0/24'], tunnels: [{ ike: { encAlg: 'aes256' }, ipsec: { pfs: 'disabled' } }], clientToken: 'mod-1' });
  clock.advance(1000);
  const after = await c.describeVpnConnection(REGION, id);
  assert.deepEqual([after.tunnels[0]?.ike.encAlg, after.tunnels[0]?.ike.version, after.tunnels[0]?.ipsec.pfs], ['aes256', 'ikev1', 'disabled']);
  assert.deepEqual(await c.readVpnConnectionPsks(REGION, id), [generated], 'the key did not change');

  // A rotated key, then tags on the connection (ResourceType VPNCONNECTION).
  await c.modifyVpnConnectionAttribute({ regionId: REGION, id, tunnels: [{ psk: 'rotated-key-0001' }] });
  clock.advance(1000);
  assert.deepEqual(await c.readVpnConnectionPsks(REGION, id), ['rotated-key-0001']);
  await c.tagResources({ regionId: REGION, resourceIds: [id], tags: [{ key: 'team', value: 'net' }], resourceType: 'VPNCONNECTION' });
  const tags = await c.listTagResources({ regionId: REGION, resourceIds: [id], resourceType: 'VPNCONNECTION' });
  assert.deepEqual(tags.items.map((x) => [x.resourceId, x.resourceType, x.key, x.value]), [[id, 'VPNCONNECTION', 'team', 'net']]);
  await c.untagResources({ regionId: REGION, resourceIds: [id], tagKeys: ['team'], resourceType: 'VPNCONNECTION' });
  assert.deepEqual((await c.describeVpnConnection(REGION, id)).tags, []);

  // Delete: busy while the task runs, then gone (NotFound).
  await c.deleteVpnConnection({ regionId: REGION, id, clientToken: 'del-1' });
  assert.equal((await c.describeVpnGateway(REGION, SINGLE_GW)).status, 'updating');
  clock.advance(1000);
  const gone = await c.describeVpnConnection(REGION, id).then(
    () => undefined,
    (e: unknown) => e,
  );
  assert.ok(gone instanceof CloudError);
  assert.deepEqual([gone.code, gone.errorClass], ['InvalidVpnConnectionInstanceId.NotFound', 'not-found']);
});

test('dual tunnel: TunnelOptionsSpecification in flat form, master and slave read back, Modify addresses a tunnel by its id', async (t) => {
  const { clock, sink, c, cgw1, cgw2 } = await setup(t);
  const ike = { version: 'ikev2', mode: 'main', encAlg: 'aes', authAlg: 'sha1', pfs: 'group2', lifetime: 86400 } as const;
  const ipsec = { encAlg: 'aes', authAlg: 'sha1', pfs: 'group2', lifetime: 86400 } as const;
  const id = (
    await c.createVpnConnection({
      regionId: REGION,
      vpnGatewayId: DUAL_GW,
      localSubnet: ['10.2.0.0/16'],
      remoteSubnet: ['172.16.1.0/24'],
      tunnels: [
        { role: 'master', customerGatewayId: cgw1, ike, ipsec, enableDpd: true, enableNatTraversal: true, bgp: { tunnelCidr: '169.254.20.0/30', localBgpIp: '169.254.20.1' }, psk: 'master-key-0001' },
        { role: 'slave', customerGatewayId: cgw2, ike, ipsec, enableDpd: true, enableNatTraversal: true, bgp: { tunnelCidr: '169.254.21.0/30', localBgpIp: '169.254.21.1' }, psk: 'slave-key-00002' },
      ],
    })
  ).id;
  clock.advance(1000);
  assert.equal((await c.describeVpnGateway(REGION, DUAL_GW)).disasterRecoveryInternetIp, '47.96.0.3');
  const vco = await c.describeVpnConnection(REGION, id);
  assert.equal(vco.dualTunnel, true);
  assert.equal(vco.customerGatewayId, undefined);
  assert.deepEqual(
    vco.tunnels.map((x) => [x.role, x.customerGatewayId, x.internetIp, x.bgp?.tunnelCidr, /^tun-/.test(x.tunnelId ?? '')]),
    [
      ['master', cgw1, '47.96.0.2', '169.254.20.0/30', true],
      ['slave', cgw2, '47.96.0.3', '169.254.21.0/30', true],
    ],
  );
  assert.ok(!JSON.stringify(vco).includes('master-key-0001') && !JSON.stringify(vco).includes('slave-key-00002'));
  assert.deepEqual(await c.readVpnConnectionPsks(REGION, id), ['master-key-0001', 'slave-key-00002']);
  assert.ok(sink.includes('master-key-0001') && sink.includes('slave-key-00002'));

  const slave = vco.tunnels[1]!;
  await c.modifyVpnConnectionAttribute({ regionId: REGION, id, tunnels: [{ tunnelId: slave.tunnelId, psk: 'slave-key-rotated', ike: { pfs: 'group14' } }] });
  clock.advance(1000);
  assert.deepEqual(await c.readVpnConnectionPsks(REGION, id), ['master-key-0001', 'slave-key-rotated']);
  assert.equal((await c.describeVpnConnection(REGION, id)).tunnels[1]?.ike.pfs, 'group14');
  const gws = await c.listVpnGateways(REGION);
  assert.deepEqual(gws.map((g) => g.id).sort(), [DUAL_GW, SINGLE_GW].sort());
});

test('an error message quoting a PSK (sent now, or seen in an earlier answer) leaves the client scrubbed', async (t) => {
  const seen = 'Seen-Earlier-Key-77';
  let n = 0;
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      n++;
      res.setHeader('content-type', 'application/json');
      if (body.includes('Action=DescribeVpnConnection&') || body.includes('Action=DescribeVpnConnection')) {
        if (n === 1) {
          res.end(JSON.stringify({ RequestId: 'R1', VpnConnectionId: 'vco-abc', VpnGatewayId: 'vpn-x1234', IkeConfig: { Psk: seen }, State: 'active', Status: 'ike_sa_not_established' }));
          return;
        }
      }
      res.statusCode = 400;
      res.end(JSON.stringify({ RequestId: 'R2', Code: 'InvalidParameter', Message: `The key ${PSK} and the old one ${seen} do not match (raw ${encodeURIComponent(PSK)})` }));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => new Promise<void>((r) => server.close(() => r())));
  const port = (server.address() as { port: number }).port;
  const sink: string[] = [];
  const c = new PopVpcClient({ endpoint: `http://127.0.0.1:${port}`, credentials: CREDS, timeoutMs: 2000, onSecret: (s) => sink.push(s) });
  await c.describeVpnConnection(REGION, 'vco-abc');
  assert.deepEqual(sink, [seen]);
  const err = await c
    .createVpnConnection({ regionId: REGION, vpnGatewayId: 'vpn-x1234', localSubnet: ['10.0.0.0/8'], remoteSubnet: ['192.168.0.0/16'], tunnels: [{ customerGatewayId: 'cgw-1', ike: DEFAULT_IKE, ipsec: DEFAULT_IPSEC, enableDpd: true, enableNatTraversal: true, psk: PSK }] })
    .then(
      () => undefined,
      (e: unknown) => e,
    );
  assert.ok(err instanceof CloudError);
  const text = `${err.message} ${JSON.stringify(err)}`;
  for (const s of [PSK, seen, encodeURIComponent(PSK)]) assert.ok(!text.includes(s), `${s} leaked: ${text}`);
  assert.equal(err.code, 'InvalidParameter');
});

test('a create answered 200 without a well-formed VpnConnectionId is an unknown outcome, never a success', async (t) => {
  const server = createServer((_req, res) => {
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ RequestId: 'R9', VpnConnectionId: 'vco-../../x' }));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => new Promise<void>((r) => server.close(() => r())));
  const port = (server.address() as { port: number }).port;
  const c = new PopVpcClient({ endpoint: `http://127.0.0.1:${port}`, credentials: CREDS, timeoutMs: 2000 });
  const err = await c
    .createVpnConnection({ regionId: REGION, vpnGatewayId: 'vpn-x1234', localSubnet: ['10.0.0.0/8'], remoteSubnet: ['192.168.0.0/16'], tunnels: [{ customerGatewayId: 'cgw-1', ike: DEFAULT_IKE, ipsec: DEFAULT_IPSEC, enableDpd: true, enableNatTraversal: true }] })
    .then(
      () => undefined,
      (e: unknown) => e,
    );
  assert.ok(err instanceof CloudError);
  assert.deepEqual([err.code, err.outcomeUnknown], ['InvalidResponse.MissingId', true]);
});
