// Hand-edited journals: well-formed JSON with wrong field types is corrupt at its line, never an internal error.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { test } from 'node:test';
import { StateError } from '../../src/errors.js';
import { Journal, readJournal } from '../../src/state/journal.js';
import { JOURNAL_STATUSES, parseJournal } from '../../src/state/records.js';
import { runCli } from '../helpers/cli.js';
import { stateDir } from './setup.js';

const HEADER = {
  t: 'header', version: 1, runId: 'r-1', manifest: { path: 'branches.csv', hash: 'h' }, endpoint: 'http://127.0.0.1:18080',
  accessKeyId: 'LTAI5tTestKey', fingerprintKey: 'ab', createdAt: '2026-01-01T00:00:00.000Z', updatedAt: '2026-01-01T00:00:00.000Z',
};
const ROW = { t: 'row', key: 'cn-hangzhou/1.2.3.4', status: 'created', line: 2, token: 'tok', generation: 1, requestIds: ['R1'], attempts: 1, gatewayId: 'cgw-abc', ts: '2026-01-01T00:00:00.000Z' };
const text = (...recs: unknown[]) => recs.map((r) => JSON.stringify(r)).join('\n') + '\n';

test('every wrong field type is corrupt at its line, naming the field but not the value', () => {
  const bad: Array<[Record<string, unknown>, RegExp]> = [
    [{ status: 'createdd' }, /"status" must be one of/],
    [{ status: 7 }, /"status"/],
    [{ line: '2' }, /"line" must be a whole number/],
    [{ line: -1 }, /"line"/],
    [{ generation: 0 }, /"generation" must be at least 1/],
    [{ attempts: 1.5 }, /"attempts"/],
    [{ requestIds: 'R1' }, /"requestIds" must be a list of strings/],
    [{ requestIds: [1, 2] }, /"requestIds"/],
    [{ tags: { key: 'a', value: 'b' } }, /"tags" must be a list of \{key, value\}/],
    [{ tags: [{ key: 'a' }] }, /"tags"/],
    [{ echo: { name: 5 } }, /"echo" must be a map of strings/],
    [{ echo: ['x'] }, /"echo"/],
    [{ gatewayId: { id: 'SECRET-VALUE-1' } }, /"gatewayId" must be a string/],
    [{ errorMessage: 42 }, /"errorMessage"/],
    [{ durationMs: 'fast' }, /"durationMs"/],
    [{ operation: 'explode' }, /"operation"/],
  ];
  for (const [patch, why] of bad) {
    const journal = text(HEADER, ROW, { ...ROW, ...patch }, ROW);
    assert.throws(
      () => parseJournal('/x/state.jsonl', journal),
      (e: unknown) => e instanceof StateError && /line 3 is corrupt/.test(e.message) && why.test(e.message) && !e.message.includes('SECRET-VALUE'),
      JSON.stringify(patch),
    );
    // Also on the last line: well-formed JSON there is an edit, not a torn write.
    assert.throws(() => parseJournal('/x/state.jsonl', text(HEADER, { ...ROW, ...patch })), /line 2 is corrupt/);
  }
});

test('header fields are typed: accessKeyId and accountId optional strings; version, runId, manifest required', () => {
  const ok = [HEADER, { ...HEADER, accountId: '1234567890123456' }, { ...HEADER, accessKeyId: undefined, accountId: '1' }];
  for (const h of ok) assert.equal(parseJournal('/x/s', text(h, ROW)).rows.size, 1);
  for (const h of [{ ...HEADER, accountId: 12 }, { ...HEADER, accessKeyId: ['x'] }, { ...HEADER, runId: 5 }, { ...HEADER, manifest: 'x' }, { ...HEADER, version: '1' }]) {
    assert.throws(() => parseJournal('/x/s', text(h, ROW)), /line 1 is corrupt \(the header field/);
  }
});

test("statuses include 'unknown'; null still unsets an optional field", () => {
  for (const st of ['pending', 'in-flight', 'unknown', 'created', 'adopted', 'updated', 'deleted', 'failed', 'skipped']) {
    assert.ok(JOURNAL_STATUSES.has(st));
    assert.equal(parseJournal('/x/s', text(HEADER, { ...ROW, status: st })).rows.get(ROW.key)?.status, st);
  }
  const r = parseJournal('/x/s', text(HEADER, ROW, { t: 'row', key: ROW.key, gatewayId: null, errorCode: null })).rows.get(ROW.key);
  assert.equal(r?.gatewayId, undefined);
});

test('the CLI reports a mistyped journal as a corrupt line (exit 2), not as an internal error', async (t) => {
  const s = stateDir();
  t.after(() => s.cleanup());
  writeFileSync(s.state, text(HEADER, ROW, { ...ROW, requestIds: 'R9' }, ROW), { mode: 0o600 });
  await assert.rejects(readJournal(s.state), /line 3 is corrupt/);
  await assert.rejects(Journal.open(s.state, s.opts()), /line 3 is corrupt/);
  const r = await runCli(['status', '--state', s.state], { timeoutMs: 20_000 });
  assert.equal(r.code, 2);
  assert.match(r.stderr, /line 3 is corrupt .*requestIds/);
  assert.doesNotMatch(r.stderr, /internal error/);
});

test('the redact option scrubs every string of a patch before it is stored or written, and rows read back', async (t) => {
  const s = stateDir();
  t.after(() => s.cleanup());
  const SECRET = 'Quoted-AuthKey-42';
  const redact = (x: string) => x.split(SECRET).join('***');
  const j = await Journal.open(s.state, s.opts({ redact }));
  const row = await j.record('cn-hangzhou/1.2.3.4', { status: 'failed', errorMessage: `server said: The AuthKey ${SECRET} is bad`, echo: { note: SECRET }, requestIds: [SECRET] });
  assert.equal(row.errorMessage, 'server said: The AuthKey *** is bad');
  await j.close();
  const onDisk = (await import('node:fs')).readFileSync(s.state, 'utf8');
  assert.ok(!onDisk.includes(SECRET));
  // An older journal written without the option is scrubbed when read back (and compacted on the next open).
  writeFileSync(s.state, text(HEADER, { ...ROW, errorMessage: `old ${SECRET}` }), { mode: 0o600 });
  const read = await readJournal(s.state, { redact });
  assert.equal(read?.rows.get(ROW.key)?.errorMessage, 'old ***');
  const j2 = await Journal.open(s.state, s.opts({ endpoint: HEADER.endpoint, redact }));
  await j2.close();
  assert.ok(!(await import('node:fs')).readFileSync(s.state, 'utf8').includes(SECRET));
});
