// Plan rendering: the exact JSON contract, the `file:line  field  code  message` text format, colour, changes.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { planManifest } from '../../src/plan/plan.js';
import { planToJson, renderPlanText } from '../../src/report/plan-output.js';
import { FILE, fp, gw, manifest, prior, priors, rows, wrow } from '../plan/builders.js';

const mixed = () =>
  planManifest(
    manifest(
      [
        wrow({ ip: '203.0.113.1', name: 'A' }, { line: 2 }),
        wrow({ ip: '203.0.113.2', name: 'B', asn: '65000' }, { line: 3 }),
        wrow({ ip: '01.1.1.1', asn: '45104' }, { line: 4 }),
        wrow({ ip: '127.0.0.1' }, { line: 5 }),
        wrow({ ip: '10.0.0.1' }, { line: 6 }),
        wrow({ ip: '203.0.113.7', name: 'Renamed' }, { line: 7 }),
      ],
      [{ severity: 'warning', code: 'Cgw.UnknownColumn', field: 'owner', message: 'column "owner" is not used; it is echoed in reports', file: FILE, line: 1 }],
    ),
    {
      online: true,
      quota: 100,
      regions: new Set(['cn-hangzhou']),
      inventory: new Map([['cn-hangzhou', [gw({ id: 'cgw-b', ip: '203.0.113.2', name: 'B', asn: '65000' }), gw({ id: 'cgw-7', ip: '203.0.113.7', name: 'Old' })]]]),
      prior: priors(
        prior('cn-hangzhou/203.0.113.7', { gatewayId: 'cgw-7', name: 'Old', authKeyFingerprint: undefined }),
        prior('cn-hangzhou/198.51.100.1', { gatewayId: 'cgw-orphan', name: 'Closed' }),
      ),
      fingerprint: fp,
    },
  );

describe('planToJson', () => {
  it('has exactly the contract keys', () => {
    const j = planToJson(mixed());
    assert.deepEqual(Object.keys(j).sort(), ['issues', 'rows', 'summary']);
    assert.deepEqual(Object.keys(j.summary), ['rows', 'create', 'adopt', 'skip', 'invalid', 'update', 'replace', 'orphan']);
    assert.deepEqual(j.summary, { rows: 7, create: 3, adopt: 1, skip: 0, invalid: 1, update: 1, replace: 0, orphan: 1 });
    for (const r of j.rows) {
      const keys = Object.keys(r);
      assert.deepEqual(keys.slice(0, 5), ['line', 'region', 'ip', 'action', 'issues']);
      for (const k of keys.slice(5)) assert.ok(k === 'existingId' || k === 'changes', k);
      for (const i of r.issues) assert.deepEqual(Object.keys(i), ['severity', 'code', 'field', 'message']);
    }
    assert.deepEqual(j.issues, [{ severity: 'warning', code: 'Cgw.UnknownColumn', field: 'owner', message: 'column "owner" is not used; it is echoed in reports', line: 1 }]);
  });

  it('rows carry line, region, ip, action, issues, existingId and changes', () => {
    const j = planToJson(mixed());
    assert.deepEqual(j.rows[0], { line: 2, region: 'cn-hangzhou', ip: '203.0.113.1', action: 'create', issues: [] });
    assert.deepEqual(j.rows[1], { line: 3, region: 'cn-hangzhou', ip: '203.0.113.2', action: 'adopt', issues: [], existingId: 'cgw-b' });
    assert.equal(j.rows[2]!.action, 'invalid');
    assert.deepEqual(j.rows[2]!.issues.map((i) => i.code), ['InvalidIpAddress.WrongFormat', 'IllegalParam.Asn']);
    assert.deepEqual(j.rows[5], {
      line: 7,
      region: 'cn-hangzhou',
      ip: '203.0.113.7',
      action: 'update',
      issues: [],
      existingId: 'cgw-7',
      changes: [{ field: 'name', before: 'Old', after: 'Renamed' }],
    });
    assert.equal(j.rows[6]!.action, 'orphan');
    assert.equal(j.rows[6]!.line, 0);
    assert.equal(j.rows[6]!.existingId, 'cgw-orphan');
  });

  it('round-trips through JSON.stringify', () => {
    const j = planToJson(mixed());
    assert.deepEqual(JSON.parse(JSON.stringify(j)), j);
  });
});

