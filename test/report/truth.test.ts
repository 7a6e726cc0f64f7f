// Every row's truth for the reports, over plain data: the journal's last real state (also for rows not in this run),
// validation errors for invalid rows, failed-but-owned gateways; and the run's exit code and counts.
import '../helpers/env.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EXIT } from '../../src/errors.js';
import type { JournalRow } from '../../src/state/records.js';
import { countOutcomes, exitCodeOf, isOk, outcomeOf } from '../../src/report/outcome.js';
import { truthRows, truthStatus } from '../../src/report/truth.js';
import type { RowResult } from '../../src/types.js';

const rowOk = (r: RowResult): boolean => isOk(outcomeOf(r));
const exitOf = (rows: RowResult[], stop: Parameters<typeof exitCodeOf>[1]): number => exitCodeOf(rows.map(outcomeOf), stop);
const runCounts = (rows: RowResult[]) => countOutcomes(rows.map(outcomeOf));
import { journalRow, plan, planned, ref, result } from './build.js';

const journalOf = (...rows: JournalRow[]): Map<string, JournalRow> => new Map(rows.map((r) => [r.key, r]));

test('rows --only left out keep their journal state, request ids and error, marked not in this run', () => {
  const failedRef = ref(3);
  const createdRef = ref(4);
  const p = plan([
    planned(2),
    planned(3, { ref: failedRef, action: 'blocked', reason: 'failed earlier', needs: '--retry-failed', inRun: false }),
    planned(4, { ref: createdRef, action: 'skip', existingId: 'cgw-4', inRun: false }),
    planned(5, { inRun: false }),
  ]);
  const journal = journalOf(
    journalRow(ref(2)),
    journalRow(failedRef, { status: 'failed', gatewayId: undefined, errorCode: 'Resource.QuotaFull', errorMessage: 'quota is full', errorClass: 'quota', requestIds: ['req-a', 'req-b'], attempts: 2 }),
    journalRow(createdRef, { requestIds: ['req-c'] }),
  );
  const rows = truthRows(p, journal);
  assert.deepEqual(
    rows.map((r) => r.ref.line),
    [2, 3, 4, 5],
    'plan order',
  );
  const [, failed, created, never] = rows;
  assert.deepEqual(failed, {
    ref: failedRef,
    status: 'failed',
    action: 'blocked',
    inRun: false,
    requestIds: ['req-a', 'req-b'],
    attempts: 2,
    durationMs: 300,
    echo: { region: 'cn-hangzhou', ip: '10.0.0.3', name: 'gw-3' },
    errorCode: 'Resource.QuotaFull',
    errorMessage: 'quota is full',
    errorClass: 'quota',
    note: 'not in this run (--only): last state kept',
    outcome: 'failed',
  });
  assert.equal(failed!.ref, failedRef, 'the plan row identity, carried by reference');
  assert.equal(created!.status, 'created');
  assert.equal(created!.gatewayId, 'cgw-4');
  assert.deepEqual(created!.requestIds, ['req-c']);
  assert.equal(created!.inRun, false);
  // Never in the journal and not in this run: pending, with nothing made up.
  assert.equal(never!.status, 'pending');
  assert.equal(never!.errorCode, undefined);
  assert.equal(never!.gatewayId, undefined);
  assert.deepEqual(never!.requestIds, []);
  assert.equal(never!.attempts, 0);
});

test('an invalid row shows its first validation error (not a warning), never a made-up send failure', () => {
  const p = plan([
    planned(2, {
      action: 'invalid',
      reason: 'invalid row',
      row: undefined,
      issues: [
        { severity: 'warning', code: 'Cgw.PrivateIp', field: 'ip', message: 'private IP', file: 'branches.csv', line: 2 },
        { severity: 'error', code: 'IllegalParam.Asn', field: 'asn', message: '45104 is reserved', file: 'branches.csv', line: 2 },
        { severity: 'error', code: 'IllegalParam.Name', field: 'name', message: 'too long', file: 'branches.csv', line: 2 },
      ],
    }),
  ]);
  const [r] = truthRows(p, journalOf());
  assert.equal(r!.status, 'invalid');
  assert.equal(r!.errorCode, 'IllegalParam.Asn');
  assert.equal(r!.errorMessage, 'invalid row, not sent: 45104 is reserved');
  assert.equal(r!.errorClass, 'invalid');
  assert.deepEqual(r!.echo, {}, 'no validated row and no journal row: no echo');
  assert.equal(truthStatus(p.rows[0]!, undefined), 'invalid');
  // A gateway the journal owns keeps its status; the row's current problem is its validation error.
  const [owned] = truthRows(p, journalOf(journalRow(ref(2))));
  assert.equal(owned!.status, 'created');
  assert.equal(owned!.gatewayId, 'cgw-2');
  assert.equal(owned!.errorCode, 'IllegalParam.Asn');
});

