// The IPsec responders' desired state and statuses as plain data: connections grouped per peer (gateway IP, customer
// gateway IP), strongSwan's names for the API's algorithms, IKEv1's one CHILD_SA per selector pair, the VPC addresses
// the policies need, what a change of each kind touches, and the status words read from SAs.
import '../helpers/env.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  childHash,
  ikeHash,
  loadConnMessage,
  planResponder,
  sharedSecretMessage,
  tunnelsOf,
  type ResponderTunnel,
} from '../../src/emulator/ipsec-plan.js';
import { isPhase2Failure, readSas, tunnelStatuses } from '../../src/emulator/ipsec-status.js';
import type { GatewayRecord } from '../../src/emulator/store.js';
import { IKE_DEFAULTS, IPSEC_DEFAULTS, type VpnConnectionRecord, type VpnGatewayRecord } from '../../src/emulator/vpn-model.js';

const gw = (id: string, ip: string, dr?: string): VpnGatewayRecord => ({
  VpnGatewayId: id,
  VpcId: 'vpc-1',
  VSwitchId: 'vsw-1',
  Name: '',
  Description: '',
  InternetIp: ip,
  ...(dr ? { DisasterRecoveryInternetIp: dr } : {}),
  IpsecVpn: 'enable',
  EnableBgp: true,
  Status: 'active',
  BusinessStatus: 'Normal',
  Spec: '10M',
  CreateTime: 0,
  ResourceGroupId: 'rg-1',
  Tags: [],
});
const cgw = (id: string, ip: string): GatewayRecord => ({ CustomerGatewayId: id, IpAddress: ip, Name: '', Description: '', CreateTime: 0, ResourceGroupId: 'rg', Tags: [], ClientTokens: [] });
const CGWS = new Map([cgw('cgw-a', '203.0.113.1'), cgw('cgw-b', '203.0.113.2')].map((c) => [c.CustomerGatewayId, c]));

function single(id: string, o: Partial<VpnConnectionRecord> = {}): VpnConnectionRecord {
  return {
    VpnConnectionId: id,
    VpnGatewayId: 'vpn-1',
    Name: '',
    LocalSubnet: ['172.16.0.0/24'],
    RemoteSubnet: ['10.0.0.0/24'],
    CreateTime: 0,
    EffectImmediately: false,
    AutoConfigRoute: true,
    ResourceGroupId: 'rg',
    Tags: [],
    ClientTokens: [],
    State: 'active',
    CustomerGatewayId: 'cgw-a',
    EnableDpd: true,
    EnableNatTraversal: true,
    Ike: { ...IKE_DEFAULTS, Psk: 'key-one-0001', LocalId: '47.0.0.1', RemoteId: '203.0.113.1' },
    Ipsec: { ...IPSEC_DEFAULTS },
    ...o,
  };
}

test('a single-tunnel connection is one tunnel; a dual one is two, the slave on DisasterRecoveryInternetIp; no customer gateway, no tunnel', () => {
  const g = gw('vpn-1', '47.0.0.1', '47.0.0.2');
  assert.deepEqual(tunnelsOf(single('vco-1'), g, CGWS).map((t) => [t.key, t.gatewayIp, t.customerIp]), [['vco-1', '47.0.0.1', '203.0.113.1']]);
  const dual = single('vco-2', {
    CustomerGatewayId: undefined,
    Ike: undefined,
    Ipsec: undefined,
    Tunnels: (['master', 'slave'] as const).map((Role, i) => ({
      TunnelId: `tun-${i}`,
      Role,
      CustomerGatewayId: i === 0 ? 'cgw-a' : 'cgw-b',
      EnableDpd: false,
      EnableNatTraversal: true,
      Ike: { ...IKE_DEFAULTS, Psk: `k${i}-0000000`, LocalId: '', RemoteId: '' },
      Ipsec: { ...IPSEC_DEFAULTS },
      State: 'active' as const,
      ZoneNo: 'z',
    })),
  });
  assert.deepEqual(
    tunnelsOf(dual, g, CGWS).map((t) => [t.key, t.gatewayIp, t.customerIp, t.dpd]),
    [
      ['vco-2/tun-0', '47.0.0.1', '203.0.113.1', false],
      ['vco-2/tun-1', '47.0.0.2', '203.0.113.2', false],
    ],
  );
  assert.deepEqual(tunnelsOf(single('vco-3', { CustomerGatewayId: 'cgw-gone' }), g, CGWS), []);
});