describe('renderPlanText', () => {
  it('header, per-region summary and totals', () => {
    const text = renderPlanText(mixed(), { color: false });
    const lines = text.split('\n');
    assert.match(lines[0]!, /^cgw-batch plan: sites\.csv \(csv, 6 row\(s\), online\)$/);
    const head = lines.find((l) => l.trimStart().startsWith('region'))!;
    assert.match(head, /region\s+create\s+adopt\s+skip\s+invalid\s+update\s+orphan$/);
    assert.doesNotMatch(head, /replace/);
    assert.match(text, /\n {2}cn-hangzhou\s+3\s+1\s+0\s+1\s+1\s+1\n/);
    assert.match(text, /\n {2}total\s+3\s+1\s+0\s+1\s+1\s+1\n/);
  });

  it('each issue as `file:line  field  code  message`, errors then warnings then notes, line order within', () => {
    const text = renderPlanText(mixed(), { color: false });
    const issueLines = text.split('\n').filter((l) => /^sites\.csv(:\d+)?  /.test(l));
    assert.deepEqual(
      issueLines.map((l) => l.split('  ').slice(0, 3).join('|')),
      [
        'sites.csv:4|ip|InvalidIpAddress.WrongFormat',
        'sites.csv:4|asn|IllegalParam.Asn',
        'sites.csv:1|owner|Cgw.UnknownColumn',
        'sites.csv:5|ip|Cgw.UnsupportedIpRange',
        'sites.csv|ip|Cgw.Orphan',
        'sites.csv:6|ip|Cgw.PrivateIp',
      ],
    );
    assert.ok(issueLines[1]!.startsWith("sites.csv:4  asn  IllegalParam.Asn  45104 is Alibaba Cloud's own ASN"));
    assert.ok(text.indexOf('Errors (2):') < text.indexOf('Warnings (2):'));
    assert.ok(text.indexOf('Warnings (2):') < text.indexOf('Notes (2):'));
    assert.match(text, /1 invalid row\(s\)/);
  });

  it('shows before/after of changed fields for update, replace and orphan rows', () => {
    const text = renderPlanText(mixed(), { color: false });
    assert.match(text, /\n {2}sites\.csv:7 {2}cn-hangzhou\/203\.0\.113\.7 {2}update cgw-7\n {6}name: "Old" -> "Renamed"\n/);
    assert.match(text, /\n {2}sites\.csv {2}cn-hangzhou\/198\.51\.100\.1 {2}orphan cgw-orphan {2}\(no longer in the manifest; deleted only with --prune\)/);
    const rep = planManifest(manifest(rows({ name: 'HQ', asn: '65001', auth_key: 'k-new' })), {
      online: false,
      quota: 100,
      prior: priors(prior('cn-hangzhou/203.0.113.10', { gatewayId: 'cgw-1', name: 'HQ', asn: '65000', authKeyFingerprint: fp('k-old') })),
      fingerprint: fp,
    });
    const t2 = renderPlanText(rep, { color: false });
    assert.match(t2, /replace cgw-1 {2}\(delete \+ create; needs --allow-replace\)\n {6}asn: 65000 -> 65001\n {6}auth_key: \(set\) -> \(changed\)\n/);
    assert.doesNotMatch(t2, /k-new|k-old/);
  });

  it('no ANSI escapes without colour; escapes with colour', () => {
    assert.doesNotMatch(renderPlanText(mixed(), { color: false }), /\x1b\[/);
    assert.match(renderPlanText(mixed(), { color: true }), /\x1b\[31mIllegalParam\.Asn\x1b\[0m/);
  });

  it('a clean plan says so', () => {
    const text = renderPlanText(planManifest(manifest(rows({ ip: '203.0.113.1' })), { online: false, quota: 100 }), { color: false });
    assert.match(text, /offline: existing gateways, quota use and region availability not checked/);
    assert.match(text, /No errors\. 1 create\.\n$/);
    assert.doesNotMatch(text, /Errors|Warnings|Notes|Changes/);
  });
});
