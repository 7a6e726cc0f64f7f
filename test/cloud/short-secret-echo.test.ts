// AuthKeys of 1-7 characters are too short to mask by value: an error answer that quotes one in any form loses its
// message (and a code or request id holding it); the fixed text names the code. Other answers keep their message.
import '../helpers/env.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { PopVpcClient } from '../../src/cloud/pop-client.js';
import { quotesSecret } from '../../src/secrets.js';
import { CREDS, REGION, caught } from '../emulator/util.js';

const KEY = 'Q~^';

test('quotesSecret finds a short key raw, in any case, URL-, JSON- and XML-escaped, hex and base64', () => {
  for (const form of [KEY, 'q~^', encodeURIComponent(KEY), '%51%7e%5E', '\\u0051\\u007e\\u005e', '&#81;&#x7E;&#94;', Buffer.from(KEY).toString('hex'), 'UX5e', Buffer.from(KEY).toString('base64')]) {
    assert.equal(quotesSecret(`rejected: ${form} here`, KEY), true, form);
  }
  assert.equal(quotesSecret('The specified parameter is not valid.', KEY), false);
});

test('an answer quoting a short AuthKey loses its message; its code stays; one not quoting it keeps its message', async () => {
  const cases: Array<[number, Record<string, unknown>, string, RegExp]> = [
    [400, { RequestId: 'RID-1', Code: 'InvalidParameter', Message: `AuthKey ${KEY} rejected` }, 'InvalidParameter', /withheld.*\(InvalidParameter\)/],
    [400, { RequestId: 'RID-1', Code: 'InvalidParameter', Message: `echo ${Buffer.from(KEY).toString('base64')}` }, 'InvalidParameter', /withheld/],
    [200, { RequestId: 'RID-1', Code: 'InvalidParameter', Message: `key=${encodeURIComponent(KEY)}` }, 'InvalidParameter', /withheld/],
    [400, { RequestId: 'RID-1', Code: `Bad.${encodeURIComponent(KEY)}`, Message: 'x' }, 'InvalidResponse.QuotedSecret', /withheld/],
    [503, { RequestId: KEY, Message: 'busy' }, 'Http503', /withheld/],
    [400, { RequestId: 'RID-1', Code: 'InvalidName', Message: 'The name is not valid' }, 'InvalidName', /^The name is not valid$/],
  ];
  for (const [status, body, code, message] of cases) {
    const server = createServer((req, res) => {
      req.resume();
      req.on('end', () => res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body)));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const c = new PopVpcClient({ endpoint: `http://127.0.0.1:${(server.address() as { port: number }).port}`, credentials: CREDS, timeoutMs: 5000 });
    try {
      const e = await caught(c.createCustomerGateway({ regionId: REGION, ipAddress: '198.51.100.2', asn: '65001', authKey: KEY, clientToken: 't' }));
      const what = `${JSON.stringify(body)} -> ${e.code}: ${e.message} (${e.requestId})`;
      assert.equal(e.code, code, what);
      assert.match(e.message, message, what);
      assert.ok(!quotesSecret(`${e.code} ${e.message} ${e.requestId ?? ''}`, KEY), what);
    } finally {
      c.close();
      await new Promise<void>((r) => server.close(() => r()));
    }
  }
});
