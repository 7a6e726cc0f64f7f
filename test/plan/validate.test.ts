// validateRow: every validation code with a failing example, the valid edge values, and issue collection.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { validateRow } from '../../src/plan/validate.js';
import type { Issue } from '../../src/types.js';
import { FILE, chars, wrow } from './builders.js';

const codes = (issues: Issue[]): string[] => issues.map((i) => i.code);
const errors = (issues: Issue[]): Issue[] => issues.filter((i) => i.severity === 'error');

function only(fields: Parameters<typeof wrow>[0], opts: Parameters<typeof wrow>[1] = {}): Issue[] {
  return validateRow(wrow(fields, opts)).issues;
}

function assertCode(fields: Parameters<typeof wrow>[0], code: string, opts: Parameters<typeof wrow>[1] = {}): Issue {
  const issues = only(fields, opts);
  const hit = issues.find((i) => i.code === code);
  assert.ok(hit, `expected ${code} for ${JSON.stringify(fields)}, got ${JSON.stringify(codes(issues))}`);
  assert.equal(hit.file, FILE);
  assert.ok(hit.line > 0);
  assert.ok(hit.message.length > 10);
  return hit;
}

function assertValid(fields: Parameters<typeof wrow>[0], opts: Parameters<typeof wrow>[1] = {}): void {
  const v = validateRow(wrow(fields, opts));
  assert.deepEqual(errors(v.issues), [], JSON.stringify(fields));
  assert.ok(v.row);
}

describe('validateRow: a valid row', () => {
  it('normalises to a trimmed GatewaySpec with the natural key region/ip', () => {
    const v = validateRow(
      wrow(
        { region: ' cn-beijing ', ip: ' 203.0.113.10 ', name: ' HQ ', description: '', asn: '1.10', auth_key: 'k3y!k3y!', resource_group_id: 'rg-abc123' },
        { line: 7, tags: { env: ' prod ' } },
      ),
    );
    assert.deepEqual(v.issues, []);
    assert.deepEqual(v.row, {
      ref: { key: 'cn-beijing/203.0.113.10', file: FILE, line: 7, region: 'cn-beijing', ip: '203.0.113.10' },
      spec: {
        region: 'cn-beijing',
        ip: '203.0.113.10',
        name: 'HQ',
        asn: '1.10',
        authKey: 'k3y!k3y!',
        resourceGroupId: 'rg-abc123',
        tags: [{ key: 'env', value: 'prod' }],
      },
      echo: { region: ' cn-beijing ', ip: ' 203.0.113.10 ', name: ' HQ ', description: '', asn: '1.10', resource_group_id: 'rg-abc123' },
    });
  });

  it('omits blank optional fields instead of sending them', () => {
    const v = validateRow(wrow({ name: '  ', description: '', asn: ' ', auth_key: '', resource_group_id: '' }));
    assert.deepEqual(v.issues, []);
    assert.deepEqual(v.row?.spec, { region: 'cn-hangzhou', ip: '203.0.113.10', tags: [] });
  });

  it('carries the loader issues of the row', () => {
    const loaderIssue: Issue = { severity: 'error', code: 'Cgw.EnvNotSet', field: 'auth_key', message: 'env var X is not set', file: FILE, line: 2 };
    const v = validateRow(wrow({}, { issues: [loaderIssue] }));
    assert.deepEqual(v.issues, [loaderIssue]);
  });
});

describe('validateRow: region and ip presence', () => {
  it('MissingRegionId when absent or blank; no row', () => {
    for (const region of [undefined, '', '   ']) {
      const w = wrow({});
      if (region === undefined) delete w.fields.region;
      else w.fields.region = region;
      const v = validateRow(w);
      assert.deepEqual(codes(v.issues), ['MissingRegionId']);
      assert.equal(v.row, undefined);
    }
  });
  it('MissingIpAddress when absent or blank', () => {
    const w = wrow({});
    delete w.fields.ip;
    assert.deepEqual(codes(validateRow(w).issues), ['MissingIpAddress']);
    assert.deepEqual(codes(only({ ip: ' ' })), ['MissingIpAddress']);
  });
});

