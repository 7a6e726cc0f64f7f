// The OSS emulator checked with the official ali-oss client (V4 and V1 signatures, path and virtual-hosted style) and with ours.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import OSS from 'ali-oss';
import { DEFAULT_OSS_ACCOUNT, startOssEmulator, type OssEmulator } from '../../../src/emulator/oss/server.js';
import { crc64, crc64String } from '../../../src/state/backend/crc64.js';
import { OssClient, OssError } from '../../../src/state/backend/oss-client.js';

const BUCKET = 'fidelity-bucket';
let emu: OssEmulator;
const sts = { accessKeyId: 'STS.sandboxTemporaryKey01', accessKeySecret: 'sts-secret-sandbox', securityToken: 'CAIS-sandbox-token-value' };

before(async () => {
  emu = await startOssEmulator({ buckets: [BUCKET, 'other-bucket'], accounts: [DEFAULT_OSS_ACCOUNT, sts] });
});
after(async () => emu?.close());

type Code = { code?: string; status?: number; name?: string };

function ali(opts: { v4: boolean; sld?: boolean; secret?: string; sts?: boolean }): OSS {
  return new OSS({
    region: 'oss-cn-hangzhou',
    endpoint: emu.url,
    bucket: BUCKET,
    accessKeyId: opts.sts ? sts.accessKeyId : DEFAULT_OSS_ACCOUNT.accessKeyId,
    accessKeySecret: opts.secret ?? (opts.sts ? sts.accessKeySecret : DEFAULT_OSS_ACCOUNT.accessKeySecret),
    ...(opts.sts ? { stsToken: sts.securityToken, refreshSTSToken: async () => ({ ...sts, stsToken: sts.securityToken }), refreshSTSTokenInterval: 3_600_000 } : {}),
    authorizationV4: opts.v4,
    sldEnable: opts.sld ?? true,
    secure: false,
    timeout: 5_000,
  });
}

for (const v4 of [true, false]) {
  for (const sld of [true, false]) {
    const style = `${v4 ? 'V4' : 'V1'}, ${sld ? 'path-style' : 'virtual-hosted (bucket in Host)'}`;
    test(`ali-oss (${style}): append with positions, conflicts, crc64, ranged GET, forbid-overwrite, not appendable, list, delete`, async () => {
      const c = ali({ v4, sld });
      const key = `dir/${v4 ? 'v4' : 'v1'}-${sld ? 'p' : 'h'}/journal 1+é.jsonl`;
      const a1 = await c.append(key, Buffer.from('{"n":1}\n'), { position: 0 });
      assert.equal(a1.nextAppendPosition, '8');
      const a2 = await c.append(key, Buffer.from('{"n":2}\n'), { position: 8 });
      assert.equal(a2.nextAppendPosition, '16');
      assert.equal(a2.res.headers['x-oss-hash-crc64ecma'], crc64String(crc64(Buffer.from('{"n":1}\n{"n":2}\n'))));
      await assert.rejects(c.append(key, Buffer.from('{"n":"late"}\n'), { position: 8 }), (e: Code) => {
        assert.equal(e.code, 'PositionNotEqualToLength');
        assert.equal(e.status, 409);
        return true;
      });
      const h = await c.head(key);
      assert.equal(h.res.headers['x-oss-object-type'], 'Appendable');
      assert.equal(h.res.headers['x-oss-next-append-position'], '16');
      assert.equal(h.res.headers['content-length'], '16');
      const whole = await c.get(key);
      assert.equal(whole.content.toString(), '{"n":1}\n{"n":2}\n');
      const part = await c.get(key, null, { headers: { Range: 'bytes=8-15' } });
      assert.equal(part.res.status, 206);
      assert.equal(part.content.toString(), '{"n":2}\n');
      const normal = `${key}.normal`;
      await c.put(normal, Buffer.from('x'), { headers: { 'x-oss-forbid-overwrite': 'true' } });
      await assert.rejects(c.put(normal, Buffer.from('y'), { headers: { 'x-oss-forbid-overwrite': 'true' } }), (e: Code) => e.code === 'FileAlreadyExists' && e.status === 409);
      await assert.rejects(c.append(normal, Buffer.from('z'), { position: 1 }), (e: Code) => e.code === 'ObjectNotAppendable' && e.status === 409);
      await c.put(normal, Buffer.from('overwritten'));
      assert.equal((await c.get(normal)).content.toString(), 'overwritten');
      const page1 = await c.listV2({ prefix: key.slice(0, key.lastIndexOf('/') + 1), 'max-keys': 1 });
      assert.equal(page1.objects.length, 1);
      assert.equal(page1.isTruncated, true);
      const page2 = await c.listV2({ prefix: key.slice(0, key.lastIndexOf('/') + 1), 'max-keys': 1, 'continuation-token': page1.nextContinuationToken ?? '' });
      assert.deepEqual([...page1.objects, ...page2.objects].map((o) => o.name), [key, normal]);
      assert.equal(page2.objects[0]?.type, 'Normal');
      await c.delete(key);
      await c.delete(key);
      await assert.rejects(c.head(key), (e: Code) => e.status === 404);
    });
  }
  test(`ali-oss (${v4 ? 'V4' : 'V1'}): a wrong secret is SignatureDoesNotMatch; STS credentials need their token`, async () => {
    await assert.rejects(ali({ v4, secret: 'wrong-secret' }).put('k', Buffer.from('x')), (e: Code) => e.code === 'SignatureDoesNotMatch' && e.status === 403);
    await ali({ v4, sts: true }).put(`sts-${v4}`, Buffer.from('x'));
  });
}

