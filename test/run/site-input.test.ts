// The configs command renders from the cloud client's typed answers (PSKs from its secret accessor), not from the raw
// JSON: for every set of the parameter matrix and every device type, the files (or the issues) are byte for byte
// those rendered from the raw DescribeVpnConnection / DescribeVpnGateway / DescribeCustomerGateway answers.
import '../helpers/env.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeConnection, decodeGateway } from '../../src/cloud/vpn-codec.js';
import type { CustomerGateway } from '../../src/cloud/types.js';
import { DEVICE_TYPES, renderSite } from '../../src/device/render.js';
import { customerGatewayIds, siteInputOf } from '../../src/run/site-input.js';
import { matrix, type Obj } from '../helpers/ipsec-matrix.js';

function typedCgw(o: Obj): CustomerGateway {
  return {
    id: String(o['CustomerGatewayId']),
    regionId: 'cn-hangzhou',
    ip: String(o['IpAddress']),
    ...(o['Asn'] !== undefined ? { asn: String(o['Asn']) } : {}),
    ...(o['AuthKey'] !== undefined ? { authKey: String(o['AuthKey']) } : {}),
    createTime: 0,
    tags: [],
  };
}

test('every matrix set, every device: the typed answers render exactly what the raw answers do', () => {
  let compared = 0;
  for (const set of matrix()) {
    const raw = set.branchConnection ?? set.connection;
    const { connection, psks } = decodeConnection('cn-hangzhou', raw);
    const gw = decodeGateway('cn-hangzhou', set.gateway);
    const cgws = set.customerGateways.map(typedCgw);
    const ids = customerGatewayIds(connection);
    assert.ok(ids.length > 0 && ids.every((id) => cgws.some((c) => c.id === id)), `${set.name}: the customer gateways it names`);
    const input = siteInputOf(set.name, connection, gw, cgws, psks);
    for (const { type } of DEVICE_TYPES) {
      for (const redactPsk of [false, true]) {
        const want = renderSite({ site: set.name, connection: raw, gateway: set.gateway, customerGateways: set.customerGateways }, type, { redactPsk });
        const got = renderSite(input, type, { redactPsk });
        assert.deepEqual(got, want, `${set.name} / ${type}${redactPsk ? ' --redact-psk' : ''}`);
        compared++;
      }
    }
  }
  assert.ok(compared > 100, `${compared} renderings compared`);
});

test('a PSK the accessor did not return is reported missing, never invented', () => {
  const set = matrix()[0]!;
  const { connection } = decodeConnection('cn-hangzhou', set.connection);
  const r = renderSite(siteInputOf('s', connection, decodeGateway('cn-hangzhou', set.gateway), set.customerGateways.map(typedCgw), []), 'strongswan');
  assert.equal(r.ok, false);
  assert.ok(!r.ok && r.issues.some((i) => i.code === 'Device.MissingValue' && /Psk$/.test(i.parameter)));
});