test('an owned gateway whose last update failed reads failed with its gateway id; an interrupted one keeps its status', () => {
  const p = plan([planned(2, { action: 'update', existingId: 'cgw-2' }), planned(3, { action: 'delete', existingId: 'cgw-3' }), planned(4, { action: 'adopt', existingId: 'cgw-4' })]);
  const journal = journalOf(
    journalRow(ref(2), { errorCode: 'Forbidden.RAM', errorMessage: 'ModifyCustomerGatewayAttribute failed: no permission', errorClass: 'forbidden' }),
    journalRow(ref(3), { errorCode: 'Interrupted', errorMessage: 'stopped before the delete was confirmed', errorClass: 'interrupted' }),
    journalRow(ref(4), { status: 'adopted', errorCode: 'Throttling.User' }),
  );
  const [upd, del, adopted] = truthRows(p, journal);
  assert.equal(upd!.status, 'failed');
  assert.equal(upd!.gatewayId, 'cgw-2');
  assert.equal(upd!.errorCode, 'Forbidden.RAM');
  assert.equal(del!.status, 'created');
  assert.equal(del!.gatewayId, 'cgw-3');
  assert.equal(del!.errorCode, 'Interrupted');
  assert.equal(adopted!.status, 'failed');
  assert.equal(adopted!.gatewayId, 'cgw-4');
});

test('gateway ids: kept for deleted rows, hidden for pending ones, the plan id for a skip the journal does not know', () => {
  const p = plan([planned(2, { action: 'delete' }), planned(3), planned(4, { action: 'skip', existingId: 'cgw-x' }), planned(5, { action: 'resume' })]);
  const journal = journalOf(
    journalRow(ref(2), { status: 'deleted' }),
    journalRow(ref(3), { status: 'pending', gatewayId: 'cgw-stale' }),
    journalRow(ref(5), { status: 'unknown', gatewayId: undefined, errorCode: 'ECONNRESET' }),
  );
  const [deleted, pending, skip, unknown] = truthRows(p, journal);
  assert.equal(deleted!.gatewayId, 'cgw-2');
  assert.equal(pending!.gatewayId, undefined);
  assert.equal(skip!.gatewayId, 'cgw-x');
  assert.equal(skip!.status, 'pending');
  assert.equal(unknown!.status, 'unknown');
  assert.equal(unknown!.errorCode, 'ECONNRESET');
});

test('this run: the note from the executor result of the same row; status, ids and duration from the journal', () => {
  const r2 = ref(2);
  const r3 = ref(3);
  const p = plan([planned(2, { ref: r2 }), planned(3, { ref: r3 })]);
  const journal = journalOf(journalRow(r2, { requestIds: ['old', 'new'], attempts: 3 }));
  const ran = [
    result({ line: 2, ref: r2, durationMs: 42, note: 'new row; found cgw-2 made by an earlier attempt', requestIds: ['new'] }),
    result({ line: 3, ref: r3, status: 'pending', errorCode: 'NotStarted', note: 'not started: interrupted (Ctrl-C)', requestIds: [] }),
  ];
  const [a, b] = truthRows(p, journal, ran);
  // The journal's duration, as status shows it (the executor's would count the journal write too).
  assert.equal(a!.durationMs, 300);
  assert.equal(a!.note, 'new row; found cgw-2 made by an earlier attempt');
  assert.deepEqual(a!.requestIds, ['old', 'new']);
  assert.equal(a!.attempts, 3);
  // Never sent: the journal has nothing, so the row is pending, and the note says why.
  assert.equal(b!.status, 'pending');
  assert.equal(b!.errorCode, undefined);
  assert.equal(b!.note, 'not started: interrupted (Ctrl-C)');
  // A result for an equal but different identity is not this row's: identity travels by reference.
  const [c] = truthRows(p, journal, [result({ line: 2, note: 'not this one' })]);
  assert.equal(c!.note, 'new row');
});