describe('validateRow: region ids', () => {
  it('Cgw.UnknownRegion offline with a did-you-mean suggestion', () => {
    const i = assertCode({ region: 'cn-hangzou' }, 'Cgw.UnknownRegion');
    assert.equal(i.severity, 'error');
    assert.match(i.message, /did you mean cn-hangzhou\?/);
    assert.match(assertCode({ region: 'CN-Hangzhou' }, 'Cgw.UnknownRegion').message, /cn-hangzhou/);
    assert.doesNotMatch(assertCode({ region: 'moon-base-1' }, 'Cgw.UnknownRegion').message, /did you mean/);
  });
  it('accepts finance/gov and local regions from the built-in list', () => {
    for (const region of ['cn-shanghai-finance-1', 'cn-north-2-gov-1', 'cn-wuhan-lr', 'me-central-1', 'ap-southeast-7']) {
      assertValid({ region });
    }
  });
  it('names closed regions as closed', () => {
    assert.match(assertCode({ region: 'ap-southeast-2' }, 'Cgw.UnknownRegion').message, /closed/);
  });
  it('a pasted 60 KB value is quoted by its start and length, fast, with no suggestion', () => {
    const started = Date.now();
    const i = assertCode({ region: 'cn-' + 'h'.repeat(60_000) }, 'Cgw.UnknownRegion');
    assert.ok(Date.now() - started < 500, 'no length x length edit distance');
    assert.ok(i.message.length < 200, i.message);
    assert.match(i.message, /\(60003 characters\)/);
    assert.doesNotMatch(i.message, /did you mean/);
  });
  it('uses the given region set and code (online)', () => {
    const v = validateRow(wrow({ region: 'cn-beijing' }), {
      knownRegions: new Set(['cn-hangzhou', 'cn-shanghai']),
      regionCode: 'InvalidRegionId.NotFound',
    });
    assert.deepEqual(codes(v.issues), ['InvalidRegionId.NotFound']);
  });
});

describe('validateRow: IP address', () => {
  const wrong = (ip: string): Issue => assertCode({ ip }, 'InvalidIpAddress.WrongFormat');
  it('rejects malformed dotted quads', () => {
    for (const ip of ['1.2.3', '1.2.3.4.5', '256.1.1.1', 'a.b.c.d', '1.2.3.4/32', '1.2.3.4:500', 'localhost']) wrong(ip);
  });
  it('leading zeros, with the fixed form suggested', () => {
    assert.match(wrong('01.1.1.1').message, /leading zeros.*write 1\.1\.1\.1/);
  });
  it('spaces inside', () => assert.match(wrong('1.2. 3.4').message, /space/));
  it('full-width digits: rejected, ASCII form suggested', () => {
    assert.match(wrong('１.１.１.１').message, /full-width.*did you mean 1\.1\.1\.1/);
  });
  it('zero-width characters', () => assert.match(wrong('1.1.1.1\u200B').message, /zero-width/));
  it('smart quotes mention spreadsheet autocorrect', () => {
    assert.match(wrong('“203.0.113.10”').message, /smart quotes.*autocorrect/);
  });
  it('IPv6 says only IPv4 is supported', () => assert.match(wrong('2001:db8::1').message, /IPv6.*IPv4/));
  it('unsupported ranges are warnings naming the range', () => {
    for (const ip of ['100.64.0.1', '100.127.255.255', '127.0.0.1', '169.254.1.1', '224.0.0.1', '239.255.255.255', '255.255.255.255', '0.1.2.3']) {
      const issues = only({ ip });
      assert.deepEqual(codes(issues), ['Cgw.UnsupportedIpRange'], ip);
      assert.equal(issues[0]!.severity, 'warning');
      assert.match(issues[0]!.message, /IPsec-VPN connections cannot be established to/);
    }
    assertValid({ ip: '100.63.255.255' });
    assertValid({ ip: '100.128.0.0' });
  });
  it('private ranges are infos', () => {
    for (const ip of ['10.0.0.1', '172.16.0.1', '172.31.255.255', '192.168.1.1']) {
      const issues = only({ ip });
      assert.deepEqual(codes(issues), ['Cgw.PrivateIp'], ip);
      assert.equal(issues[0]!.severity, 'info');
      assert.match(issues[0]!.message, /private IP: only for private-network IPsec-VPN|private IP \(.*\): only for private-network IPsec-VPN/);
    }
    assert.deepEqual(only({ ip: '172.32.0.1' }), []);
  });
});

