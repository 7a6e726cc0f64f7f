// Create / describe (paged) / modify / tag / delete round trips through PopVpcClient and through vpc20160428 (V3).
import '../helpers/env.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { REGION, caught, emulator, model, pop, rpc, vpc3 } from './util.js';

const ACCOUNT = '1234567890123456';

test('PopVpcClient round trip: create 23, page, filter, modify, tag, untag, delete', async (t) => {
  const emu = await emulator({ vpnGateways: [{ RegionId: REGION, VpnGatewayId: 'vpn-roundtrip00000000000', InternetIp: '47.96.1.1' }], vpnTaskMs: 0 });
  t.after(() => emu.close());
  const c = pop(emu);
  const ids: string[] = [];
  for (let i = 1; i <= 23; i++) {
    const out = await c.createCustomerGateway({
      regionId: REGION,
      ipAddress: `203.0.113.${i}`,
      name: `site-${i}`,
      asn: i % 2 ? '65001' : undefined,
      authKey: i % 2 ? `key-${i}` : undefined,
      tags: [{ key: 'batch', value: i <= 10 ? 'a' : 'b' }],
      resourceGroupId: i === 23 ? 'rg-special' : undefined,
      clientToken: `tok-${i}`,
    });
    assert.match(out.id, /^cgw-[a-z0-9]{21}$/);
    assert.ok(Math.abs(out.createTime - Date.now()) < 5000);
    ids.push(out.id);
  }
  const p1 = await c.describeCustomerGateways({ regionId: REGION });
  assert.equal(p1.items.length, 10);
  assert.equal(p1.totalCount, 23);
  assert.equal(p1.pageSize, 10);
  const p3 = await c.describeCustomerGateways({ regionId: REGION, pageNumber: 3, pageSize: 10 });
  assert.deepEqual(p3.items.map((g) => g.id), ids.slice(20));
  const all = await c.listCustomerGateways(REGION);
  assert.deepEqual(all.map((g) => g.id), ids);
  assert.equal(all[0]?.asn, '65001');
  assert.equal(all[0]?.authKey, 'key-1');
  assert.equal(all[1]?.asn, undefined);
  const byTag = await c.describeCustomerGateways({ regionId: REGION, tags: [{ key: 'batch', value: 'a' }], pageSize: 50 });
  assert.equal(byTag.totalCount, 10);
  const byKeyOnly = await c.describeCustomerGateways({ regionId: REGION, tags: [{ key: 'batch', value: '' }], pageSize: 50 });
  assert.equal(byKeyOnly.totalCount, 23);
  const byRg = await c.describeCustomerGateways({ regionId: REGION, resourceGroupId: 'rg-special' });
  assert.deepEqual(byRg.items.map((g) => g.id), [ids[22]]);
  const byId = await c.describeCustomerGateways({ regionId: REGION, customerGatewayId: ids[4] });
  assert.equal(byId.totalCount, 1);
  const tooBig = await caught(c.describeCustomerGateways({ regionId: REGION, pageSize: 51 }));
  assert.equal(tooBig.code, 'InvalidParameter');
  // other regions are empty
  assert.equal((await c.describeCustomerGateways({ regionId: 'cn-beijing' })).totalCount, 0);

  const id = ids[0] ?? '';
  await c.modifyCustomerGatewayAttribute({ regionId: REGION, id, name: 'renamed', description: 'desc', authKey: 'rotated' });
  const g = await c.describeCustomerGateway(REGION, id);
  assert.equal(g.name, 'renamed');
  assert.equal(g.description, 'desc');
  assert.equal(g.authKey, 'rotated');
  assert.equal(g.ip, '203.0.113.1');
  const noAsn = await caught(c.modifyCustomerGatewayAttribute({ regionId: REGION, id: ids[1] ?? '', authKey: 'x' }));
  assert.equal(noAsn.code, 'OperationDenied.MissingAsn');
  const badName = await caught(c.modifyCustomerGatewayAttribute({ regionId: REGION, id, name: 'https://x' }));
  assert.equal(badName.code, 'InvalidName');
  const nf = await caught(c.modifyCustomerGatewayAttribute({ regionId: REGION, id: 'cgw-doesnotexist000000000', name: 'x' }));
  assert.equal(nf.code, 'InvalidCustomerGatewayInstanceId.NotFound');
  assert.equal(nf.status, 404);

  // tags: overwrite, add, list with paging, untag, 20 max
  await c.tagResources({ regionId: REGION, resourceIds: [id, ids[1] ?? ''], tags: [{ key: 'batch', value: 'z' }, { key: 'owner', value: 'ops' }] });
  assert.deepEqual((await c.describeCustomerGateway(REGION, id)).tags, [
    { key: 'batch', value: 'z' },
    { key: 'owner', value: 'ops' },
  ]);
  const l1 = await c.listTagResources({ regionId: REGION, resourceIds: [id, ids[1] ?? ''], maxResults: 3 });
  assert.equal(l1.items.length, 3);
  assert.ok(l1.nextToken);
  const l2 = await c.listTagResources({ regionId: REGION, resourceIds: [id, ids[1] ?? ''], maxResults: 3, nextToken: l1.nextToken });
  assert.equal(l2.items.length, 1);
  assert.equal(l2.nextToken, undefined);
  const byTagList = await c.listTagResources({ regionId: REGION, tags: [{ key: 'owner', value: 'ops' }] });
  assert.deepEqual([...new Set(byTagList.items.map((x) => x.resourceId))].sort(), [id, ids[1]].sort());
  await c.untagResources({ regionId: REGION, resourceIds: [id], tagKeys: ['owner'] });
  assert.deepEqual((await c.describeCustomerGateway(REGION, id)).tags, [{ key: 'batch', value: 'z' }]);
  await c.untagResources({ regionId: REGION, resourceIds: [id], all: true });
  assert.deepEqual((await c.describeCustomerGateway(REGION, id)).tags, []);
  const many = Array.from({ length: 20 }, (_, i) => ({ key: `t${i}`, value: 'v' }));
  await c.tagResources({ regionId: REGION, resourceIds: [id], tags: many });
  const over = await caught(c.tagResources({ regionId: REGION, resourceIds: [id], tags: [{ key: 'one-more', value: 'v' }] }));
  assert.equal(over.code, 'QuotaExceeded.TagNum');
  assert.equal(over.errorClass, 'quota');
  const unknownRes = await caught(c.tagResources({ regionId: REGION, resourceIds: ['cgw-nope'], tags: [{ key: 'a', value: 'b' }] }));
  assert.equal(unknownRes.code, 'InvalidInstanceIds.NotFound');
  const both = await caught(c.listTagResources({ regionId: REGION }));
  assert.equal(both.code, 'BothEmpty.TagsAndResources');
  const badType = await caught(rpc(emu).request('TagResources', { RegionId: REGION, ResourceType: 'VPC', 'ResourceId.1': id, 'Tag.1.Key': 'a', 'Tag.1.Value': 'b' }, { method: 'POST' }));
  assert.equal(badType.code, 'InvalidInstanceType.NotFound');
  await rpc(emu).request('TagResources', { RegionId: REGION, ResourceType: 'customerGateway', 'ResourceId.1': ids[2], 'Tag.1.Key': 'a', 'Tag.1.Value': 'b' }, { method: 'POST' });

  // delete: an IPsec connection uses it -> DependencyViolation; configuring -> task.conflict; then gone, tags with it
  const vco = await rpc(emu).request(
    'CreateVpnConnection',
    { RegionId: REGION, VpnGatewayId: 'vpn-roundtrip00000000000', CustomerGatewayId: id, LocalSubnet: '10.0.0.0/16', RemoteSubnet: '192.168.0.0/24' },
    { method: 'POST' },
  );
  const dep = await caught(c.deleteCustomerGateway({ regionId: REGION, id }));
  assert.equal(dep.code, 'DependencyViolation.VpnConnection');
  assert.equal(dep.status, 400);
  await rpc(emu).request('DeleteVpnConnection', { RegionId: REGION, VpnConnectionId: vco.VpnConnectionId }, { method: 'POST' });
  emu.setAccountFlags(ACCOUNT, { vpnConfiguring: true });
  assert.equal((await caught(c.deleteCustomerGateway({ regionId: REGION, id }))).code, 'VpnGateway.task.conflict');
  assert.equal((await caught(c.modifyCustomerGatewayAttribute({ regionId: REGION, id, name: 'x' }))).code, 'OperationDenied.VpnConfiguring');
  emu.setAccountFlags(ACCOUNT, { vpnConfiguring: false, financialLocked: true });
  assert.equal((await caught(c.modifyCustomerGatewayAttribute({ regionId: REGION, id, name: 'x' }))).code, 'OperationDenied.VpnFinancialLocked');
  emu.setAccountFlags(ACCOUNT, { financialLocked: false, subUser: true });
  assert.equal((await caught(c.deleteCustomerGateway({ regionId: REGION, id }))).code, 'Forbbiden.SubUser');
  assert.equal((await caught(c.describeCustomerGateway(REGION, id))).code, 'Forbidden.SubUser');
  emu.setAccountFlags(ACCOUNT, { subUser: false });
  await c.deleteCustomerGateway({ regionId: REGION, id });
  const gone = await caught(c.describeCustomerGateway(REGION, id));
  assert.equal(gone.code, 'InvalidCustomerGatewayInstanceId.NotFound');
  assert.equal(gone.errorClass, 'not-found');
  assert.equal((await caught(c.deleteCustomerGateway({ regionId: REGION, id }))).code, 'InvalidCustomerGatewayInstanceId.NotFound');
  assert.equal((await c.listTagResources({ regionId: REGION, resourceIds: [id] })).items.length, 0);
  assert.equal((await c.describeCustomerGateways({ regionId: REGION })).totalCount, 22);

  const regions = await c.describeRegions();
  assert.ok(regions.some((r) => r.regionId === 'cn-hangzhou' && r.localName === 'China (Hangzhou)'));
  assert.ok(!regions.some((r) => r.regionId === 'ap-southeast-2'));
  const badRegion = await caught(c.describeCustomerGateways({ regionId: 'ap-southeast-2' }));
  assert.equal(badRegion.code, 'InvalidRegionId.NotFound');
  assert.equal(badRegion.status, 404);
});