test('a journal row whose key left the manifest (orphan) reports with the journal echo', () => {
  const orphan = { key: 'cn-hangzhou/198.51.100.1', file: 'branches.csv', line: 0, region: 'cn-hangzhou', ip: '198.51.100.1' };
  const p = plan([planned(0, { ref: orphan, action: 'delete', row: undefined, orphan: true, existingId: 'cgw-o', inRun: true })], 'destroy');
  const [r] = truthRows(p, journalOf(journalRow(orphan, { echo: { name: 'Closed branch' } })));
  assert.deepEqual(r!.echo, { name: 'Closed branch' });
  assert.equal(r!.gatewayId, 'cgw-0');
});

test('rowOk and exitCodeOf: only rows this run was asked to do count; stops have their own codes', () => {
  const ok = result({ line: 2 });
  const skip = result({ line: 3, action: 'skip', status: 'pending' });
  const failedOut = result({ line: 4, status: 'failed', errorCode: 'X', inRun: false });
  assert.equal(rowOk(skip), true);
  assert.equal(rowOk(failedOut), true, 'not in this run');
  assert.equal(exitOf([ok, skip, failedOut], undefined), EXIT.ok);
  const failed = result({ line: 5, status: 'failed', errorCode: 'X' });
  assert.equal(exitOf([ok, failed], undefined), EXIT.rowsFailed);
  assert.equal(exitOf([ok, failed], 'max-failures'), EXIT.rowsFailed);
  assert.equal(exitOf([ok, result({ line: 6, action: 'blocked', status: 'pending' })], undefined), EXIT.rowsFailed);
  assert.equal(exitOf([ok, result({ line: 7, action: 'invalid', status: 'invalid' })], undefined), EXIT.rowsFailed);
  // An owned gateway with an error is not done, whatever its status says.
  assert.equal(exitOf([result({ line: 8, action: 'update', status: 'created', errorCode: 'Interrupted' })], undefined), EXIT.rowsFailed);
  assert.equal(exitOf([ok, result({ line: 9, status: 'unknown' })], undefined), EXIT.rowsFailed);
  assert.equal(exitOf([ok], 'auth'), EXIT.usage);
  assert.equal(exitOf([ok], 'forbidden'), EXIT.usage);
  assert.equal(exitOf([ok, failed], 'interrupt'), EXIT.interrupted);
  assert.equal(exitOf([], undefined), EXIT.ok);
});

test('runCounts: what this run did with each row', () => {
  const counts = runCounts([
    result({ line: 2 }),
    result({ line: 3, status: 'adopted', action: 'adopt' }),
    result({ line: 4, status: 'created', action: 'skip' }),
    result({ line: 5, status: 'failed', errorCode: 'X' }),
    result({ line: 6, status: 'pending', note: 'not started: --max-failures was reached' }),
    result({ line: 7, status: 'created', action: 'update', errorCode: 'NotStarted', note: 'not started: the run stopped' }),
    result({ line: 8, status: 'unknown', errorCode: 'Interrupted' }),
    result({ line: 13, status: 'pending', errorCode: 'Interrupted', note: 'stopped before a retry (interrupted (Ctrl-C)); nothing was created' }),
    result({ line: 14, status: 'unknown', errorCode: 'ECONNRESET' }),
    result({ line: 9, status: 'invalid', action: 'invalid' }),
    result({ line: 10, status: 'pending', action: 'blocked' }),
    result({ line: 11, status: 'failed', inRun: false }),
    result({ line: 12, inRun: false }),
  ]);
  assert.deepEqual(counts, { created: 1, adopted: 1, unchanged: 1, failed: 1, 'not started': 2, interrupted: 2, unknown: 1, invalid: 1, blocked: 1, 'not in this run': 2 });
});