test('connections of one peer share its IKE config and PSK, each with its children; algorithms take strongSwan names', () => {
  const g = gw('vpn-1', '47.0.0.1');
  const a = single('vco-a', {
    Ike: { ...IKE_DEFAULTS, IkeVersion: 'ikev2', IkeEncAlg: 'aes256', IkeAuthAlg: 'sha384', IkePfs: 'group14', Psk: 'peer-key-0001', LocalId: 'gw.example', RemoteId: '203.0.113.1' },
    Ipsec: { IpsecEncAlg: '3des', IpsecAuthAlg: 'sha512', IpsecPfs: 'disabled', IpsecLifetime: 3600 },
  });
  const b = single('vco-b', { Ike: a.Ike, Ipsec: { ...IPSEC_DEFAULTS, IpsecPfs: 'group5' }, LocalSubnet: ['172.16.9.0/24'], RemoteSubnet: ['10.9.0.0/24'] });
  const other = single('vco-c', { CustomerGatewayId: 'cgw-b', LocalSubnet: ['0.0.0.0/0'], RemoteSubnet: ['0.0.0.0/0'], Ike: { ...IKE_DEFAULTS, Psk: 'key-two-0002', LocalId: '47.0.0.1', RemoteId: '203.0.113.2' } });
  const plan = planResponder([b, a, other].flatMap((c) => tunnelsOf(c, g, CGWS)), ['47.0.0.9', '47.0.0.1', '47.0.0.1']);
  assert.deepEqual(plan.addresses, ['47.0.0.1', '47.0.0.9']);
  assert.deepEqual(plan.peers.map((p) => p.name), ['peer-47.0.0.1-203.0.113.1', 'peer-47.0.0.1-203.0.113.2']);
  const p = plan.peers[0]!;
  assert.equal(p.ikeProposal, 'aes256-sha384-modp2048');
  assert.equal(p.version, 2);
  assert.equal(p.localId, '@gw.example', 'an FQDN identity is marked as one');
  assert.equal(p.remoteId, '203.0.113.1');
  assert.deepEqual(p.children.map((c) => [c.name, c.espProposal, c.lifetime]), [['vco-a', '3des-sha512', 3600], ['vco-b', 'aes128-md5-modp1536', 86400]]);
  assert.deepEqual(plan.vpcAddresses, ['172.16.0.1', '172.16.9.1'], 'first host of each VPC CIDR; none for 0.0.0.0/0');
  const msg = loadConnMessage(p)[p.name] as Record<string, any>;
  assert.equal(msg.version, '2');
  assert.equal(msg.aggressive, undefined);
  assert.deepEqual([msg.local_addrs, msg.remote_addrs, msg.proposals], [['47.0.0.1'], ['203.0.113.1'], ['aes256-sha384-modp2048']]);
  assert.deepEqual(msg.local, { auth: 'psk', id: '@gw.example' });
  assert.equal(msg.children['vco-a'].start_action, 'none', 'the gateway answers; the branch starts');
  // Filed under the branch's identity alone: another peer's key (one filed under the gateway's identity) never lets it in.
  assert.deepEqual(sharedSecretMessage(p), { id: `psk-${p.name}`, type: 'IKE', data: 'peer-key-0001', owners: ['203.0.113.1'] });
});

test('two peers with one branch identity (both tunnels on one customer gateway): their PSKs are filed under both identities', () => {
  const g = gw('vpn-1', '47.0.0.1', '47.0.0.2');
  const dual = single('vco-d', {
    CustomerGatewayId: undefined,
    Ike: undefined,
    Ipsec: undefined,
    Tunnels: (['master', 'slave'] as const).map((Role, i) => ({
      TunnelId: `tun-${i}`,
      Role,
      CustomerGatewayId: 'cgw-a',
      EnableDpd: true,
      EnableNatTraversal: true,
      Ike: { ...IKE_DEFAULTS, Psk: `tunnel-key-${i}000`, LocalId: i === 0 ? '47.0.0.1' : '47.0.0.2', RemoteId: '203.0.113.1' },
      Ipsec: { ...IPSEC_DEFAULTS },
      State: 'active' as const,
      ZoneNo: 'z',
    })),
  });
  const { peers } = planResponder(tunnelsOf(dual, g, CGWS), []);
  assert.deepEqual(peers.map((p) => sharedSecretMessage(p).owners), [['47.0.0.1', '203.0.113.1'], ['47.0.0.2', '203.0.113.1']]);
});

test('IKEv1 with several CIDRs: one CHILD_SA per (local, remote) pair; aggressive mode said so', () => {
  const c = single('vco-v1', {
    LocalSubnet: ['172.16.0.0/24', '172.17.0.0/24'],
    RemoteSubnet: ['10.0.0.0/24', '10.1.0.0/24'],
    Ike: { ...IKE_DEFAULTS, IkeMode: 'aggressive', Psk: 'key-one-0001', LocalId: '47.0.0.1', RemoteId: 'branch.example' },
  });
  const [p] = planResponder(tunnelsOf(c, gw('vpn-1', '47.0.0.1'), CGWS), []).peers;
  assert.deepEqual(
    p!.children.map((x) => [x.name, x.key, x.localTs, x.remoteTs]),
    [
      ['vco-v1-1', 'vco-v1', ['172.16.0.0/24'], ['10.0.0.0/24']],
      ['vco-v1-2', 'vco-v1', ['172.16.0.0/24'], ['10.1.0.0/24']],
      ['vco-v1-3', 'vco-v1', ['172.17.0.0/24'], ['10.0.0.0/24']],
      ['vco-v1-4', 'vco-v1', ['172.17.0.0/24'], ['10.1.0.0/24']],
    ],
  );
  const msg = loadConnMessage(p!)[p!.name] as Record<string, any>;
  assert.deepEqual([msg.version, msg.aggressive, msg.proposals], ['1', 'yes', ['aes128-md5-modp1024']]);
});

