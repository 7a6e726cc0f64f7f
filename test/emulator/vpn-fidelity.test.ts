// The official @alicloud/vpc20160428 client (V3 signatures, typed models) drives every VPN action; pop-core checks the views.
import '../helpers/env.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DUAL_GW, REGION, SINGLE_GW, VPN_FIXTURES, call, caught, emulator, manualClock, model, raw, signedQuery, vpc3 } from './util.js';

test('vpc20160428: VPN gateways, single- and dual-tunnel connections, modify, download, tags, delete', async (t) => {
  const clock = manualClock();
  const emu = await emulator({ vpnGateways: VPN_FIXTURES, clock: clock.now, vpnTaskMs: 1000 });
  t.after(() => emu.close());
  const v = vpc3(emu);
  const cgw = async (ip: string, asn?: string) =>
    (await v.createCustomerGateway(model('CreateCustomerGatewayRequest', { regionId: REGION, ipAddress: ip, asn }))).body.customerGatewayId as string;
  const a = await cgw('203.0.113.1', '65001');
  const b = await cgw('203.0.113.2', '65002');

  const gw = (await v.describeVpnGateway(model('DescribeVpnGatewayRequest', { regionId: REGION, vpnGatewayId: DUAL_GW }))).body;
  assert.deepEqual(
    [gw.vpnGatewayId, gw.internetIp, gw.disasterRecoveryInternetIp, gw.status, gw.ipsecVpn, gw.enableBgp, gw.networkType, gw.vpnType, gw.businessStatus],
    [DUAL_GW, '47.96.0.2', '47.96.0.3', 'active', 'enable', true, 'public', 'Normal', 'Normal'],
  );
  assert.equal(JSON.parse(gw.tag).VpnEnableBgp, 'true');
  const gws = (await v.describeVpnGateways(model('DescribeVpnGatewaysRequest', { regionId: REGION, pageSize: 1, pageNumber: 2 }))).body;
  assert.deepEqual([gws.totalCount, gws.vpnGateways.vpnGateway.length, gws.vpnGateways.vpnGateway[0].vpnGatewayId], [2, 1, DUAL_GW]);
  assert.equal((await v.describeVpnGateways(model('DescribeVpnGatewaysRequest', { regionId: REGION }))).body.vpnGateways.vpnGateway[0].disasterRecoveryInternetIp, undefined);

  // Single tunnel: the JSON-string parameters, tags with the plural `Tags`.
  const single = await v.createVpnConnection(
    model('CreateVpnConnectionRequest', {
      regionId: REGION,
      vpnGatewayId: SINGLE_GW,
      customerGatewayId: a,
      name: 'hq',
      localSubnet: '10.0.0.0/16',
      remoteSubnet: '192.168.1.0/24',
      effectImmediately: true,
      ikeConfig: JSON.stringify({ Psk: 'v3-psk;#$', IkeVersion: 'ikev2', IkeEncAlg: 'aes256', IkeAuthAlg: 'sha256', IkePfs: 'group14', IkeLifetime: 28800 }),
      ipsecConfig: JSON.stringify({ IpsecEncAlg: 'aes256', IpsecAuthAlg: 'sha256', IpsecPfs: 'group14', IpsecLifetime: 3600 }),
      healthCheckConfig: JSON.stringify({ enable: true, dip: '10.0.0.1', sip: '192.168.1.1', interval: 3, retry: 3 }),
      bgpConfig: JSON.stringify({ EnableBgp: true, TunnelCidr: '169.254.10.0/30', LocalBgpIp: '169.254.10.1' }),
      clientToken: 'v3-single',
      tags: [model('CreateVpnConnectionRequestTags', { key: 'site', value: 'hq' })],
    }),
  );
  assert.equal(single.statusCode, 200);
  const sid = single.body.vpnConnectionId;
  assert.match(sid, /^vco-/);
  assert.equal(single.body.name, 'hq');
  assert.equal((await v.describeVpnGateway(model('DescribeVpnGatewayRequest', { regionId: REGION, vpnGatewayId: SINGLE_GW }))).body.status, 'updating');
  const busy = await caught(
    v.deleteVpnConnection(model('DeleteVpnConnectionRequest', { regionId: REGION, vpnConnectionId: sid })),
  );
  assert.deepEqual([busy.code, busy.statusCode], ['VpnTask.CONFLICT', 400]);
  clock.advance(1000);
  const s = (await v.describeVpnConnection(model('DescribeVpnConnectionRequest', { regionId: REGION, vpnConnectionId: sid }))).body;
  assert.deepEqual([s.state, s.status, s.customerGatewayId, s.localSubnet, s.effectImmediately], ['active', 'ike_sa_not_established', a, '10.0.0.0/16', true]);
  assert.deepEqual([s.ikeConfig.psk, s.ikeConfig.ikeVersion, s.ikeConfig.ikeLifetime, s.ipsecConfig.ipsecPfs], ['v3-psk;#$', 'ikev2', 28800, 'group14']);
  assert.deepEqual([s.vcoHealthCheck.enable, s.vcoHealthCheck.dip, s.vcoHealthCheck.retry], ['true', '10.0.0.1', 3]);
  assert.deepEqual([s.vpnBgpConfig.enableBgp, s.vpnBgpConfig.localAsn, s.vpnBgpConfig.peerAsn, s.vpnBgpConfig.peerBgpIp], ['true', 45104, 65001, '169.254.10.2']);
  assert.deepEqual(s.tags.tag.map((x: any) => [x.key, x.value]), [['site', 'hq']]);

  // Dual tunnel: TunnelOptionsSpecification models, sent flat in the form body by the client.
  const tunnel = (cg: string, role: string, psk: string, cidr: string) =>
    model('CreateVpnConnectionRequestTunnelOptionsSpecification', {
      customerGatewayId: cg,
      role,
      enableDpd: true,
      enableNatTraversal: false,
      tunnelIkeConfig: model('CreateVpnConnectionRequestTunnelOptionsSpecificationTunnelIkeConfig', { psk, ikeVersion: 'ikev2', ikeLifetime: 3600 }),
      tunnelIpsecConfig: model('CreateVpnConnectionRequestTunnelOptionsSpecificationTunnelIpsecConfig', { ipsecPfs: 'disabled' }),
      tunnelBgpConfig: model('CreateVpnConnectionRequestTunnelOptionsSpecificationTunnelBgpConfig', { localAsn: 65530, tunnelCidr: cidr }),
    });
  const dual = await v.createVpnConnection(
    model('CreateVpnConnectionRequest', {
      regionId: REGION,
      vpnGatewayId: DUAL_GW,
      localSubnet: '0.0.0.0/0',
      remoteSubnet: '0.0.0.0/0',
      enableTunnelsBgp: true,
      tunnelOptionsSpecification: [tunnel(a, 'master', 'master-psk', '169.254.20.0/30'), tunnel(b, 'slave', 'slave-psk', '169.254.21.0/30')],
      tags: [model('CreateVpnConnectionRequestTags', { key: 'site', value: 'dual' })],
    }),
  );
  const did = dual.body.vpnConnectionId;
  clock.advance(1000);
  const d = (await v.describeVpnConnection(model('DescribeVpnConnectionRequest', { regionId: REGION, vpnConnectionId: did }))).body;
  assert.equal(d.enableTunnelsBgp, true);
  const [m, sl] = d.tunnelOptionsSpecification.tunnelOptions;
  assert.deepEqual([m.role, m.customerGatewayId, m.internetIp, m.tunnelIkeConfig.psk, m.tunnelIkeConfig.ikeLifetime, m.enableNatTraversal], ['master', a, '47.96.0.2', 'master-psk', '3600', 'false']);
  assert.deepEqual([sl.role, sl.customerGatewayId, sl.internetIp, sl.tunnelIkeConfig.psk, sl.tunnelIpsecConfig.ipsecPfs], ['slave', b, '47.96.0.3', 'slave-psk', 'disabled']);
  assert.deepEqual([m.tunnelBgpConfig.localAsn, m.tunnelBgpConfig.tunnelCidr, m.tunnelBgpConfig.peerAsn], ['65530', '169.254.20.0/30', '65001']);

  // The list: filters, `Tag` per item, paging.
  const listed = (
    await v.describeVpnConnections(
      model('DescribeVpnConnectionsRequest', { regionId: REGION, tag: [model('DescribeVpnConnectionsRequestTag', { key: 'site', value: 'dual' })] }),
    )
  ).body;
  assert.deepEqual([listed.totalCount, listed.vpnConnections.vpnConnection[0].vpnConnectionId], [1, did]);
  assert.deepEqual(listed.vpnConnections.vpnConnection[0].tag.tag.map((x: any) => x.value), ['dual']);
  const byCgw = (await v.describeVpnConnections(model('DescribeVpnConnectionsRequest', { regionId: REGION, customerGatewayId: b, pageSize: 50 }))).body;
  assert.deepEqual(byCgw.vpnConnections.vpnConnection.map((x: any) => x.vpnConnectionId), [did]);

  // Modify: single-tunnel JSON, dual-tunnel by TunnelId.
  const ms = (
    await v.modifyVpnConnectionAttribute(
      model('ModifyVpnConnectionAttributeRequest', { regionId: REGION, vpnConnectionId: sid, name: 'hq-2', ikeConfig: JSON.stringify({ Psk: 'rotated' }), clientToken: 'v3-mod' }),
    )
  ).body;
  assert.deepEqual([ms.name, ms.ikeConfig.psk, ms.ikeConfig.ikeVersion, ms.vpnBgpConfig.tunnelCidr], ['hq-2', 'rotated', 'ikev2', '169.254.10.0/30']);
  const md = (
    await v.modifyVpnConnectionAttribute(
      model('ModifyVpnConnectionAttributeRequest', {
        regionId: REGION,
        vpnConnectionId: did,
        tunnelOptionsSpecification: [
          model('ModifyVpnConnectionAttributeRequestTunnelOptionsSpecification', {
            tunnelId: sl.tunnelId,
            role: 'slave',
            tunnelIkeConfig: model('ModifyVpnConnectionAttributeRequestTunnelOptionsSpecificationTunnelIkeConfig', { psk: 'slave-rotated' }),
            tunnelBgpConfig: model('ModifyVpnConnectionAttributeRequestTunnelOptionsSpecificationTunnelBgpConfig', { tunnelCidr: '169.254.22.0/30', localBgpIp: '169.254.22.2' }),
          }),
        ],
      }),
    )
  ).body;
  const mslave = md.tunnelOptionsSpecification.tunnelOptions[1];
  assert.deepEqual([mslave.tunnelId, mslave.tunnelIkeConfig.psk, mslave.tunnelBgpConfig.tunnelCidr, mslave.tunnelBgpConfig.peerBgpIp], [sl.tunnelId, 'slave-rotated', '169.254.22.0/30', '169.254.22.1']);
  const noTunnel = await caught(
    v.modifyVpnConnectionAttribute(
      model('ModifyVpnConnectionAttributeRequest', {
        regionId: REGION,
        vpnConnectionId: did,
        tunnelOptionsSpecification: [model('ModifyVpnConnectionAttributeRequestTunnelOptionsSpecification', { tunnelId: 'tun-none00000000000000' })],
      }),
    ),
  );
  assert.deepEqual([noTunnel.code, noTunnel.statusCode], ['IllegalParam.TunnelId', 400]);
  clock.advance(1000);

  // Download: the branch's view.
  const dl = (await v.downloadVpnConnectionConfig(model('DownloadVpnConnectionConfigRequest', { regionId: REGION, vpnConnectionId: sid }))).body.vpnConnectionConfig;
  assert.deepEqual(
    [dl.local, dl.remote, dl.localSubnet, dl.remoteSubnet, dl.ikeConfig.psk, dl.ikeConfig.localId, dl.ikeConfig.remoteId, dl.ipsecConfig.ipsecLifetime],
    ['203.0.113.1', '47.96.0.1', '192.168.1.0/24', '10.0.0.0/16', 'rotated', '203.0.113.1', '47.96.0.1', 3600],
  );
  assert.equal(dl.bgpConfigs, undefined, 'no BGP fields');
  const dd = (await v.downloadVpnConnectionConfig(model('DownloadVpnConnectionConfigRequest', { regionId: REGION, vpnConnectionId: did }))).body.vpnConnectionConfig;
  assert.deepEqual(
    dd.tunnelsConfig.tunnelConfig.map((x: any) => [x.tunnelId, x.local, x.remote, x.ikeConfig.psk, x.ikeConfig.localId, x.ikeConfig.remoteId]),
    [
      [m.tunnelId, '203.0.113.1', '47.96.0.2', 'master-psk', '203.0.113.1', '47.96.0.2'],
      [sl.tunnelId, '203.0.113.2', '47.96.0.3', 'slave-rotated', '203.0.113.2', '47.96.0.3'],
    ],
  );

  // Tags with ResourceType VPNCONNECTION.
  await v.tagResources(
    model('TagResourcesRequest', { regionId: REGION, resourceType: 'VPNCONNECTION', resourceId: [sid, did], tag: [model('TagResourcesRequestTag', { key: 'owner', value: 'netops' })] }),
  );
  const tags = (await v.listTagResources(model('ListTagResourcesRequest', { regionId: REGION, resourceType: 'VPNCONNECTION', resourceId: [sid, did], maxResults: 3 }))).body;
  assert.deepEqual(tags.tagResources.tagResource.map((x: any) => [x.resourceType, x.resourceId, x.tagKey]), [
    ['VPNCONNECTION', sid, 'site'],
    ['VPNCONNECTION', sid, 'owner'],
    ['VPNCONNECTION', did, 'site'],
  ]);
  assert.equal(tags.nextToken, 'vcont-3');
  const rest = (await v.listTagResources(model('ListTagResourcesRequest', { regionId: REGION, resourceType: 'VPNCONNECTION', resourceId: [sid, did], nextToken: tags.nextToken }))).body;
  assert.deepEqual(rest.tagResources.tagResource.map((x: any) => x.tagKey), ['owner']);
  assert.equal(rest.nextToken, '');
  await v.unTagResources(model('UnTagResourcesRequest', { regionId: REGION, resourceType: 'VPNCONNECTION', resourceId: [sid], tagKey: ['owner'] }));
  const byTag = (await v.listTagResources(model('ListTagResourcesRequest', { regionId: REGION, resourceType: 'VPNCONNECTION', tag: [model('ListTagResourcesRequestTag', { key: 'owner' })] }))).body;
  assert.deepEqual([...new Set(byTag.tagResources.tagResource.map((x: any) => x.resourceId))], [did]);
  const wrongType = await caught(
    v.tagResources(model('TagResourcesRequest', { regionId: REGION, resourceType: 'CUSTOMERGATEWAY', resourceId: [sid], tag: [model('TagResourcesRequestTag', { key: 'k', value: 'v' })] })),
  );
  assert.equal(wrongType.code, 'InvalidInstanceIds.NotFound');

  // Delete, and the errors the client surfaces.
  await v.deleteVpnConnection(model('DeleteVpnConnectionRequest', { regionId: REGION, vpnConnectionId: sid, clientToken: 'v3-del' }));
  await v.deleteVpnConnection(model('DeleteVpnConnectionRequest', { regionId: REGION, vpnConnectionId: sid, clientToken: 'v3-del' }));
  clock.advance(1000);
  const gone = await caught(v.describeVpnConnection(model('DescribeVpnConnectionRequest', { regionId: REGION, vpnConnectionId: sid })));
  assert.deepEqual([gone.code, gone.statusCode], ['InvalidVpnConnectionInstanceId.NotFound', 404]);
  const noGw = await caught(v.describeVpnGateway(model('DescribeVpnGatewayRequest', { regionId: REGION, vpnGatewayId: 'vpn-none00000000000000' })));
  assert.deepEqual([noGw.code, noGw.statusCode], ['InvalidVpnGatewayInstanceId.NotFound', 404]);
  const missingSpec = await caught(
    v.createVpnConnection(model('CreateVpnConnectionRequest', { regionId: REGION, vpnGatewayId: DUAL_GW, localSubnet: '10.9.0.0/16', remoteSubnet: '192.168.9.0/24', customerGatewayId: a })),
  );
  assert.equal(missingSpec.code, 'InvalidParameter', 'CustomerGatewayId is a single-tunnel parameter');
  const dep = await caught(v.deleteCustomerGateway(model('DeleteCustomerGatewayRequest', { regionId: REGION, customerGatewayId: b })));
  assert.deepEqual([dep.code, dep.statusCode], ['DependencyViolation.VpnConnection', 400]);
});

