// Report renderers: formula escaping (case 15), csv-parse round trip (16), results.json and the per-run file, junit
// validity; they never carry stack traces (secrets are the sink's job: see write.test.ts).
import '../helpers/env.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parse } from 'csv-parse/sync';
import { csvCell, needsFormulaEscape, unescapeFormula } from '../../src/csv-cells.js';
import type { ReportInput, RunBlock } from '../../src/report/input.js';
import { junitXml } from '../../src/report/junit.js';
import { RESULT_COLUMNS, csvHeader, resultsCsv, resultsJson, runJson } from '../../src/report/results.js';
import { result } from './build.js';

const INJECTIONS = ['=HYPERLINK("http://x","y")', '+1', '-1', '@SUM(A1)', '\t=1', '\r=1', '\n=1', ' =1', '＝1', '\u0000=1', '＋1', '－1', '＠x', '  @x', '\u3000=1'];
const SAFE = ['gw-1', 'a=b', 'x+1', 'café', '1.2.3.4', "'quoted", ''];

function injectionInput(): ReportInput {
  const results = INJECTIONS.map((v, i) =>
    result({
      line: i + 2,
      status: 'failed',
      errorCode: 'IllegalParam.Name',
      // The message starts with the payload.
      errorMessage: `${v} is invalid`,
      echo: { region: 'cn-hangzhou', ip: `10.0.0.${i + 2}`, name: v, description: v },
      note: v,
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
    assert.ok((csvCell(v).startsWith('"') && !csvCell(v).startsWith(`"'`)) || v.startsWith("'"));
  }
  assert.equal(csvCell('=HYPERLINK("http://x","y")'), `"'=HYPERLINK(""http://x"",""y"")"`);
  assert.equal(csvCell(-5), '-5');
  assert.equal(csvCell(0), '0');
  assert.equal(csvCell('-5'), `"'-5"`, 'a string -5 from the manifest is text, so it is escaped');
});

test('case 15: results.csv escapes name, description, error message and note; BOM, CRLF, numbers bare', () => {
  const text = resultsCsv(injectionInput());
  assert.ok(text.startsWith('\uFEFF"region","ip","name","description","line","status"'), 'input columns first, then line, as results.xlsx');
  assert.ok(text.endsWith('\r\n'));
  const records = parseCsv(text);
  assert.equal(records.length, INJECTIONS.length + 1);
  const header = records[0]!;
  const col = (n: string) => header.indexOf(n);
  records.slice(1).forEach((rec, i) => {
    const v = INJECTIONS[i]!;
    assert.equal(rec[col('name')], "'" + v);
    assert.equal(rec[col('description')], "'" + v);
    assert.equal(rec[col('error_message')]!.startsWith("'"), true, `message for ${JSON.stringify(v)}`);
    assert.equal(rec[col('run_note')]!.startsWith("'"), true, `note for ${JSON.stringify(v)}`);
    assert.equal(rec[col('attempts')], '1');
  });
  // Raw text: the input columns first, then the line number; attempts and duration bare, every string quoted.
  const firstData = text.split('\r\n')[1]!;
  assert.match(firstData, /^"cn-hangzhou","10\.0\.0\.2",.*,2,"failed",/);
  assert.match(firstData, /,"req-2","req-2",1,120,"create","yes","'=HYPERLINK\(""http:\/\/x"",""y""\)"$/);
});

test('a numeric -5 stays -5 in the CSV', () => {
  const text = resultsCsv({ columns: [], results: [result({ line: 3, durationMs: -5 })], manifest: 'm.csv' });
  assert.match(text.split('\r\n')[1]!, /,1,-5,"create","yes",""$/);
});

test('case 16: csv-parse reads results.csv back to the same values apart from the documented quote', () => {
  const input = injectionInput();
  input.results.push(
    result({
      line: 40,
      echo: { region: 'cn-hangzhou', ip: '10.0.0.40', name: 'multi\r\nline, "quoted"', description: 'naïve 北京 ✓' },
      requestIds: ['req-a', 'req-b', 'req-c'],
      attempts: 3,
      inRun: false,
      action: 'skip',
      note: 'not in this run (--only): last state kept',
    }),
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
      r.echo['region'],
      r.echo['ip'],
      r.echo['name'],
      r.echo['description'],
      String(r.ref.line),
      r.status,
      r.gatewayId ?? '',
      r.errorCode ?? '',
      r.errorMessage ?? '',
      r.requestIds.at(-1) ?? '',
      r.requestIds.join(' '),
      String(r.attempts),
      String(r.durationMs),
      r.action,
      r.inRun ? 'yes' : 'no',
      r.note ?? '',
    ]);
  });
});

test('echo columns that collide with ours are prefixed input:, and missing echo cells are empty', () => {
  const input: ReportInput = {
    columns: ['ip', 'Status', 'line', 'run_note'],
    results: [result({ line: 2, echo: { ip: '1.1.1.1', Status: 'planned' } })],
    manifest: 'm.csv',
  };
  const [header, row] = parseCsv(resultsCsv(input));
  assert.deepEqual(header, ['ip', 'input:Status', 'input:line', 'input:run_note', 'line', ...RESULT_COLUMNS]);
  assert.deepEqual(row!.slice(0, 6), ['1.1.1.1', 'planned', '', '', '2', 'created']);
});

