import assert from 'node:assert/strict';
import { test } from 'node:test';
import { classifyHeader, likelyField, mapHeaders, normaliseHeader } from '../../src/load/headers.js';
import { editDistance } from '../../src/load/suggest.js';

test('normalisation: case, NBSP, spaces, _ and - collapse', () => {
  assert.equal(normaliseHeader(' IP Address '), 'ipaddress');
  assert.equal(normaliseHeader('ip_address'), 'ipaddress');
  assert.equal(normaliseHeader('IP\u00A0'), 'ip');
  assert.equal(normaliseHeader('Resource-Group-Id'), 'resourcegroupid');
});

test('aliases map to canonical fields', () => {
  const cases: Array<[string, string]> = [
    ['Region', 'region'], ['RegionId', 'region'], ['Region Id', 'region'],
    ['IP Address', 'ip'], ['ip_address', 'ip'], ['Public IP', 'ip'], ['Customer Gateway IP', 'ip'],
    ['Gateway Name', 'name'], ['CustomerGatewayName', 'name'], ['desc', 'description'],
    ['BGP ASN', 'asn'], ['AS Number', 'asn'], ['Auth Key', 'auth_key'], ['BGP Auth Key', 'auth_key'],
    ['Resource Group', 'resource_group_id'], ['resourcegroupid', 'resource_group_id'],
  ];
  for (const [h, f] of cases) {
    const c = classifyHeader(h, 0);
    assert.equal(c.kind, 'field', h);
    assert.equal(c.kind === 'field' && c.field, f, h);
  }
  assert.equal(classifyHeader('auth_key_env', 0).kind, 'auth_key_env');
  assert.equal(classifyHeader('Tags', 0).kind, 'tags');
  assert.equal(classifyHeader('Site Code', 0).kind, 'unknown');
  assert.equal(classifyHeader('  ', 0).kind, 'blank');
});

test('tag:<Key> keeps the key as written', () => {
  const c = classifyHeader('Tag: CostCenter ', 3);
  assert.deepEqual(c, { kind: 'tag', key: 'CostCenter', index: 3, header: 'Tag: CostCenter' });
});

test('duplicates after normalisation are reported by their original names', () => {
  assert.deepEqual(mapHeaders(['region', 'IP Address', 'ip_address']).problem, { duplicate: ['IP Address', 'ip_address'] });
  assert.deepEqual(mapHeaders(['ip', 'region', 'ip']).problem, { duplicate: ['ip', 'ip'] });
  assert.deepEqual(mapHeaders(['region', 'ip', 'tag:Env', 'tag: Env']).problem, { duplicate: ['tag:Env', 'tag: Env'] });
  assert.equal(mapHeaders(['region', 'ip', 'tag:env', 'tag:Env']).problem, undefined);
  assert.equal(mapHeaders(['region', 'ip', '', '']).problem, undefined);
  assert.deepEqual(mapHeaders(['region', 'ip', 'tag:']).problem, { emptyTagKey: 'tag:' });
});

test('likelyField: typos of a field are recognised, unrelated or short look-alike columns are not', () => {
  const typos: Array<[string, string]> = [
    ['nmae', 'name'], ['nam', 'name'], ['Names', 'name'], ['IP Adress', 'ip'], ['pi', 'ip'], ['regoin', 'region'], ['Regin', 'region'],
    ['descripton', 'description'], ['Auth Kye', 'auth_key'], ['san', 'asn'], ['tag', 'tags'], ['Resource Grup', 'resource_group_id'], ['Gateway Nmae', 'name'],
  ];
  for (const [h, f] of typos) assert.equal(likelyField(h), f, h);
  for (const h of ['id', 'note', 'notes', 'date', 'zone', 'owner', 'Site Code', 'city', 'comment', 'asn2', 'status', 'error_code', 'VLAN', 'type', '']) {
    assert.equal(likelyField(h), undefined, h);
  }
});

test('editDistance: insertions, deletions, substitutions and adjacent swaps count one each; it stops past max', () => {
  assert.equal(editDistance('nmae', 'name'), 1);
  assert.equal(editDistance('regoin', 'region'), 1);
  assert.equal(editDistance('kitten', 'sitting'), 3);
  assert.equal(editDistance('', 'abc'), 3);
  assert.equal(editDistance('a'.repeat(5000), 'name', 2), 3);
});