test('our client: the same operations, the conflict carries the next position, and SSE is echoed', async () => {
  const c = new OssClient({ endpoint: emu.url, bucket: BUCKET, credentials: async () => DEFAULT_OSS_ACCOUNT });
  try {
    const key = 'ours/j.jsonl';
    assert.equal(await c.head(key), undefined);
    const r = await c.append(key, 0, Buffer.from('abc\n'), { sse: true });
    assert.equal(r.nextPosition, 4);
    await assert.rejects(c.append(key, 0, Buffer.from('x')), (e: unknown) => {
      assert.ok(e instanceof OssError);
      assert.equal(e.code, 'PositionNotEqualToLength');
      assert.equal(e.headers['x-oss-next-append-position'], '4');
      return true;
    });
    const got = await c.get(key, { start: 1, end: 3 });
    assert.equal(got?.body.toString(), 'bc');
    assert.equal(got?.length, 4);
    const past = await c.get(key, { start: 4 });
    assert.equal(past?.body.length, 0, 'a range at the end is empty, not the whole object');
    assert.equal(emu.buckets.get(BUCKET)?.get(key)?.sse, 'AES256');
    await c.put('ours/once', Buffer.from('1'), { forbidOverwrite: true, sse: true });
    await assert.rejects(c.put('ours/once', Buffer.from('2'), { forbidOverwrite: true }), (e: unknown) => e instanceof OssError && e.code === 'FileAlreadyExists');
    const listed = await c.listAll('ours/');
    assert.deepEqual(listed.map((k) => k.key), ['ours/j.jsonl', 'ours/once']);
    const other = new OssClient({ endpoint: emu.url, bucket: 'no-such-bucket', credentials: async () => DEFAULT_OSS_ACCOUNT });
    await assert.rejects(other.head('x').then(() => other.list('x')), (e: unknown) => e instanceof OssError && e.code === 'NoSuchBucket');
    other.close();
    const stsClient = new OssClient({ endpoint: emu.url, bucket: BUCKET, credentials: async () => sts });
    await stsClient.put('ours/sts', Buffer.from('t'));
    const noToken = new OssClient({ endpoint: emu.url, bucket: BUCKET, credentials: async () => ({ accessKeyId: sts.accessKeyId, accessKeySecret: sts.accessKeySecret }) });
    await assert.rejects(noToken.put('ours/sts2', Buffer.from('t')), (e: unknown) => e instanceof OssError && e.status === 403);
    stsClient.close();
    noToken.close();
  } finally {
    c.close();
  }
});

test('our client: a clock 20 minutes off is RequestTimeTooSkewed; a region other than the endpoint’s is refused', async () => {
  const skewed = new OssClient({ endpoint: emu.url, bucket: BUCKET, credentials: async () => DEFAULT_OSS_ACCOUNT, now: () => new Date(Date.now() - 20 * 60_000) });
  await assert.rejects(skewed.put('k', Buffer.from('x')), (e: unknown) => e instanceof OssError && e.code === 'RequestTimeTooSkewed');
  skewed.close();
  const wrongRegion = new OssClient({ endpoint: emu.url, bucket: BUCKET, region: 'cn-beijing', credentials: async () => DEFAULT_OSS_ACCOUNT });
  await assert.rejects(wrongRegion.put('k', Buffer.from('x')), (e: unknown) => e instanceof OssError && e.code === 'SignatureDoesNotMatch');
  wrongRegion.close();
});

test('racing appends on one position through ali-oss and our client: exactly one lands each round', async () => {
  const ours = new OssClient({ endpoint: emu.url, bucket: BUCKET, credentials: async () => DEFAULT_OSS_ACCOUNT });
  const theirs = ali({ v4: true });
  const key = 'race/j.jsonl';
  let pos = 0;
  try {
    for (let round = 0; round < 10; round++) {
      const bodies = Array.from({ length: 6 }, (_, i) => Buffer.from(`{"round":${round},"w":${i}}\n`));
      const results = await Promise.allSettled(
        bodies.map((b, i) => (i % 2 === 0 ? ours.append(key, pos, b) : theirs.append(key, b, { position: pos }))),
      );
      const won = results.filter((r) => r.status === 'fulfilled');
      assert.equal(won.length, 1, `round ${round}`);
      for (const r of results) {
        if (r.status === 'rejected') assert.equal((r.reason as Code).code, 'PositionNotEqualToLength');
      }
      pos = (await ours.head(key))?.length ?? 0;
    }
    assert.equal(emu.object(BUCKET, key)?.toString().trimEnd().split('\n').length, 10);
  } finally {
    ours.close();
  }
});