test('results.csv has results.xlsx\'s column order, and saved as the next manifest it loads in either order', async () => {
  const input: ReportInput = {
    columns: ['region', 'ip', 'name', 'asn'],
    results: [
      result({ line: 2, echo: { region: 'cn-hangzhou', ip: '203.0.113.2', name: 'hz-2', asn: '65002' } }),
      result({ line: 3, status: 'failed', errorCode: 'InvalidName', echo: { region: 'cn-hangzhou', ip: '203.0.113.3', name: 'hz-3', asn: '65003' } }),
    ],
    manifest: 'm.csv',
  };
  const text = resultsCsv(input);
  const { xlsxTable } = await import('../../src/report/results.js');
  const table = xlsxTable(input, (s) => s);
  assert.deepEqual(parseCsv(text)[0], table.header, 'the same header as results.xlsx');
  assert.deepEqual(parseCsv(text).slice(1).map((r) => r.slice(0, 6)), table.rows.map((r) => r.slice(0, 6)), 'the same cells in the same places');
  const { parseCsv: loadCsv } = await import('../../src/load/index.js');
  // Today's order, and the order of earlier versions (line first): both load as the same manifest.
  const old = text.replace(/^\uFEFF"region","ip","name","asn","line",(.*)$/m, '\uFEFF"line","region","ip","name","asn",$1').replace(/^"(cn-hangzhou)","([\d.]+)","(hz-\d)","(\d+)",(\d+),/gm, '$5,"$1","$2","$3","$4",');
  assert.notEqual(old, text);
  for (const csv of [text, old]) {
    const m = loadCsv(Buffer.from(csv, 'utf8'), 'retry.csv', { env: {} });
    assert.deepEqual(m.columns, ['region', 'ip', 'name', 'asn']);
    assert.deepEqual(m.rows.map((r) => [r.fields.region, r.fields.ip, r.fields.name, r.fields.asn]), [
      ['cn-hangzhou', '203.0.113.2', 'hz-2', '65002'],
      ['cn-hangzhou', '203.0.113.3', 'hz-3', '65003'],
    ]);
    assert.equal(m.origin?.resultsFile, true, 'recognised as a results file');
  }
});

test('header cells are formula-escaped too', () => {
  const [header] = parseCsv(resultsCsv({ columns: ['=cmd'], results: [], manifest: 'm.csv' }));
  assert.equal(header![0], "'=cmd");
});

test('reports never contain a stack trace; other line breaks in messages are kept', () => {
  const input: ReportInput = {
    columns: ['name'],
    results: [
      result({
        line: 2,
        status: 'failed',
        errorCode: 'InternalError',
        errorMessage: `boom\nsecond line\n    at send (/x/pop-client.js:10:5)\n    at process (node:internal)`,
        echo: { name: 'a' },
      }),
    ],
    manifest: 'm.csv',
  };
  for (const text of [resultsCsv(input), resultsJson(input), junitXml(input), runJson({ ...input, run: RUN })]) {
    assert.equal(text.includes('pop-client.js'), false, text);
    assert.equal(text.includes('node:internal'), false);
  }
  const rec = parseCsv(resultsCsv(input))[1]!;
  assert.equal(rec[csvHeader(['name']).indexOf('error_message')], 'boom\nsecond line');
});

const RUN: RunBlock = {
  command: 'apply',
  startedAt: '2024-01-02T03:04:05.000Z',
  finishedAt: '2024-01-02T03:05:05.000Z',
  exitCode: 1,
  counts: { created: 1, failed: 1, 'not in this run': 1 },
  requests: 4,
  throttled: 0,
  accountId: '1234567890',
  endpoint: 'https://vpc.aliyuncs.com',
};

function mixed(): ReportInput {
  return {
    columns: ['region', 'ip', 'name'],
    results: [
      result({ line: 2 }),
      result({ line: 3, status: 'failed', errorCode: 'IllegalParam.Asn', errorMessage: 'bad asn', errorClass: 'terminal', requestIds: ['req-0', 'req-1'], attempts: 2 }),
      result({ line: 4, status: 'failed', errorCode: 'Resource.QuotaFull', errorMessage: 'quota', inRun: false, action: 'retry', note: 'not in this run (--only): last state kept' }),
    ],
    manifest: 'branches.csv',
    runId: 'run-9',
    command: 'apply',
    run: RUN,
  };
}

