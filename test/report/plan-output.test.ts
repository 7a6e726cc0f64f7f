// Plan rendering over plain plans: the JSON document carries the same actions and reasons as the text; issues print as
// `file:line  field  code  message`, errors then warnings then notes; changes show before and after; colour only when asked.
import '../helpers/env.js';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatIssue, location, planToJson, renderPlanText } from '../../src/report/plan-output.js';
import { PLAN_ACTIONS, type Issue, type Plan, type PlanSummary, type PlannedRow } from '../../src/types.js';
import { plan, planned, ref } from './build.js';

const FILE = 'branches.csv';
const issue = (severity: Issue['severity'], line: number, field: string, code: string, message: string): Issue => ({ severity, code, field, message, file: FILE, line });

/** The plan's counts, as the planner keeps them, from its rows. */
function summed(p: Plan): Plan {
  const zero = (): PlanSummary => ({ rows: 0, notInRun: 0, ...Object.fromEntries(PLAN_ACTIONS.map((a) => [a, 0])) }) as PlanSummary;
  const summary = zero();
  const byRegion: Record<string, PlanSummary> = {};
  for (const r of p.rows) {
    for (const s of [summary, (byRegion[r.ref.region] ??= zero())]) {
      s.rows++;
      if (!r.inRun) s.notInRun++;
      else s[r.action]++;
    }
  }
  return { ...p, summary, byRegion };
}

function mixed(): Plan {
  const rows: PlannedRow[] = [
    planned(2, { ip: '203.0.113.1', reason: 'new gateway' }),
    planned(3, { ip: '203.0.113.2', action: 'adopt', reason: 'a gateway with this IP already exists: adopt it', existingId: 'cgw-b' }),
    planned(4, {
      ip: '01.1.1.1',
      action: 'invalid',
      reason: 'invalid row',
      row: undefined,
      issues: [issue('error', 4, 'ip', 'InvalidIpAddress.WrongFormat', 'not an IPv4 address'), issue('error', 4, 'asn', 'IllegalParam.Asn', "45104 is Alibaba Cloud's own ASN")],
    }),
    planned(5, { ip: '10.0.0.1', issues: [issue('info', 5, 'ip', 'Cgw.PrivateIp', 'a private address')], reason: 'new gateway' }),
    planned(7, {
      ip: '203.0.113.7',
      action: 'update',
      reason: 'name changed',
      existingId: 'cgw-7',
      changes: [
        { field: 'name', before: 'Old', after: 'Renamed' },
        { field: 'tag:env', after: 'prod' },
      ],
    }),
    planned(8, { ip: '203.0.113.8', action: 'blocked', reason: 'failed earlier (Resource.QuotaFull); pass --retry-failed', needs: '--retry-failed', generation: 2 }),
    planned(0, { ref: { ...ref(0, { ip: '198.51.100.1' }), line: 0 }, action: 'skip', reason: 'no longer in the manifest; deleted only with --prune', orphan: true, existingId: 'cgw-orphan', row: undefined }),
  ];
  const p = plan(rows);
  p.issues = [issue('warning', 1, 'owner', 'Cgw.UnknownColumn', 'column "owner" is not used; it is echoed in reports')];
  p.online = true;
  p.target = { accountId: '1234567890', endpoint: 'https://vpc.aliyuncs.com' };
  return summed(p);
}

describe('planToJson', () => {
  it('has the document keys, and one row per plan row with the same action, reason and identity', () => {
    const p = mixed();
    const j = planToJson(p);
    assert.deepEqual(Object.keys(j), ['version', 'command', 'manifest', 'target', 'online', 'flags', 'rows', 'summary', 'quota', 'issues']);
    assert.equal(j.version, 2);
    assert.deepEqual(j.target, { accountId: '1234567890', endpoint: 'https://vpc.aliyuncs.com' });
    assert.deepEqual(j.summary, p.summary);
    assert.equal(j.rows.length, p.rows.length);
    j.rows.forEach((r, i) => {
      const pr = p.rows[i]!;
      assert.deepEqual([r.line, r.region, r.ip, r.key, r.action, r.reason, r.in_this_run], [pr.ref.line, pr.ref.region, pr.ref.ip, pr.ref.key, pr.action, pr.reason, pr.inRun]);
      for (const iss of r.issues) assert.deepEqual(Object.keys(iss), ['severity', 'code', 'field', 'message']);
    });
    assert.deepEqual(j.rows[1], {
      line: 3,
      region: 'cn-hangzhou',
      ip: '203.0.113.2',
      key: 'cn-hangzhou/203.0.113.2',
      action: 'adopt',
      reason: 'a gateway with this IP already exists: adopt it',
      in_this_run: true,
      issues: [],
      existingId: 'cgw-b',
    });
    assert.deepEqual(j.rows[5]!.needs, '--retry-failed');
    assert.equal(j.rows[5]!.generation, 2);
    assert.equal(j.rows[6]!.orphan, true);
    assert.deepEqual(j.issues, [{ severity: 'warning', code: 'Cgw.UnknownColumn', field: 'owner', message: 'column "owner" is not used; it is echoed in reports', line: 1 }]);
    assert.equal(planToJson(plan([])).target, null);
  });

  it('round-trips through JSON.stringify', () => {
    const j = planToJson(mixed());
    assert.deepEqual(JSON.parse(JSON.stringify(j)), j);
  });
});

