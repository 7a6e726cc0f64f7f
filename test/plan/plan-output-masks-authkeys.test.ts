// A marker AuthKey must never reach the printed plan or its JSON, whatever else is wrong with the row: the renderers
// build no message with a key, and the one sink (the redactor every printed byte passes, which the loader feeds every
// AuthKey it reads) masks any key that came from elsewhere (a loader message, a name holding the key).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { planManifest, type PlanContext } from '../../src/plan/plan.js';
import { planToJson, renderPlanText } from '../../src/report/plan-output.js';
import { Redactor } from '../../src/secrets.js';
import type { Field, Issue } from '../../src/types.js';
import { FILE, fp, gw, manifest, prior, priors, wrow } from './builders.js';

const MARKER = 'SECRET-MARKER-1234';

type Case = { name: string; fields: Partial<Record<Field, string>>; tags?: Record<string, string>; issues?: Issue[] };

const cases: Case[] = [
  { name: 'valid key, no ASN', fields: { auth_key: MARKER } },
  { name: 'key with a space', fields: { asn: '65000', auth_key: `${MARKER} x` } },
  { name: 'key with ?', fields: { asn: '65000', auth_key: `${MARKER}?` } },
  { name: 'key too long', fields: { asn: '65000', auth_key: MARKER.repeat(4) } },
  { name: 'key with non-ASCII', fields: { asn: '65000', auth_key: `${MARKER}密` } },
  { name: 'key with a tab', fields: { asn: '65000', auth_key: `${MARKER}\tx` } },
  { name: 'key padded with spaces', fields: { asn: '65000', auth_key: `  ${MARKER}  `, name: 'http://x' } },
  { name: 'bad ip', fields: { ip: '01.1.1.1', asn: '65000', auth_key: MARKER } },
  { name: 'missing region', fields: { region: '', asn: '65000', auth_key: MARKER } },
  { name: 'missing ip', fields: { ip: '', auth_key: MARKER } },
  { name: 'bad asn', fields: { asn: '1.23E+11', auth_key: MARKER } },
  { name: 'bad tags', fields: { asn: '65000', auth_key: MARKER }, tags: { 'acs:x': 'http://y' } },
  { name: 'unknown region', fields: { region: 'cn-nowhere', asn: '65000', auth_key: MARKER } },
  { name: 'key pasted into the name too', fields: { asn: '65000', auth_key: MARKER, name: `key ${MARKER}`, description: 'http://' } },
  {
    name: 'a loader message quoting the key',
    fields: { asn: '65000', auth_key: MARKER },
    issues: [{ severity: 'warning', code: 'Cgw.Comment', field: 'auth_key', message: `value ${MARKER} is followed by a comment`, file: FILE, line: 2 }],
  },
];

const contexts: Array<[string, PlanContext]> = [
  ['offline', { online: false, quota: 100 }],
  ['offline quota 0', { online: false, quota: 0 }],
  [
    'online with a conflicting gateway',
    {
      online: true,
      quota: 100,
      regions: new Set(['cn-hangzhou']),
      inventory: new Map([['cn-hangzhou', [gw({ id: 'cgw-x', ip: '203.0.113.10', name: 'other', asn: '65001', authKey: MARKER })]]]),
    },
  ],
  [
    'with a journal (update / replace)',
    {
      online: false,
      quota: 100,
      prior: priors(prior('cn-hangzhou/203.0.113.10', { gatewayId: 'cgw-1', asn: '65001', authKeyFingerprint: fp('old') })),
      fingerprint: fp,
    },
  ],
];

const sink = new Redactor();
sink.add(MARKER);
sink.add(`  ${MARKER}  `.trim());

function assertClean(printed: string, label: string): void {
  const out = sink.redact(printed);
  assert.ok(!out.includes(MARKER), `${label}: marker leaked:\n${out}`);
  assert.ok(!out.includes('SECRET-MARKER'), `${label}: marker prefix leaked`);
}

describe('AuthKey never appears in plan output', () => {
  for (const [ctxName, ctx] of contexts) {
    it(`every invalid-row combination, ${ctxName}`, () => {
      const ws = cases.map((c, i) => wrow(c.fields, { line: i + 2, tags: c.tags ?? {}, issues: c.issues ?? [] }));
      // The same key once more as a duplicate of the first row, so the cross-row path is covered too.
      ws.push(wrow({ asn: '65000', auth_key: MARKER }, { line: 99 }));
      const plan = planManifest(manifest(ws), ctx);
      assert.ok(plan.summary.invalid >= cases.length - 1, `${ctxName}: expected the cases to be invalid`);
      for (const color of [false, true]) assertClean(renderPlanText(plan, { color }), `${ctxName} text color=${color}`);
      assertClean(JSON.stringify(planToJson(plan)), `${ctxName} json`);
    });
  }

  it('file-level issues are scrubbed against every AuthKey in the plan', () => {
    const plan = planManifest(
      manifest([wrow({ asn: '65000', auth_key: MARKER })], [
        { severity: 'warning', code: 'Cgw.Perm', field: '', message: `readable by others (contains ${MARKER})`, file: FILE, line: 0 },
      ]),
      { online: false, quota: 100 },
    );
    assertClean(renderPlanText(plan, { color: false }), 'text');
    assertClean(JSON.stringify(planToJson(plan)), 'json');
  });
});