test('results.json: every row with its truth, the run block apart, and a summary', () => {
  const doc = JSON.parse(resultsJson(mixed()));
  assert.equal(doc.version, 2);
  assert.equal(doc.generator, 'cgw-batch');
  assert.equal(doc.run_id, 'run-9');
  assert.equal(doc.journal_id, null);
  assert.equal(doc.command, 'apply');
  assert.equal(doc.manifest, 'branches.csv');
  assert.deepEqual(doc.run, RUN);
  assert.deepEqual(doc.columns, ['region', 'ip', 'name']);
  // The summary counts outcomes, as the run block does: the row --only left out is not a failure of this run.
  assert.deepEqual(doc.summary.byOutcome, RUN.counts);
  assert.deepEqual(doc.summary.failedByCode, { 'IllegalParam.Asn': 1 });
  assert.deepEqual(doc.rows[1], {
    line: 3,
    file: 'branches.csv',
    key: 'cn-hangzhou/10.0.0.3',
    region: 'cn-hangzhou',
    ip: '10.0.0.3',
    input: { region: 'cn-hangzhou', ip: '10.0.0.3', name: 'gw-3' },
    status: 'failed',
    outcome: 'failed',
    customer_gateway_id: null,
    error_code: 'IllegalParam.Asn',
    error_message: 'bad asn',
    error_class: 'terminal',
    request_id: 'req-1',
    request_ids: ['req-0', 'req-1'],
    attempts: 2,
    duration_ms: 120,
    plan_action: 'create',
    in_this_run: true,
    run_note: null,
  });
  assert.equal(doc.rows[0].customer_gateway_id, 'cgw-2');
  // A row --only left out keeps its real error, marked as not in this run.
  assert.equal(doc.rows[2].in_this_run, false);
  assert.equal(doc.rows[2].error_code, 'Resource.QuotaFull');
  assert.match(doc.rows[2].run_note, /not in this run/);
  assert.equal(JSON.parse(resultsJson({ columns: [], results: [], manifest: 'm.csv' })).run, null);
});

test('the per-run file has the run block and only the rows this run was asked to do', () => {
  const doc = JSON.parse(runJson(mixed()));
  assert.equal(doc.version, 2);
  assert.deepEqual(doc.run, RUN);
  assert.deepEqual(
    doc.rows.map((r: { line: number }) => r.line),
    [2, 3],
  );
  assert.deepEqual(doc.rows[1], {
    line: 3,
    key: 'cn-hangzhou/10.0.0.3',
    action: 'create',
    status: 'failed',
    outcome: 'failed',
    customer_gateway_id: null,
    error_code: 'IllegalParam.Asn',
    error_message: 'bad asn',
    request_ids: ['req-0', 'req-1'],
    note: null,
  });
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

test('junit.xml: one testcase per row, failures and skips with reasons, everything escaped', () => {
  const nasty = `<a href="x">&'\u0001\u0007\u001b[31m\uFFFF`;
  const input: ReportInput = {
    columns: ['name'],
    results: [
      result({ line: 2, echo: { name: nasty } }),
      result({ line: 3, region: 'cn-shanghai', status: 'failed', errorCode: 'Bad<&>"Code', errorMessage: nasty, errorClass: 'terminal', requestIds: ['r-1', 'r-2'] }),
      result({ line: 4, status: 'skipped', action: 'skip' }),
      result({ line: 5, status: 'pending', requestIds: [] }),
      result({ line: 6, inRun: false, action: 'skip' }),
      result({ line: 7, status: 'pending', action: 'blocked', note: 'needs --allow-replace', requestIds: [] }),
      result({ line: 8, status: 'invalid', action: 'invalid', errorCode: 'IllegalParam.Asn', errorMessage: 'invalid row, not sent: bad ASN', errorClass: 'invalid', requestIds: [] }),
    ],
    manifest: 'a&b.csv',
    run: RUN,
  };
  const xml = junitXml(input);
  assertWellFormedXml(xml);
  assert.equal((xml.match(/<testcase /g) ?? []).length, 7);
  // Time is the run's wall time (60 s), not the sum of the rows' durations.
  assert.match(xml, /<testsuites name="cgw-batch apply a&amp;b\.csv" tests="7" failures="3" skipped="2" errors="0" time="60\.000">/);
  assert.match(xml, /<testcase classname="cn-hangzhou" name="line 2 10\.0\.0\.2 &lt;a href=&quot;x&quot;&gt;&amp;&apos;\[31m"/);
  assert.match(xml, /<failure message="Bad&lt;&amp;&gt;&quot;Code" type="terminal">&lt;a href="x"&gt;&amp;'\[31m\nRequestIds: r-1 r-2<\/failure>/);
  assert.match(xml, /<system-out>unchanged cgw-4<\/system-out>/);
  assert.match(xml, /<skipped message="not started"\/>/);
  assert.match(xml, /<skipped message="not in this run"\/>/);
  assert.match(xml, /<failure message="Cgw\.Blocked">needs --allow-replace<\/failure>/);
  assert.match(xml, /<failure message="IllegalParam\.Asn" type="invalid">invalid row, not sent: bad ASN<\/failure>/);
  assert.match(xml, /<system-out>created cgw-2<\/system-out>/);
  assert.match(xml, /<testsuite name="cn-shanghai" tests="1" failures="1" skipped="0" errors="0" time="60\.000" timestamp="2024-01-02T03:04:05\.000Z">/);
  assert.match(xml, /<testcase classname="cn-shanghai" name="line 3 10\.0\.0\.3 gw-3" file="branches\.csv" time="0\.120">/);
});
