// Reports: formula escaping (case 15), csv-parse round trip (16), locked targets (17), JSON, junit, secrets.
import '../helpers/env.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, readdirSync } from 'node:fs';
import * as realFs from 'node:fs/promises';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { Redactor } from '../../src/secrets.js';
import { csvCell, needsFormulaEscape, unescapeFormula } from '../../src/report/csv.js';
import { csvHeader, junitXml, resultsCsv, resultsJson, writeReports, type ReportFs, type ReportInput } from '../../src/report/results.js';
import { tempDir } from '../helpers/tmp.js';
import { result } from './build.js';

const INJECTIONS = ['=HYPERLINK("http://x","y")', '+1', '-1', '@SUM(A1)', '\t=1', '\r=1', '\n=1', ' =1', '＝1', '\u0000=1', '＋1', '－1', '＠x', '  @x', '\u3000=1'];
const SAFE = ['gw-1', 'a=b', 'x+1', 'café', '1.2.3.4', "'quoted", ''];
const MARKER = 'SECRET-MARKER-1234';

function injectionInput(): ReportInput {
  const results = INJECTIONS.map((v, i) =>
    result({
      line: i + 2,
      status: 'failed',
      errorCode: 'IllegalParam.Name',
      errorMessage: `The name ${v} is invalid`.replace(/^The name /, '') /* message starts with the payload */,
      echo: { region: 'cn-hangzhou', ip: `10.0.0.${i + 2}`, name: v, description: v },
    }),
  );
  return { columns: ['region', 'ip', 'name', 'description'], results, manifest: 'branches.csv', runId: 'run-1', command: 'apply' };
}

function parseCsv(text: string): string[][] {
  return parse(text, { bom: true, relax_column_count: false }) as string[][];
}

test('case 15: every injection value gets a leading quote and is quoted; safe values are untouched', () => {
  for (const v of INJECTIONS) {
    assert.ok(needsFormulaEscape(v), JSON.stringify(v));
    const cell = csvCell(v);
    assert.ok(cell.startsWith(`"'`), `${JSON.stringify(v)} -> ${JSON.stringify(cell)}`);
    assert.ok(cell.endsWith('"'));
  }
  for (const v of SAFE) {
    assert.equal(needsFormulaEscape(v), false, JSON.stringify(v));
    assert.ok(csvCell(v).startsWith('"') && !csvCell(v).startsWith(`"'`) || v.startsWith("'"));
  }
  assert.equal(csvCell('=HYPERLINK("http://x","y")'), `"'=HYPERLINK(""http://x"",""y"")"`);
  assert.equal(csvCell(-5), '-5');
  assert.equal(csvCell(0), '0');
  assert.equal(csvCell('-5'), `"'-5"`, 'a string -5 from the manifest is text, so it is escaped');
});

test('case 15: results.csv escapes name, description and error message; BOM, CRLF, numbers bare', () => {
  const text = resultsCsv(injectionInput());
  assert.ok(text.startsWith('\uFEFF"line"'));
  assert.ok(text.endsWith('\r\n'));
  // Every record ends in CRLF; the only bare LFs are inside quoted cells (the `\n=1` payload).
  const records = parseCsv(text);
  assert.equal(records.length, INJECTIONS.length + 1);
  const header = records[0]!;
  const col = (n: string) => header.indexOf(n);
  records.slice(1).forEach((rec, i) => {
    const v = INJECTIONS[i]!;
    assert.equal(rec[col('name')], "'" + v);
    assert.equal(rec[col('description')], "'" + v);
    assert.equal(rec[col('error_message')]!.startsWith("'"), true, `message for ${JSON.stringify(v)}`);
    assert.equal(rec[col('attempts')], '1');
  });
  // Raw text: numeric columns are unquoted, the line number first.
  const firstData = text.split('\r\n')[1]!;
  assert.match(firstData, /^2,"cn-hangzhou","10\.0\.0\.2",/);
  assert.match(firstData, /,1,120$/);
});