test('accounts are isolated; each key sees only its own gateways', async (t) => {
  const a = { accessKeyId: 'LTAIa', accessKeySecret: 'sa', accountId: '111' };
  const b = { accessKeyId: 'LTAIb', accessKeySecret: 'sb', accountId: '222' };
  const emu = await emulator({ accounts: [a, b] });
  t.after(() => emu.close());
  await pop(emu, a).createCustomerGateway({ regionId: REGION, ipAddress: '8.8.8.8' });
  // the same IP is free in another account
  const other = await pop(emu, b).createCustomerGateway({ regionId: REGION, ipAddress: '8.8.8.8' });
  assert.equal((await pop(emu, a).describeCustomerGateways({ regionId: REGION })).totalCount, 1);
  assert.equal((await caught(pop(emu, a).describeCustomerGateway(REGION, other.id))).code, 'InvalidCustomerGatewayInstanceId.NotFound');
  assert.deepEqual(Object.keys(emu.state().accounts).sort(), ['111', '222']);
});

test('vpc20160428 (V3) round trip: create, describe paged, modify, tag, list, untag, delete', async (t) => {
  const emu = await emulator();
  t.after(() => emu.close());
  const v = vpc3(emu);
  const ids: string[] = [];
  for (let i = 1; i <= 12; i++) {
    const r = await v.createCustomerGateway(
      model('CreateCustomerGatewayRequest', {
        regionId: REGION,
        ipAddress: `198.51.100.${i}`,
        name: `v3 site+${i} (~*)`,
        asn: '65010',
        authKey: 'bgp!key',
        clientToken: `v3-${i}`,
        tags: [model('CreateCustomerGatewayRequestTags', { key: 'env', value: 'a b' })],
      }),
    );
    assert.equal(r.statusCode, 200);
    assert.equal(r.body.ipAddress, `198.51.100.${i}`);
    assert.equal(r.body.name, `v3 site+${i} (~*)`);
    ids.push(r.body.customerGatewayId);
  }
  const page2 = await v.describeCustomerGateways(model('DescribeCustomerGatewaysRequest', { regionId: REGION, pageNumber: 2, pageSize: 5 }));
  assert.equal(page2.body.totalCount, 12);
  assert.deepEqual(page2.body.customerGateways.customerGateway.map((g: any) => g.customerGatewayId), ids.slice(5, 10));
  const tagged = await v.describeCustomerGateways(
    model('DescribeCustomerGatewaysRequest', { regionId: REGION, tag: [model('DescribeCustomerGatewaysRequestTag', { key: 'env', value: 'a b' })], pageSize: 50 }),
  );
  assert.equal(tagged.body.totalCount, 12);
  const id = ids[0];
  await v.modifyCustomerGatewayAttribute(model('ModifyCustomerGatewayAttributeRequest', { regionId: REGION, customerGatewayId: id, name: 'new name', authKey: 'k2' }));
  const one = await v.describeCustomerGateway(model('DescribeCustomerGatewayRequest', { regionId: REGION, customerGatewayId: id }));
  assert.equal(one.body.name, 'new name');
  assert.equal(one.body.authKey, 'k2');
  assert.equal(one.body.asn, 65010);
  await v.tagResources(
    model('TagResourcesRequest', { regionId: REGION, resourceType: 'CUSTOMERGATEWAY', resourceId: [id], tag: [model('TagResourcesRequestTag', { key: 'env', value: 'prod' })] }),
  );
  const listed = await v.listTagResources(model('ListTagResourcesRequest', { regionId: REGION, resourceType: 'CUSTOMERGATEWAY', resourceId: [id] }));
  assert.deepEqual(
    listed.body.tagResources.tagResource.map((x: any) => [x.resourceId, x.tagKey, x.tagValue]),
    [[id, 'env', 'prod']],
  );
  await v.unTagResources(model('UnTagResourcesRequest', { regionId: REGION, resourceType: 'CUSTOMERGATEWAY', resourceId: [id], all: true }));
  await v.deleteCustomerGateway(model('DeleteCustomerGatewayRequest', { regionId: REGION, customerGatewayId: id, clientToken: 'del-1' }));
  const nf = await caught(v.describeCustomerGateway(model('DescribeCustomerGatewayRequest', { regionId: REGION, customerGatewayId: id })));
  assert.equal(nf.code, 'InvalidCustomerGatewayInstanceId.NotFound');
  assert.equal(nf.statusCode, 404);
  const regions = await v.describeRegions(model('DescribeRegionsRequest', { regionId: REGION }));
  assert.ok(regions.body.regions.region.some((r: any) => r.regionId === 'eu-central-1'));
});