test('two fixtures sharing an IP with different IKE settings: the second connection is left out and said so', () => {
  const a = single('vco-a');
  const b = single('vco-b', { VpnGatewayId: 'vpn-2', Ike: { ...a.Ike!, Psk: 'another-key-01' }, LocalSubnet: ['172.18.0.0/24'] });
  const plan = planResponder([...tunnelsOf(a, gw('vpn-1', '47.0.0.1'), CGWS), ...tunnelsOf(b, gw('vpn-2', '47.0.0.1'), CGWS)], []);
  assert.equal(plan.peers.length, 1);
  assert.deepEqual(plan.peers[0]!.children.map((c) => c.key), ['vco-a']);
  assert.equal(plan.skipped[0]?.key, 'vco-b');
  assert.doesNotMatch(plan.skipped[0]!.why, /another-key/);
});

test('a changed PSK or IKE field changes the IKE hash (the SA goes); a changed child only its own hash', () => {
  const g = gw('vpn-1', '47.0.0.1');
  const peer = (c: VpnConnectionRecord) => planResponder(tunnelsOf(c, g, CGWS), []).peers[0]!;
  const base = peer(single('vco-a'));
  assert.notEqual(ikeHash(peer(single('vco-a', { Ike: { ...single('vco-a').Ike!, Psk: 'rotated-key-01' } }))), ikeHash(base));
  assert.notEqual(ikeHash(peer(single('vco-a', { Ike: { ...single('vco-a').Ike!, IkeAuthAlg: 'sha1' } }))), ikeHash(base));
  const esp = peer(single('vco-a', { Ipsec: { ...IPSEC_DEFAULTS, IpsecEncAlg: 'aes256' } }));
  assert.equal(ikeHash(esp), ikeHash(base));
  assert.notEqual(childHash(esp.children[0]!), childHash(base.children[0]!));
});

test('statuses from SAs: nothing, IKE only, IKE with a refused child, every child installed, some of them', () => {
  const tunnels: ResponderTunnel[] = [
    ...tunnelsOf(single('vco-a', { LocalSubnet: ['172.16.0.0/24', '172.17.0.0/24'] }), gw('vpn-1', '47.0.0.1'), CGWS),
    ...tunnelsOf(single('vco-b', { CustomerGatewayId: 'cgw-b' }), gw('vpn-1', '47.0.0.1'), CGWS),
  ];
  const { peers } = planResponder(tunnels, []);
  const [pa, pb] = peers.map((p) => p.name);
  assert.deepEqual(Object.fromEntries(tunnelStatuses(peers, [], new Set())), { 'vco-a': 'ike_sa_not_established', 'vco-b': 'ike_sa_not_established' });
  const sas = [
    { name: pa!, uniqueId: '1', state: 'ESTABLISHED', children: [{ name: 'vco-a-1', state: 'INSTALLED' }] },
    { name: pb!, uniqueId: '2', state: 'ESTABLISHED', children: [] },
  ];
  assert.deepEqual(Object.fromEntries(tunnelStatuses(peers, sas, new Set())), { 'vco-a': 'ipsec_sa_not_established', 'vco-b': 'ike_sa_established' });
  assert.equal(tunnelStatuses(peers, sas, new Set(['2'])).get('vco-b'), 'ipsec_sa_not_established', 'a refusal logged for its IKE_SA');
  sas[0]!.children.push({ name: 'vco-a-2', state: 'INSTALLED' });
  assert.equal(tunnelStatuses(peers, sas, new Set()).get('vco-a'), 'ipsec_sa_established');
  assert.equal(tunnelStatuses(peers, [{ ...sas[0]!, state: 'CONNECTING' }], new Set()).get('vco-a'), 'ike_sa_not_established', 'an IKE_SA not yet established');
  assert.ok(isPhase2Failure('received NO_PROPOSAL_CHOSEN notify, no CHILD_SA built'));
  assert.ok(isPhase2Failure('failed to establish CHILD_SA, keeping IKE_SA'));
  assert.equal(isPhase2Failure('IKE_SA peer-1[1] established between 47.0.0.1...203.0.113.1'), false);
});

test('list-sas events read into IKE_SAs and their CHILD_SAs (anything else skipped)', () => {
  const sas = readSas([
    { 'peer-x': { uniqueid: '7', state: 'ESTABLISHED', 'child-sas': { 'vco-a-3': { name: 'vco-a', state: 'INSTALLED' } } } },
    { odd: 'value', 'peer-y': { uniqueid: '8', state: 'CONNECTING' } },
  ]);
  assert.deepEqual(sas, [
    { name: 'peer-x', uniqueId: '7', state: 'ESTABLISHED', children: [{ name: 'vco-a', state: 'INSTALLED' }] },
    { name: 'peer-y', uniqueId: '8', state: 'CONNECTING', children: [] },
  ]);
});
