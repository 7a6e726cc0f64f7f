// --state values to backend specs, and what of them may be printed.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { describeSpec, parseStateLocation, redactUrl } from '../../../src/state/backend/index.js';

test('a path is the file backend; postgres:// and oss:// pick theirs; the estate defaults but ?estate= wins', () => {
  assert.deepEqual(parseStateLocation('sites.csv.state.jsonl', 'sites'), { kind: 'file', path: 'sites.csv.state.jsonl' });
  assert.deepEqual(parseStateLocation('postgres://u:pw@db.example:5432/state?sslmode=require', 'sites'), {
    kind: 'postgres',
    url: 'postgres://u:pw@db.example:5432/state?sslmode=require',
    estate: 'sites',
  });
  const pg = parseStateLocation('postgresql://u@db/state?estate=branches-eu', 'sites');
  assert.equal(pg.kind === 'postgres' && pg.estate, 'branches-eu');
  assert.equal(pg.kind === 'postgres' && pg.url.includes('estate='), false);
  // An OSS location holds many estates too: PREFIX/ESTATE/.
  assert.deepEqual(parseStateLocation('oss://team-state/estates/eu/', 'x.csv', 'http://127.0.0.1:9000'), {
    kind: 'oss',
    endpoint: 'http://127.0.0.1:9000',
    bucket: 'team-state',
    prefix: 'estates/eu/x.csv',
  });
  const named = parseStateLocation('oss://team-state/estates?estate=branches-eu&ttl=20s', 'x.csv', 'http://h');
  assert.deepEqual(named.kind === 'oss' && [named.prefix, named.ttlMs], ['estates/branches-eu', 20_000]);
  const ttl = parseStateLocation('postgres://u@db/state?ttl=1500ms', 'sites');
  assert.deepEqual(ttl.kind === 'postgres' && [ttl.url, ttl.ttlMs], ['postgres://u@db/state', 1500]);
  assert.throws(() => parseStateLocation('oss://team-state/estates', 'x'), /--state-endpoint/);
  assert.throws(() => parseStateLocation('oss://Bad_Bucket/x', 'x', 'http://h'), /oss:\/\/BUCKET\/PREFIX/);
  assert.throws(() => parseStateLocation('oss://b-ok/a/../b', 'x', 'http://h'), /oss:\/\/BUCKET\/PREFIX/);
  assert.throws(() => parseStateLocation('postgres://[bad', 'x'), /not a valid PostgreSQL URL/);
  // No manifest to name the estate: the URL must.
  assert.throws(() => parseStateLocation('postgres://u@db/state', undefined), /\?estate=NAME/);
  assert.throws(() => parseStateLocation('oss://b-ok/p?estate=a/b', undefined, 'http://h'), /without '\/'/);
  assert.throws(() => parseStateLocation('oss://b-ok/p?ttl=100ms', 'x', 'http://h'), /ttl must be a duration/);
  assert.throws(() => parseStateLocation('oss://b-ok/p?acl=public-read', 'x', 'http://h'), /unknown parameter acl/);
  assert.throws(() => parseStateLocation('s3://bucket/x', 'x'), /unknown kind of location s3:\/\//);
});

test('passwords and secret-looking parameters never reach a message', () => {
  assert.equal(redactUrl('postgres://u:hunter2@db:5432/s?password=x&sslmode=require'), 'postgres://u@db:5432/s?password=***&sslmode=require');
  assert.equal(describeSpec({ kind: 'postgres', url: 'postgres://u:hunter2@db/s', estate: 'e' }), 'postgres://u@db/s#e');
  assert.ok(!redactUrl('postgres://u:hunter2@[bad').includes('hunter2'));
  assert.equal(describeSpec({ kind: 'oss', endpoint: 'http://h', bucket: 'b', prefix: 'p', credentials: { accessKeyId: 'AK', accessKeySecret: 'SECRET' } }), 'oss://b/p');
});
