// Shared bits for loader tests: the secret marker and an assertion that a thrown error never carries it.
import assert from 'node:assert/strict';
import { ManifestError } from '../../src/errors.js';

export const MARKER = 'SECRET-MARKER-1234';

/** Runs fn, expects a ManifestError, checks the line and that no part of the error (message, props) holds the marker. */
export function expectManifestError(fn: () => unknown, line: number | undefined, pattern?: RegExp): ManifestError {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  assert.ok(caught instanceof ManifestError, `expected ManifestError, got ${String(caught)}`);
  assert.equal(caught.line, line, `line of: ${caught.message}`);
  if (pattern) assert.match(caught.message, pattern);
  const dump = JSON.stringify({ ...caught, message: caught.message, stack: caught.stack });
  assert.ok(!dump.includes(MARKER), `secret marker leaked: ${dump}`);
  return caught;
}
