// Only a documented refusal (HTTP 4xx with a code vpc-api.md lists for the action or for every action) says a request
// did nothing; every other answer that carries an error is an unknown outcome. Through the real client, on loopback.
import '../helpers/env.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { isDocumentedRefusal } from '../../src/cloud/errors.js';
import { PopVpcClient } from '../../src/cloud/pop-client.js';
import { CREDS, REGION, caught, emulator, pop } from '../emulator/util.js';

test('isDocumentedRefusal: 4xx with a code documented for the action or for every action; never a 2xx, 3xx or 5xx', () => {
  const yes: Array<[string, number, string]> = [
    ['CreateCustomerGateway', 400, 'InvalidParameter'],
    ['CreateCustomerGateway', 400, 'InvalidIpAddress.AlreadyExist'],
    ['CreateCustomerGateway', 400, 'Resource.QuotaFull'],
    ['CreateCustomerGateway', 409, 'OperationConflict'],
    ['CreateCustomerGateway', 403, 'Forbidden.SubUser'],
    ['CreateCustomerGateway', 400, 'Throttling.User'],
    ['CreateCustomerGateway', 400, 'MissingRegionId'],
    ['CreateCustomerGateway', 404, 'InvalidAccessKeyId.NotFound'],
    ['DeleteCustomerGateway', 400, 'DependencyViolation.VpnConnection'],
    ['DescribeCustomerGateway', 404, 'InvalidCustomerGatewayInstanceId.NotFound'],
    ['TagResources', 400, 'QuotaExceeded.TagNum'],
    // The connection writes (site-to-site.md §1.3-§1.5): a busy or locked gateway, a quota, a value refused.
    ['CreateVpnConnection', 400, 'CreateVpnConnectionsQuotaFull.QuotaFull'],
    ['CreateVpnConnection', 400, 'VpnGateway.Configuring'],
    ['CreateVpnConnection', 400, 'VpnTask.CONFLICT'],
    ['CreateVpnConnection', 400, 'IllegalParam.TunnelCidr'],
    ['CreateVpnConnection', 400, 'MissingParam.CustomerGatewayAsn'],
    ['ModifyVpnConnectionAttribute', 400, 'ModifyIkeV1WithMultiRoutes.Invalid'],
    ['DeleteVpnConnection', 400, 'VpnGateway.FinancialLocked'],
  ];
  for (const [action, status, code] of yes) assert.equal(isDocumentedRefusal(action, status, code), true, `${action} ${status} ${code}`);
  const no: Array<[string, number | undefined, string]> = [
    // The case that lost gateways: committed, then answered 200 with an error body.
    ['CreateCustomerGateway', 200, 'InvalidParameter'],
    ['CreateCustomerGateway', 200, 'Throttling.User'],
    ['CreateCustomerGateway', 201, 'InvalidName'],
    ['CreateCustomerGateway', 302, 'InvalidParameter'],
    ['CreateCustomerGateway', 500, 'InternalError'],
    ['CreateCustomerGateway', 503, 'ServiceUnavailable'],
    ['CreateCustomerGateway', undefined, 'InvalidParameter'],
    // Codes nobody documents for this action.
    ['CreateCustomerGateway', 400, 'OperationFailed.Unknown'],
    ['CreateCustomerGateway', 400, 'Http400'],
    ['CreateCustomerGateway', 400, '404'],
    ['CreateCustomerGateway', 400, 'DependencyViolation.VpnConnection'],
    ['CreateCustomerGateway', 429, 'Throttling.Http429'],
    // Documented, yet an earlier attempt of ours that committed could have caused them: settled by listing.
    ['CreateVpnConnection', 400, 'InternalError'],
    ['CreateVpnConnection', 400, 'VpnConnectionParamInvalid.SameVpnAndCgwTrafficSelectorOverlap'],
    ['CreateVpnConnection', 400, 'VpnRouteEntry.AlreadyExists'],
    ['CreateVpnConnection', 400, 'CustomerGateway.ConflictRouteEntry'],
    ['CreateVpnConnection', 500, 'CreateVpnConnectionsQuotaFull.QuotaFull'],
    ['CreateVpnConnection', 200, 'CreateVpnConnectionsQuotaFull.QuotaFull'],
    ['DeleteVpnConnection', 400, 'CreateVpnConnectionsQuotaFull.QuotaFull'],
  ];
  for (const [action, status, code] of no) assert.equal(isDocumentedRefusal(action, status, code), false, `${action} ${status} ${code}`);
});

/** A VPC endpoint that answers every CreateCustomerGateway with `status` and `body`. */
async function answering(status: number, body: unknown): Promise<{ server: Server; url: string }> {
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      const text = typeof body === 'string' ? body : JSON.stringify(body);
      res.writeHead(status, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(text)) });
      res.end(text);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  return { server, url: `http://127.0.0.1:${port}` };
}

test('through the client: an error answer is an unknown outcome unless it is a documented refusal of the create', async () => {
  const RID = 'D32B3C26-6C6C-4988-93E9-D2A6444CE6AE';
  const cases: Array<[number, unknown, boolean, string]> = [
    [400, { RequestId: RID, Code: 'InvalidParameter', Message: 'bad' }, false, 'InvalidParameter'],
    [409, { RequestId: RID, Code: 'OperationConflict', Message: 'busy' }, false, 'OperationConflict'],
    [200, { RequestId: RID, Code: 'InvalidParameter', Message: 'bad' }, true, 'InvalidParameter'],
    [200, { Code: 'InvalidName', Message: 'no request id' }, true, 'InvalidName'],
    [200, { RequestId: RID, Code: 404, Message: 'numeric code' }, true, '404'],
    [400, { RequestId: RID, Code: 'OperationFailed.Unknown', Message: 'undocumented' }, true, 'OperationFailed.Unknown'],
    [400, { RequestId: RID, Message: 'no code at all' }, true, 'Http400'],
  ];
  for (const [status, body, unknown, code] of cases) {
    const s = await answering(status, body);
    const c = new PopVpcClient({ endpoint: s.url, credentials: CREDS, timeoutMs: 5000 });
    try {
      const e = await caught(c.createCustomerGateway({ regionId: REGION, ipAddress: '198.51.100.1', clientToken: 't-1' }));
      const what = `HTTP ${status} ${JSON.stringify(body)}: ${e.code} ${e.message}`;
      assert.equal(e.code, code, what);
      assert.equal(e.outcomeUnknown, unknown, what);
      if (unknown && status === 200) assert.match(e.message, /no refusal: the request may have been carried out/, what);
    } finally {
      c.close();
      await new Promise<void>((r) => s.server.close(() => r()));
    }
  }
});

test('emulator commit-200: the gateway is made, the 200 error answer is an unknown outcome, the same token replays it', async (t) => {
  const emu = await emulator({ faults: { 'commit-200': 1 }, faultActions: ['CreateCustomerGateway'] });
  t.after(() => emu.close());
  const c = pop(emu);
  const input = { regionId: REGION, ipAddress: '11.0.0.9', clientToken: 'c200-1' };
  const e = await caught(c.createCustomerGateway(input));
  assert.equal(e.code, 'InvalidParameter');
  assert.equal(e.status, 200);
  assert.equal(e.outcomeUnknown, true);
  const gws = emu.state().accounts['1234567890123456']?.regions[REGION]?.gateways ?? [];
  assert.equal(gws.length, 1, 'the emulator made it');
  assert.equal(emu.stats().actions.CreateCustomerGateway?.['fault:commit-200'], 1);
  emu.configure({ faults: {} });
  assert.equal((await c.createCustomerGateway(input)).id, gws[0]?.CustomerGatewayId);
});
