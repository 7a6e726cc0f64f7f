// The one vocabulary of row outcomes: what each word means for the exit code and junit.xml, how a row's outcome is
// read from its result, and how a row of several resources takes the outcome of its least finished part.
import '../helpers/env.js';
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { EXIT } from '../../src/errors.js';
import { OUTCOMES, combineOutcomes, countOutcomes, exitCodeOf, isOk, junitVerdict, outcomeOf, stateOutcome } from '../../src/report/outcome.js';
import { result } from './build.js';

test('every outcome says whether it fails the run and what junit calls it', () => {
  const ok = OUTCOMES.filter(isOk);
  assert.deepEqual(ok, ['created', 'adopted', 'updated', 'deleted', 'unchanged', 'not in this run']);
  assert.deepEqual(
    OUTCOMES.map((o) => junitVerdict(o)),
    ['passed', 'passed', 'passed', 'passed', 'passed', 'failed', 'failed', 'skipped', 'skipped', 'failed', 'failed', 'skipped'],
  );
});

test('a result reads as the plan word for rows not carried out, else as the state it left', () => {
  assert.equal(outcomeOf(result({ line: 2, inRun: false, status: 'failed', errorCode: 'X' })), 'not in this run');
  assert.equal(outcomeOf(result({ line: 2, action: 'skip', status: 'created' })), 'unchanged');
  assert.equal(outcomeOf(result({ line: 2, action: 'blocked', status: 'pending' })), 'blocked');
  assert.equal(outcomeOf(result({ line: 2, action: 'invalid', status: 'invalid' })), 'invalid');
  // Outside a run (status): the state alone; an owned gateway whose last change failed is failed, a stopped one interrupted.
  assert.equal(stateOutcome({ status: 'created', errorCode: 'Forbidden.RAM' }), 'failed');
  assert.equal(stateOutcome({ status: 'created', errorCode: 'Interrupted' }), 'interrupted');
  assert.equal(stateOutcome({ status: 'in-flight' }), 'unknown');
  assert.equal(stateOutcome({ status: 'pending' }), 'not started');
  assert.equal(stateOutcome({ status: 'deleted', errorCode: 'Cgw.Drift' }), 'deleted');
});

test('one count and one exit code over the same outcomes', () => {
  assert.deepEqual(countOutcomes(['failed', 'created', 'created', 'not in this run']), { created: 2, failed: 1, 'not in this run': 1 });
  assert.deepEqual(Object.keys(countOutcomes(['not started', 'created', 'unknown'])), ['created', 'unknown', 'not started'], 'vocabulary order');
  assert.equal(exitCodeOf(['created', 'unchanged', 'not in this run'], undefined), EXIT.ok);
  assert.equal(exitCodeOf(['created', 'not started'], 'max-failures'), EXIT.rowsFailed);
  assert.equal(exitCodeOf(['created'], 'interrupt'), EXIT.interrupted);
  assert.equal(exitCodeOf(['created'], 'clock'), EXIT.usage);
});

test('a row of several resources has the outcome of its least finished part', () => {
  assert.equal(combineOutcomes(['created', 'created']), 'created');
  assert.equal(combineOutcomes(['created', 'failed']), 'failed');
  assert.equal(combineOutcomes(['unchanged', 'not started']), 'not started');
  assert.equal(combineOutcomes(['failed', 'blocked']), 'blocked');
  assert.equal(combineOutcomes(['unchanged', 'updated']), 'updated');
  assert.equal(combineOutcomes(['unchanged', 'unchanged']), 'unchanged');
});
