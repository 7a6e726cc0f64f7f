// The one formula escape for every CSV cgw-batch writes (report/csv.ts): never a live formula, always undone exactly.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parse } from 'csv-parse/sync';
import { csvCell, csvField, csvManifest, escapeFormula, needsFormulaEscape, unescapeFormula } from '../../src/csv-cells.js';

const STARTS = ['=', '+', '-', '@', '\t', '\r', '\n', '\u0000', '＝', '＋', '－', '＠', ' =', '  \t+', '\u3000@', "'", "''", "'=", "''-", "' =", 'a', ' a', "'a", ''];
const TAILS = ['', '1+1', 'SUM(A1)', 'HYPERLINK("http://x","y")', "'", ' ', '=', 'x"y,z'];

test('escape then unescape gives every value back; no escaped value is a formula; safe values are untouched', () => {
  let escaped = 0;
  for (const s of STARTS) {
    for (const t of TAILS) {
      const v = s + t;
      const e = escapeFormula(v);
      assert.equal(needsFormulaEscape(e), false, JSON.stringify(v));
      assert.equal(unescapeFormula(e), v, JSON.stringify(v));
      if (e !== v) escaped++;
      else assert.equal(needsFormulaEscape(v), false, `${JSON.stringify(v)} left live`);
    }
  }
  assert.ok(escaped > 100);
  assert.equal(escapeFormula('plain'), 'plain');
  assert.equal(escapeFormula("'plain"), "'plain");
  assert.equal(escapeFormula("'=x"), "''=x");
});

test('csvField (manifests) and csvCell (reports) escape the same cells; csv-parse reads both back to the escaped text', () => {
  const values = STARTS.flatMap((s) => TAILS.map((t) => s + t));
  const text = csvManifest([values]);
  assert.ok(text.startsWith('\uFEFF') && text.endsWith('\r\n'));
  const [viaField] = parse(text, { bom: true }) as string[][];
  const [viaCell] = parse(values.map(csvCell).join(','), {}) as string[][];
  assert.deepEqual(viaField, viaCell);
  assert.deepEqual(viaField!.map(unescapeFormula), values);
  // Readable where nothing needs quoting.
  assert.equal(csvField('cn-hangzhou'), 'cn-hangzhou');
  assert.equal(csvField('=1'), `"'=1"`);
});