describe('validateRow: name and description', () => {
  for (const [field, code] of [
    ['name', 'InvalidName'],
    ['description', 'InvalidDescription'],
  ] as const) {
    it(`${code}: over 100 code points, http(s):// prefix, smart-quote wrapping`, () => {
      assertCode({ [field]: chars(101) }, code);
      assertCode({ [field]: chars(101, '分') }, code);
      assertCode({ [field]: 'http://x' }, code);
      assertCode({ [field]: 'HTTPS://branch' }, code);
      assert.match(assertCode({ [field]: '“Branch 1”' }, code).message, /smart quotes/);
    });
    it(`${field}: valid edges (1 and 100 code points, CJK, astral, URL not at start)`, () => {
      assertValid({ [field]: 'a' });
      assertValid({ [field]: chars(100) });
      assertValid({ [field]: chars(100, '分') });
      assertValid({ [field]: chars(100, '😀') });
      assertValid({ [field]: 'see http://x' });
    });
  }
  it('smart quotes inside a name are a warning only', () => {
    const issues = only({ name: 'O’Brien office' });
    assert.deepEqual(codes(issues), ['Cgw.SmartQuotes']);
    assert.equal(issues[0]!.severity, 'warning');
  });
});

describe('validateRow: ASN', () => {
  const bad = (asn: string): Issue => assertCode({ asn }, 'IllegalParam.Asn');
  it('valid edges', () => {
    for (const asn of ['1', '65000', '4294967295', '65535.65535', '0.1', '1.0', '1.10', '45105']) assertValid({ asn });
  });
  it('out of range and reserved', () => {
    for (const asn of ['0', '4294967296', '99999999999', '65536.0', '1.65536', '0.0', '45104', '0.45104', '-1', '1.5.6', 'AS65000', '65000 ']) {
      if (asn === '65000 ') continue; // trimmed: valid
      bad(asn);
    }
    assert.match(bad('45104').message, /Alibaba Cloud's own/);
    assert.match(bad('0.45104').message, /45104/);
  });
  it('Excel scientific notation gets an Excel-specific message', () => {
    for (const asn of ['1.23E+11', '1.23457E+15', '4.2E9']) assert.match(bad(asn).message, /Excel.*scientific notation.*Text/);
  });
  it('full-width digits are rejected', () => {
    assert.match(bad('６５０００').message, /full-width/);
  });
  it('leading zeros are rejected with the plain form', () => {
    assert.match(bad('065530').message, /leading zeros.*65530/);
    assert.match(bad('1.010').message, /leading zeros/);
  });
});

describe('validateRow: AuthKey', () => {
  const bad = (auth_key: string): Issue => assertCode({ asn: '65000', auth_key }, 'InvalidAuthkey.Malformed');
  it('valid edges: 8 and 64 printable ASCII characters', () => {
    assertValid({ asn: '65000', auth_key: 'xxxxxxxx' });
    assertValid({ asn: '65000', auth_key: chars(64, '~') });
    assertValid({ asn: '65000', auth_key: '!#$%&()*+,-./:;<=>@[]^_`{|}' });
  });
  it('accepts keys of 1-7 characters as the API does, with a warning (Cgw.WeakAuthKey) that never quotes them', () => {
    for (const key of ['~', '~^', 'Zq7^x~]']) {
      const v = validateRow(wrow({ asn: '65000', auth_key: key }));
      assert.ok(v.row, `${key} is valid`);
      assert.equal(v.row.spec.authKey, key);
      assert.deepEqual(v.issues.map((i) => [i.severity, i.code]), [['warning', 'Cgw.WeakAuthKey']]);
      assert.match(v.issues[0]!.message, new RegExp(`has ${key.length} characters?: the API accepts it`));
      assert.ok(!v.issues[0]!.message.includes(key), v.issues[0]!.message);
    }
  });
  it('rejects space, ?, non-ASCII, over 64', () => {
    assert.match(bad('a b').message, /space/);
    assert.match(bad('ab?').message, /'\?'/);
    assert.match(bad('密钥abc').message, /non-ASCII/);
    assert.match(bad(chars(65)).message, /65 characters/);
  });
  it('OperationDenied.MissingAsn when an AuthKey is given without an ASN', () => {
    const i = assertCode({ auth_key: 'secret-key' }, 'OperationDenied.MissingAsn');
    assert.match(i.message, /the AuthKey/);
    assert.deepEqual(codes(only({ asn: '0', auth_key: 'secret-key' })), ['IllegalParam.Asn']);
  });
});

describe('validateRow: tags', () => {
  const twenty = Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`k${i}`, `v${i}`]));
  it('valid edges: 20 tags, 64-char key, 128-char value, empty value', () => {
    assertValid({}, { tags: twenty });
    assertValid({}, { tags: { [chars(64)]: chars(128) } });
    assertValid({}, { tags: { env: '' } });
  });
  it('SizeLimitExceeded.TagNum over 20', () => {
    assertCode({}, 'SizeLimitExceeded.TagNum', { tags: { ...twenty, extra: 'x' } });
  });
  it('InvalidParameter.TagKey', () => {
    for (const key of ['', '  ', chars(65), 'aliyun-x', 'ALIYUNx', 'acs:x', 'ACS:x', 'see http://x', 'https://x']) {
      assertCode({}, 'InvalidParameter.TagKey', { tags: [{ key, value: 'v' }] });
    }
  });
  it('InvalidParameter.TagValue', () => {
    for (const value of [chars(129), 'aliyun', 'Acs:v', 'http://x', 'go to https://y']) {
      assertCode({}, 'InvalidParameter.TagValue', { tags: [{ key: 'k', value }] });
    }
  });
  it('Duplicated.TagKey for the same key twice; case-only difference is Forbidden.TagKey.Duplicated', () => {
    const dup = assertCode({}, 'Duplicated.TagKey', { tags: [{ key: 'env', value: 'a' }, { key: 'env', value: 'b' }] });
    assert.equal(dup.field, 'tag:env');
    assertCode({}, 'Forbidden.TagKey.Duplicated', { tags: [{ key: 'env', value: 'a' }, { key: 'Env', value: 'b' }] });
  });
  it('a huge tag key is clipped in the field name and messages', () => {
    const key = 'k'.repeat(60_000);
    const dup = assertCode({}, 'Duplicated.TagKey', { tags: [{ key, value: 'a' }, { key, value: 'b' }] });
    assert.ok(dup.field.length < 100 && dup.message.length < 200, dup.field);
    assert.match(dup.field, /^tag:k+\.\.\. \(60000 characters\)$/);
  });
});