describe('renderPlanText', () => {
  it('header names the manifest, the mode, the account and endpoint; the table has per-region counts and totals', () => {
    const text = renderPlanText(mixed(), { color: false });
    const lines = text.split('\n');
    assert.equal(lines[0], 'cgw-batch apply: branches.csv (csv, 6 row(s), online)');
    assert.equal(lines[1], 'account 1234567890 at https://vpc.aliyuncs.com');
    const head = lines.find((l) => l.trimStart().startsWith('region'))!;
    assert.match(head, /region\s+create\s+adopt\s+update\s+skip\s+blocked\s+invalid$/);
    assert.match(text, /\n {2}cn-hangzhou\s+2\s+1\s+1\s+1\s+1\s+1\n/);
    assert.match(text, /\n {2}total\s+2\s+1\s+1\s+1\s+1\s+1\n/);
  });

  it('each issue as `file:line  field  code  message`, errors then warnings then notes, line order within', () => {
    const text = renderPlanText(mixed(), { color: false });
    const issueLines = text.split('\n').filter((l) => /^branches\.csv(:\d+)? {2}/.test(l));
    assert.deepEqual(issueLines, [
      'branches.csv:4  ip  InvalidIpAddress.WrongFormat  not an IPv4 address',
      "branches.csv:4  asn  IllegalParam.Asn  45104 is Alibaba Cloud's own ASN",
      'branches.csv:1  owner  Cgw.UnknownColumn  column "owner" is not used; it is echoed in reports',
      'branches.csv:5  ip  Cgw.PrivateIp  a private address',
    ]);
    assert.ok(text.indexOf('Errors (2):') < text.indexOf('Warnings (1):'));
    assert.ok(text.indexOf('Warnings (1):') < text.indexOf('Notes (1):'));
    assert.equal(formatIssue({ ...issue('error', 0, '', 'Cgw.Empty', 'no rows'), file: 'm.csv' }), 'm.csv  -  Cgw.Empty  no rows');
    assert.equal(location('book.xlsx', 4, 'Sites!D4'), 'book.xlsx:Sites!D4');
  });

  it('lists every action beyond a plain create, with its reason and the before/after of changed fields', () => {
    const text = renderPlanText(mixed(), { color: false });
    assert.match(text, /\n {2}branches\.csv:3 {2}cn-hangzhou\/203\.0\.113\.2 {2}adopt {2}a gateway with this IP already exists: adopt it\n/);
    assert.match(text, /\n {2}branches\.csv:7 {2}cn-hangzhou\/203\.0\.113\.7 {2}update {2}name changed\n {6}name: "Old" -> "Renamed"\n {6}tag:env: \(none\) -> "prod"\n/);
    assert.match(text, /\n {2}branches\.csv:8 {2}cn-hangzhou\/203\.0\.113\.8 {2}blocked {2}failed earlier \(Resource\.QuotaFull\); pass --retry-failed\n/);
    assert.match(text, /\n {2}branches\.csv {2}cn-hangzhou\/198\.51\.100\.1 {2}skip {2}no longer in the manifest; deleted only with --prune\n/);
    assert.doesNotMatch(text, /203\.0\.113\.1 {2}create/, 'a plain create is counted, not listed');
    assert.match(text, /1 invalid and 1 blocked row\(s\): apply refuses to run/);
  });

  it('no ANSI escapes without colour; escapes with colour, same text', () => {
    const plain = renderPlanText(mixed(), { color: false });
    const coloured = renderPlanText(mixed(), { color: true });
    // eslint-disable-next-line no-control-regex
    assert.doesNotMatch(plain, /\x1b\[/);
    assert.match(coloured, /\x1b\[31mIllegalParam\.Asn\x1b\[0m/);
    // eslint-disable-next-line no-control-regex
    assert.equal(coloured.replace(/\x1b\[[0-9;]*m/g, ''), plain);
  });

  it('a clean offline plan says so, and names the flags and the rows --only leaves out', () => {
    const p = summed(plan([planned(2, { ip: '203.0.113.1', reason: 'new gateway' }), planned(3, { inRun: false })]));
    p.flags = { ...p.flags, only: '2', allowReplace: true };
    const text = renderPlanText(p, { color: false });
    assert.match(text, /offline: existing gateways, quota use and region availability not checked/);
    assert.match(text, /\nwith --allow-replace --only 2\n/);
    assert.match(text, /No errors\. 1 create\. \(1 row\(s\) not in this run: --only\)\n$/);
    assert.doesNotMatch(text, /Errors|Warnings|Notes|Actions/);
  });
});