test('a numeric -5 stays -5 in the CSV', () => {
  const text = resultsCsv({ columns: [], results: [result({ line: 3, durationMs: -5 })], manifest: 'm.csv' });
  assert.match(text.split('\r\n')[1]!, /,1,-5$/);
});

test('case 16: csv-parse reads results.csv back to the same values apart from the documented quote', () => {
  const input = injectionInput();
  input.results.push(
    result({ line: 40, echo: { region: 'cn-hangzhou', ip: '10.0.0.40', name: 'multi\r\nline, "quoted"', description: 'naïve 北京 ✓' } }),
  );
  const text = resultsCsv(input);
  assert.equal(text.charCodeAt(0), 0xfeff);
  // Outside quoted cells every line break is CRLF.
  assert.equal(/[^\r]\n/.test(text.replace(/"(?:[^"]|"")*"/g, '""')), false);
  const records = parseCsv(text);
  assert.deepEqual(records[0], csvHeader(input.columns));
  input.results.forEach((r, i) => {
    const rec = records[i + 1]!.map(unescapeFormula);
    assert.deepEqual(rec, [
      String(r.line),
      r.echo.region,
      r.echo.ip,
      r.echo.name,
      r.echo.description,
      r.status,
      r.gatewayId ?? '',
      r.errorCode ?? '',
      r.errorMessage ?? '',
      r.requestId ?? '',
      String(r.attempts),
      String(r.durationMs),
    ]);
  });
});

test('echo columns that collide with ours are prefixed input:, and missing echo cells are empty', () => {
  const input: ReportInput = {
    columns: ['ip', 'Status', 'line'],
    results: [result({ line: 2, echo: { ip: '1.1.1.1', Status: 'planned' } })],
    manifest: 'm.csv',
  };
  const [header, row] = parseCsv(resultsCsv(input));
  assert.deepEqual(header, ['line', 'ip', 'input:Status', 'input:line', 'status', 'customer_gateway_id', 'error_code', 'error_message', 'request_id', 'attempts', 'duration_ms']);
  assert.deepEqual(row!.slice(0, 5), ['2', '1.1.1.1', 'planned', '', 'created']);
});

test('header cells are formula-escaped too', () => {
  const [header] = parseCsv(resultsCsv({ columns: ['=cmd'], results: [], manifest: 'm.csv' }));
  assert.equal(header![1], "'=cmd");
});

test('reports never contain a registered secret or a stack trace', () => {
  const redactor = new Redactor();
  redactor.add(MARKER);
  const input: ReportInput = {
    columns: ['name', 'note'],
    results: [
      result({
        line: 2,
        status: 'failed',
        errorCode: 'InternalError',
        errorMessage: `boom AuthKey=${MARKER}\n    at send (/x/pop-client.js:10:5)\n    at process (node:internal)`,
        echo: { name: `has ${MARKER} inside`, note: `"q"${MARKER}` },
      }),
    ],
    manifest: 'm.csv',
  };
  for (const text of [resultsCsv(input, { redactor }), resultsJson(input, { redactor }), junitXml(input, { redactor })]) {
    assert.equal(text.includes(MARKER), false);
    assert.equal(/\n\s+at /.test(text.replace(/^\s+<\/?\w.*$/gm, '')), false, 'no stack frames');
    assert.equal(text.includes('pop-client.js'), false);
  }
  // Without a redactor, stack frames are still dropped.
  assert.equal(resultsCsv(input).includes('pop-client.js'), false);
});

test('results.json has the same per-row fields, run metadata and a summary', () => {
  const input: ReportInput = {
    columns: ['region', 'ip', 'name'],
    results: [result({ line: 2 }), result({ line: 3, status: 'failed', errorCode: 'IllegalParam.Asn', errorMessage: 'bad asn', requestId: 'req-1', attempts: 2 })],
    manifest: 'branches.csv',
    runId: 'run-9',
    startedAt: '2024-01-02T03:04:05.000Z',
    finishedAt: '2024-01-02T03:05:05.000Z',
    command: 'apply',
  };
  const doc = JSON.parse(resultsJson(input));
  assert.equal(doc.version, 1);
  assert.equal(doc.run_id, 'run-9');
  assert.equal(doc.command, 'apply');
  assert.equal(doc.manifest, 'branches.csv');
  assert.deepEqual(doc.summary.byStatus, { created: 1, failed: 1 });
  assert.deepEqual(doc.summary.failedByCode, { 'IllegalParam.Asn': 1 });
  assert.deepEqual(doc.rows[1], {
    line: 3,
    file: 'branches.csv',
    key: 'cn-hangzhou/10.0.0.3',
    region: 'cn-hangzhou',
    ip: '10.0.0.3',
    input: { region: 'cn-hangzhou', ip: '10.0.0.3', name: 'gw-3' },
    status: 'failed',
    customer_gateway_id: null,
    error_code: 'IllegalParam.Asn',
    error_message: 'bad asn',
    error_class: null,
    request_id: 'req-1',
    attempts: 2,
    duration_ms: 120,
  });
  assert.equal(doc.rows[0].customer_gateway_id, 'cgw-2');
});

/** Minimal well-formedness check: balanced tags, only the five entities or char refs, no raw control chars. */
function assertWellFormedXml(xml: string): void {
  // eslint-disable-next-line no-control-regex
  assert.equal(/[\u0000-\u0008\u000B\u000C\u000E-\u001F]/.test(xml), false, 'no control characters');
  const body = xml.replace(/^<\?xml[^?]*\?>\s*/, '');
  const stack: string[] = [];
  const re = /<(\/?)([A-Za-z][\w-]*)((?:\s+[\w:-]+="[^"<]*")*)\s*(\/?)>|([<>])|&(?!(?:amp|lt|gt|quot|apos|#\d+);)/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(body))) {
    assert.equal(m[5], undefined, `stray ${m[5]} at ${m.index}: ${body.slice(m.index - 20, m.index + 20)}`);
    assert.notEqual(m[0][0], '&', `bare & at ${m.index}`);
    const [, close, name, , self] = m;
    if (self) continue;
    if (close) assert.equal(stack.pop(), name);
    else stack.push(name!);
  }
  assert.deepEqual(stack, []);
}

test('junit.xml: one testcase per row, failures and skips, everything escaped', () => {
  const nasty = `<a href="x">&'\u0001\u0007\u001b[31m\uFFFF`;
  const input: ReportInput = {
    columns: ['name'],
    results: [
      result({ line: 2, echo: { name: nasty } }),
      result({ line: 3, region: 'cn-shanghai', status: 'failed', errorCode: 'Bad<&>"Code', errorMessage: nasty, errorClass: 'terminal' }),
      result({ line: 4, status: 'skipped' }),
      result({ line: 5, status: 'pending' }),
    ],
    manifest: 'a&b.csv',
  };
  const xml = junitXml(input);
  assertWellFormedXml(xml);
  assert.equal((xml.match(/<testcase /g) ?? []).length, 4);
  assert.match(xml, /<testsuites name="cgw-batch apply a&amp;b\.csv" tests="4" failures="1" skipped="2"/);
  assert.match(xml, /<testcase classname="cn-hangzhou" name="line 2 10\.0\.0\.2 &lt;a href=&quot;x&quot;&gt;&amp;&apos;\[31m"/);
  assert.match(xml, /<failure message="Bad&lt;&amp;&gt;&quot;Code" type="terminal">&lt;a href="x"&gt;&amp;'\[31m<\/failure>/);
  assert.match(xml, /<skipped message="skipped"\/>/);
  assert.match(xml, /<skipped message="not finished \(pending\)"\/>/);
  assert.match(xml, /<testsuite name="cn-shanghai" tests="1" failures="1"/);
});

test('writeReports writes the three files atomically, creating the directory', async () => {
  const t = tempDir();
  try {
    const dir = join(t.dir, 'reports', 'nested');
    const r = await writeReports(dir, injectionInput(), {});
    assert.deepEqual(r.warnings, []);
    assert.deepEqual(r.files.map((f) => f.slice(dir.length + 1)), ['results.csv', 'results.json', 'junit.xml']);
    assert.deepEqual(readdirSync(dir).sort(), ['junit.xml', 'results.csv', 'results.json'], 'no temp files left');
    assert.equal(readFileSync(join(dir, 'results.csv'), 'utf8'), resultsCsv(injectionInput()));
    // Rewriting replaces the files in place.
    await writeReports(dir, { ...injectionInput(), results: [] }, {});
    assert.equal(parseCsv(readFileSync(join(dir, 'results.csv'), 'utf8')).length, 1);
  } finally {
    t.cleanup();
  }
});

test('case 17: a target that is a directory is written under a timestamped name, with a warning', async () => {
  const t = tempDir();
  try {
    mkdirSync(join(t.dir, 'results.csv', 'inside'), { recursive: true });
    const now = () => new Date('2024-01-02T03:04:05.678Z');
    const r = await writeReports(t.dir, injectionInput(), { now });
    const alt = join(t.dir, 'results-20240102T030405Z.csv');
    assert.ok(r.files.includes(alt));
    assert.equal(r.warnings.length, 1);
    assert.match(r.warnings[0]!, /results\.csv could not be replaced .*wrote .*results-20240102T030405Z\.csv instead/);
    assert.equal(readFileSync(alt, 'utf8'), resultsCsv(injectionInput()));
    assert.ok(r.files.includes(join(t.dir, 'results.json')));
  } finally {
    t.cleanup();
  }
});

/** The real file system with some calls replaced (fault injection for the report writer). */
function realFsWith(over: Partial<ReportFs>): ReportFs {
  return {
    mkdir: (p, o) => realFs.mkdir(p, o),
    writeFile: (p, d, o) => realFs.writeFile(p, d, o),
    rm: (p, o) => realFs.rm(p, o),
    rename: (a, b) => realFs.rename(a, b),
    ...over,
  };
}

test('case 17: EBUSY / EPERM / EACCES injected on rename fall back; other errors throw', async () => {
  for (const code of ['EBUSY', 'EPERM', 'EACCES']) {
    const t = tempDir();
    try {
      const fs = realFsWith({
        rename: async (from, to) => {
          if (to.endsWith('results.csv')) throw Object.assign(new Error(`${code}: locked`), { code });
          return realFs.rename(from, to);
        },
      });
      const r = await writeReports(t.dir, injectionInput(), { fs, now: () => new Date('2024-05-06T07:08:09Z') });
      assert.match(r.warnings.join('\n'), new RegExp(`${code}.*results-20240506T070809Z\\.csv`));
      assert.deepEqual(readdirSync(t.dir).sort(), ['junit.xml', 'results-20240506T070809Z.csv', 'results.json']);
    } finally {
      t.cleanup();
    }
  }
  const t = tempDir();
  try {
    const fs = realFsWith({
      writeFile: async () => {
        throw Object.assign(new Error('ENOSPC: full'), { code: 'ENOSPC' });
      },
    });
    await assert.rejects(writeReports(t.dir, injectionInput(), { fs }), /ENOSPC/);
  } finally {
    t.cleanup();
  }
});

test('case 17: when the fallback fails too, the warning says the report was not written', async () => {
  const t = tempDir();
  try {
    const fs = realFsWith({
      rename: async (from, to) => {
        if (to.includes('results') && to.endsWith('.csv')) throw Object.assign(new Error('EBUSY'), { code: 'EBUSY' });
        return realFs.rename(from, to);
      },
    });
    const r = await writeReports(t.dir, injectionInput(), { fs });
    assert.match(r.warnings.join('\n'), /could not write results\.csv/);
    assert.equal(r.files.some((f) => f.endsWith('.csv')), false);
    assert.deepEqual(readdirSync(t.dir).sort(), ['junit.xml', 'results.json'], 'temp files cleaned up');
  } finally {
    t.cleanup();
  }
});