describe('validateRow: resource group', () => {
  it('InvalidResourceGroupId unless rg- plus lowercase alphanumerics', () => {
    assertValid({ resource_group_id: 'rg-aek2qo2h4jy5abc' });
    for (const id of ['aek2qo2h4jy', 'rg-', 'RG-ABC', 'rg-abc def', 'rg-abc_1']) assertCode({ resource_group_id: id }, 'InvalidResourceGroupId');
  });
});

describe('validateRow: collects every issue', () => {
  it('reports all problems of a row, not the first one, each with file, line and field', () => {
    const v = validateRow(
      wrow(
        { region: 'cn-hangzou', ip: '01.1.1.1', name: 'http://x', description: chars(101), asn: '45104', auth_key: 'a b', resource_group_id: 'x' },
        { line: 9, tags: [{ key: 'acs:k', value: 'v' }, { key: 'k', value: chars(129) }] },
      ),
    );
    assert.deepEqual(codes(v.issues).sort(), [
      'Cgw.UnknownRegion',
      'IllegalParam.Asn',
      'InvalidAuthkey.Malformed',
      'InvalidDescription',
      'InvalidIpAddress.WrongFormat',
      'InvalidName',
      'InvalidParameter.TagKey',
      'InvalidParameter.TagValue',
      'InvalidResourceGroupId',
    ]);
    for (const i of v.issues) {
      assert.equal(i.file, FILE);
      assert.equal(i.line, 9);
      assert.ok(i.field);
    }
    // Broken but normalisable: the row is still there (for report echo); the planner marks it invalid.
    assert.equal(v.row?.ref.key, 'cn-hangzou/01.1.1.1');
  });
});

describe('validateRow: the AuthKey pasted into another cell', () => {
  const KEY = 'SECRET-MARKER-ELSEWHERE';
  it('is an error naming the column, never quoting the key', () => {
    const w = wrow({ asn: '65000', auth_key: KEY, name: `bgp ${KEY}` }, { tags: { owner: KEY } });
    w.echo.notes = `key is ${KEY}`;
    const { issues } = validateRow(w);
    const hits = issues.filter((i) => i.code === 'Cgw.AuthKeyElsewhere');
    assert.deepEqual(hits.map((i) => i.field).sort(), ['name', 'notes', 'tags']);
    assert.ok(hits.every((i) => i.severity === 'error' && !i.message.includes(KEY)));
  });
  it('leaves rows alone when the key appears nowhere else (and ignores very short keys)', () => {
    assert.equal(validateRow(wrow({ asn: '65000', auth_key: KEY, name: 'bgp' })).issues.length, 0);
    assert.deepEqual(validateRow(wrow({ asn: '65000', auth_key: 'abc', name: 'abcdef' })).issues.map((i) => i.code), ['Cgw.WeakAuthKey']);
  });
});