test('pop-core: the same views (Download mirrored per tunnel, tags, the Tags/Tag quirk) in XML too', async (t) => {
  const emu = await emulator({ vpnGateways: VPN_FIXTURES, vpnTaskMs: 0 });
  t.after(() => emu.close());
  const a = (await call(emu, 'CreateCustomerGateway', { IpAddress: '203.0.113.1' })).CustomerGatewayId;
  const id = (
    await call(emu, 'CreateVpnConnection', {
      VpnGatewayId: SINGLE_GW,
      CustomerGatewayId: a,
      LocalSubnet: '10.0.0.0/16,10.1.0.0/16',
      RemoteSubnet: '192.168.1.0/24',
      IkeConfig: JSON.stringify({ Psk: 'xml<&>key', IkeVersion: 'ikev2', LocalId: 'vpc.example', RemoteId: 'branch.example' }),
      'Tags.1.Key': 'k',
      'Tags.1.Value': 'v',
    })
  ).VpnConnectionId;
  const dl = (await call(emu, 'DownloadVpnConnectionConfig', { VpnConnectionId: id })).VpnConnectionConfig;
  assert.deepEqual(
    { Local: dl.Local, Remote: dl.Remote, LocalSubnet: dl.LocalSubnet, RemoteSubnet: dl.RemoteSubnet, LocalId: dl.IkeConfig.LocalId, RemoteId: dl.IkeConfig.RemoteId },
    { Local: '203.0.113.1', Remote: '47.96.0.1', LocalSubnet: '192.168.1.0/24', RemoteSubnet: '10.0.0.0/16,10.1.0.0/16', LocalId: 'branch.example', RemoteId: 'vpc.example' },
  );
  assert.ok(!('BgpConfig' in dl) && !('VpnBgpConfig' in dl));
  const xml = await raw(emu, { path: `/?${signedQuery({ Action: 'DescribeVpnConnection', RegionId: REGION, VpnConnectionId: id, Format: 'XML' })}` });
  assert.match(xml.body, /^<\?xml version="1.0" encoding="UTF-8"\?><DescribeVpnConnectionResponse>/);
  assert.ok(xml.body.includes('<Psk>xml&lt;&amp;&gt;key</Psk>'), 'the PSK is XML-escaped');
  assert.ok(xml.body.includes('<Tags><Tag><Key>k</Key><Value>v</Value></Tag></Tags>'));
  const listed = await call(emu, 'DescribeVpnConnections', { VpnConnectionId: id });
  assert.deepEqual(listed.VpnConnections.VpnConnection[0].Tag.Tag, [{ Key: 'k', Value: 'v' }]);
  assert.deepEqual((await call(emu, 'DescribeVpnConnection', { VpnConnectionId: id })).Tags.Tag, [{ Key: 'k', Value: 'v' }]);
  assert.equal((await call(emu, 'ListTagResources', { ResourceType: 'vpnconnection', 'Tag.1.Key': 'k' })).TagResources.TagResource[0].ResourceId, id);
});
