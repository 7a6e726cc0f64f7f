// The VPN listing a site plan gets: every region's VPN gateways and connections through the client's VpnApi calls,
// regions in parallel; a client without those calls yields no listing (the sites are then planned offline).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fetchVpnInventory, vpnLister } from '../../src/cloud/inventory.js';
import type { ListOptions, VpcClient, VpnConnection, VpnGateway } from '../../src/cloud/types.js';
import { vco, vpnGw } from '../plan/builders.js';

class FakeVpn {
  readonly endpoint = 'fake://';
  readonly accessKeyId = 'AK';
  calls: string[] = [];
  constructor(private readonly data: Record<string, { gateways: VpnGateway[]; connections: VpnConnection[] }>) {}
  async listVpnGateways(regionId: string, _opts?: ListOptions): Promise<VpnGateway[]> {
    this.calls.push(`gateways ${regionId}`);
    return this.data[regionId]?.gateways ?? [];
  }
  async listVpnConnections(regionId: string, filter: object, _opts?: ListOptions): Promise<VpnConnection[]> {
    this.calls.push(`connections ${regionId} ${JSON.stringify(filter)}`);
    return this.data[regionId]?.connections ?? [];
  }
}

test('every region\'s gateways and connections, all connections of the region (no filter)', async () => {
  const fake = new FakeVpn({
    'cn-hangzhou': { gateways: [vpnGw()], connections: [vco('vco-1', 'cgw-1')] },
    'cn-shanghai': { gateways: [vpnGw({ id: 'vpn-sh', regionId: 'cn-shanghai' })], connections: [] },
  });
  const client = fake as unknown as VpcClient;
  assert.ok(vpnLister(client));
  const inv = await fetchVpnInventory(['cn-hangzhou', 'cn-shanghai'], () => client);
  assert.deepEqual([...inv!.keys()], ['cn-hangzhou', 'cn-shanghai']);
  assert.deepEqual(inv!.get('cn-hangzhou')!.connections.map((c) => c.id), ['vco-1']);
  assert.deepEqual(inv!.get('cn-shanghai')!.gateways.map((g) => g.id), ['vpn-sh']);
  assert.deepEqual(fake.calls.sort(), ['connections cn-hangzhou {}', 'connections cn-shanghai {}', 'gateways cn-hangzhou', 'gateways cn-shanghai']);
});

test('a client without the VPN calls: no listing, and nothing is asked', async () => {
  const plain = { endpoint: 'x', accessKeyId: 'AK', listCustomerGateways: async () => [] } as unknown as VpcClient;
  assert.equal(vpnLister(plain), undefined);
  assert.equal(await fetchVpnInventory(['cn-hangzhou'], () => plain), undefined);
});
