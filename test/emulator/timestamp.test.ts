// Fractional seconds in Timestamp (v1) and x-acs-date (V3) are accepted inside the 15-minute window (issue 11 part 8).
import '../helpers/env.js';
import assert from 'node:assert/strict';
import { createHash, randomUUID } from 'node:crypto';
import { test } from 'node:test';
import { v3CanonicalRequest, v3Sign, v3StringToSign } from '../../src/emulator/auth.js';
import { CREDS, REGION, emulator, raw, signedQuery } from './util.js';

test('v1: Timestamp with milliseconds (Date.toISOString) is accepted; a bad or stale one is still refused', async (t) => {
  const emu = await emulator();
  t.after(() => emu.close());
  for (const ts of [new Date().toISOString(), new Date().toISOString().replace(/\.\d{3}Z$/, '.5Z'), new Date().toISOString().replace(/Z$/, '123456Z')]) {
    const res = await raw(emu, { path: `/?${signedQuery({ Action: 'DescribeRegions', RegionId: REGION, Timestamp: ts })}` });
    assert.equal(res.status, 200, `${ts}: ${res.body}`);
  }
  const stale = new Date(Date.now() - 16 * 60 * 1000).toISOString();
  assert.equal((await raw(emu, { path: `/?${signedQuery({ Action: 'DescribeRegions', RegionId: REGION, Timestamp: stale })}` })).json.Code, 'InvalidTimeStamp.Expired');
  for (const bad of ['2026-13-01T00:00:00.000Z', '2026-02-30T00:00:00.5Z', '2026-01-01T00:00:00.Z', '2026-01-01T00:00:00,5Z']) {
    const res = await raw(emu, { path: `/?${signedQuery({ Action: 'DescribeRegions', RegionId: REGION, Timestamp: bad })}` });
    assert.equal(res.json.Code, 'InvalidTimeStamp.Format', bad);
  }
});

test('V3: x-acs-date with fractional seconds in a raw ACS3-HMAC-SHA256 request is accepted', async (t) => {
  const emu = await emulator();
  t.after(() => emu.close());
  const send = async (date: string) => {
    const headers: Record<string, string> = {
      host: `${emu.host}:${emu.port}`,
      'x-acs-action': 'DescribeRegions',
      'x-acs-version': '2016-04-28',
      'x-acs-date': date,
      'x-acs-signature-nonce': randomUUID(),
      'x-acs-content-sha256': createHash('sha256').update('').digest('hex'),
    };
    const signed = Object.keys(headers).sort();
    const query = new Map([['RegionId', REGION]]);
    const canonical = v3CanonicalRequest(
      { method: 'POST', path: '/', query, params: query, headers, bodySha256: headers['x-acs-content-sha256']! },
      signed,
      headers['x-acs-content-sha256']!,
    );
    const sig = v3Sign(CREDS.accessKeySecret, v3StringToSign(canonical));
    return raw(emu, {
      method: 'POST',
      path: `/?RegionId=${REGION}`,
      headers: { ...headers, authorization: `ACS3-HMAC-SHA256 Credential=${CREDS.accessKeyId},SignedHeaders=${signed.join(';')},Signature=${sig}` },
    });
  };
  const ok = await send(new Date().toISOString());
  assert.equal(ok.status, 200, ok.body);
  const whole = await send(new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'));
  assert.equal(whole.status, 200, whole.body);
  const stale = await send(new Date(Date.now() - 20 * 60 * 1000).toISOString());
  assert.equal(stale.json.Code, 'InvalidTimeStamp.Expired');
});
