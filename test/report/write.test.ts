// The guarded report writer: targets checked before any request (manifest, journal, links, FIFOs, directories, files
// it did not write), atomic writes with one redaction at the sink, the locked-target fallback (case 17), and failures
// after the run that are warnings naming the path and the OS error, never a throw.
import '../helpers/env.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import * as realFs from 'node:fs/promises';
import { join, relative } from 'node:path';
import { UsageError } from '../../src/errors.js';
import type { ReportInput } from '../../src/report/input.js';
import { junitXml } from '../../src/report/junit.js';
import { resultsCsv, resultsJson, runJson } from '../../src/report/results.js';
import { INDEX, checkReportTargets, reportNames, stamp, writeReportFiles, type ReportFs } from '../../src/report/write.js';
import { Redactor } from '../../src/secrets.js';
import { tempDir } from '../helpers/tmp.js';
import { result } from './build.js';

const MARKER = 'SECRET-MARKER-1234';
const NAMES = ['results.csv', 'results.json', 'junit.xml', 'results.xlsx'];

function input(): ReportInput {
  return {
    columns: ['region', 'ip', 'name'],
    results: [result({ line: 2 }), result({ line: 3, status: 'failed', errorCode: 'E', errorMessage: `AuthKey ${MARKER} rejected`, echo: { name: `has ${MARKER}` } })],
    manifest: 'branches.csv',
    runId: 'run-1',
    command: 'apply',
    run: { command: 'apply', startedAt: '2024-01-02T03:04:05.000Z', finishedAt: '2024-01-02T03:05:05.000Z', exitCode: 1, counts: { created: 1, failed: 1 } },
  };
}

function docs(inp = input()): Array<[string, string | Uint8Array]> {
  return [
    ['results.csv', resultsCsv(inp)],
    ['results.json', resultsJson(inp)],
    ['junit.xml', junitXml(inp)],
    [join('runs', `${stamp(new Date(inp.run!.finishedAt))}-apply.json`), runJson(inp)],
  ];
}

/** The real file system with some calls replaced (fault injection for the report writer). */
function realFsWith(over: Partial<ReportFs>): ReportFs {
  return {
    mkdir: (p, o) => realFs.mkdir(p, o),
    writeFile: (p, d, o) => realFs.writeFile(p, d, o),
    rm: (p, o) => realFs.rm(p, o),
    rename: (a, b) => realFs.rename(a, b),
    lstat: (p) => realFs.lstat(p),
    readFile: (p, e) => realFs.readFile(p, e),
    realpath: (p) => realFs.realpath(p),
    ...over,
  };
}

const fail = (code: string) => () => Promise.reject(Object.assign(new Error(`${code}: injected`), { code }));

async function refused(p: Promise<void>, re: RegExp): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof UsageError, String(e));
    assert.match(e.message, re);
    return true;
  });
}

test('reportNames: destroy and import have their own files; apply, plan and report share one set', () => {
  assert.deepEqual(reportNames('apply'), { csv: 'results.csv', json: 'results.json', junit: 'junit.xml', xlsx: 'results.xlsx' });
  assert.deepEqual(reportNames('report'), reportNames('apply'));
  assert.deepEqual(reportNames('destroy'), { csv: 'destroy-results.csv', json: 'destroy-results.json', junit: 'destroy-junit.xml', xlsx: 'destroy-results.xlsx' });
  assert.deepEqual(reportNames('import'), { csv: 'import-results.csv', json: 'import-results.json', junit: 'import-junit.xml', xlsx: 'import-results.xlsx' });
  const apply = Object.values(reportNames('apply'));
  for (const c of ['destroy', 'import']) for (const n of Object.values(reportNames(c))) assert.equal(apply.includes(n), false, n);
});

test('stamp: sortable and legal in Windows file names', () => {
  assert.equal(stamp(new Date('2024-01-02T03:04:05.678Z')), '20240102T030405Z');
});

test('checkReportTargets: a fresh or empty directory is fine', async () => {
  const t = tempDir();
  try {
    await checkReportTargets(join(t.dir, 'missing'), NAMES, []);
    await checkReportTargets(t.dir, NAMES, [t.path('branches.csv')]);
  } finally {
    t.cleanup();
  }
});

test('checkReportTargets refuses the manifest or the journal as a target, also through a linked directory', async () => {
  const t = tempDir({ 'in/results.csv': 'region,ip\ncn-hangzhou,1.2.3.4\n', 'in/junit.xml': '{"t":"header"}\n' });
  try {
    const manifest = t.path('in/results.csv');
    const journal = t.path('in/junit.xml');
    await refused(checkReportTargets(t.path('in'), NAMES, [manifest, journal]), /in\/results\.csv would overwrite the manifest or the journal/);
    await refused(checkReportTargets(t.path('in'), ['junit.xml'], [manifest, journal]), /junit\.xml would overwrite the manifest or the journal/);
    // --report-dir a link to the manifest's folder: the same file by another path.
    symlinkSync(t.path('in'), t.path('linked'));
    await refused(checkReportTargets(t.path('linked'), NAMES, [manifest]), /would overwrite the manifest/);
    // Given relative to the current directory, the same file is still recognised.
    await refused(checkReportTargets(t.path('in'), NAMES, [relative(process.cwd(), manifest)]), /would overwrite the manifest/);
  } finally {
    t.cleanup();
  }
});

test('checkReportTargets refuses a symlink, a directory or a FIFO at a target name', async () => {
  const t = tempDir({ 'elsewhere.txt': 'precious' });
  try {
    symlinkSync(t.path('elsewhere.txt'), t.path('results.json'));
    await refused(checkReportTargets(t.dir, NAMES, []), /results\.json is a symbolic link/);
    // A dangling link too: writing through it would create a file somewhere else.
    const u = tempDir();
    symlinkSync(join(u.dir, 'nowhere'), u.path('junit.xml'));
    await refused(checkReportTargets(u.dir, NAMES, []), /junit\.xml is a symbolic link/);
    u.cleanup();
    const d = tempDir();
    mkdirSync(d.path('results.csv'));
    await refused(checkReportTargets(d.dir, NAMES, []), /results\.csv exists and is not a regular file/);
    d.cleanup();
    const f = tempDir();
    execFileSync('mkfifo', [f.path('results.csv')]);
    // lstat first: a FIFO is refused without being opened (reading it would block).
    await refused(checkReportTargets(f.dir, NAMES, []), /results\.csv exists and is not a regular file/);
    f.cleanup();
    // The per-run files' folder: a link to elsewhere (or a file) there would be written through.
    const r = tempDir();
    mkdirSync(r.path('outside'));
    mkdirSync(r.path('reports'));
    symlinkSync(r.path('outside'), r.path('reports/runs'));
    await refused(checkReportTargets(r.path('reports'), NAMES, []), /runs is not a plain directory/);
    r.cleanup();
  } finally {
    t.cleanup();
  }
});

test('checkReportTargets refuses a file it did not write (no index entry, no signature)', async () => {
  for (const [name, body] of [
    ['results.csv', 'region,ip\ncn-hangzhou,1.2.3.4\n'],
    ['results.json', '{"mine": true}\n'],
    ['junit.xml', '<?xml version="1.0"?><testsuites name="other tool"/>'],
    ['results.xlsx', 'PK\u0003\u0004'],
  ] as const) {
    const t = tempDir({ [name]: body });
    try {
      await refused(checkReportTargets(t.dir, NAMES, []), new RegExp(`${name.replace('.', '\\.')} exists and was not written by cgw-batch`));
      // An index that is not ours (unparseable) vouches for nothing.
      writeFileSync(t.path(INDEX), '{not json');
      await refused(checkReportTargets(t.dir, NAMES, []), /was not written by cgw-batch/);
    } finally {
      t.cleanup();
    }
  }
});

test('checkReportTargets accepts its own earlier files (index) and reports of the previous version (signature)', async () => {
  const t = tempDir();
  try {
    const r = await writeReportFiles(t.dir, [...docs(), ['results.xlsx', new Uint8Array([0x50, 0x4b, 3, 4])]]);
    assert.deepEqual(r.warnings, []);
    await checkReportTargets(t.dir, NAMES, []);
    // The index names every file written, the per-run file included.
    const index = JSON.parse(readFileSync(t.path(INDEX), 'utf8'));
    assert.deepEqual(index.files, ['junit.xml', 'results.csv', 'results.json', 'results.xlsx', 'runs/20240102T030505Z-apply.json']);
  } finally {
    t.cleanup();
  }
  const old = tempDir({
    'results.csv': '\uFEFF"line","region","status"\r\n2,"cn-hangzhou","created"\r\n',
    'results.json': '{\n  "version": 1,\n  "command": "apply",\n  "rows": []\n}\n',
    'junit.xml': '<?xml version="1.0" encoding="UTF-8"?>\n<testsuites name="cgw-batch apply m.csv" tests="0">\n</testsuites>\n',
    'destroy-results.csv': '\uFEFF"line","status"\r\n',
  });
  try {
    await checkReportTargets(old.dir, [...NAMES.slice(0, 3), 'destroy-results.csv'], []);
  } finally {
    old.cleanup();
  }
});

test('without the index (deleted, or lost with a copied folder) its own files are recognised by their content, a user\'s are not', async () => {
  const { resultsXlsx } = await import('../../src/report/xlsx.js');
  const { workbook } = await import('../load/workbook.js');
  const t = tempDir();
  try {
    const ours = await resultsXlsx({ header: ['region', 'ip', 'line', 'status'], rows: [['cn-hangzhou', '1.2.3.4', '2', 'created']], inputColumns: 2 });
    const r = await writeReportFiles(t.dir, [...docs(), ['results.xlsx', ours]]);
    assert.deepEqual(r.warnings, []);
    rmSync(t.path(INDEX));
    await checkReportTargets(t.dir, NAMES, []);
    // A workbook a person made (even one with the same columns) and a CSV without our result columns are theirs.
    writeFileSync(t.path('results.xlsx'), await workbook({ Results: [['region', 'ip', 'line', 'status'], ['cn-hangzhou', '1.2.3.4', '2', 'created']] }));
    await refused(checkReportTargets(t.dir, NAMES, []), /results\.xlsx exists and was not written by cgw-batch/);
    writeFileSync(t.path('results.xlsx'), ours);
    writeFileSync(t.path('results.csv'), '\uFEFF"region","ip","line","state"\r\n"cn-hangzhou","1.2.3.4",2,"ok"\r\n');
    await refused(checkReportTargets(t.dir, NAMES, []), /results\.csv exists and was not written by cgw-batch/);
  } finally {
    t.cleanup();
  }
});

test('writeReportFiles: atomic files (no temp left), the directory and runs/ created, redacted once at the sink', async () => {
  const t = tempDir();
  try {
    const redactor = new Redactor();
    redactor.add(MARKER);
    const dir = join(t.dir, 'reports', 'nested');
    const bytes = new Uint8Array([1, 2, 3, 255]);
    const r = await writeReportFiles(dir, [...docs(), ['results.xlsx', bytes]], { redactor });
    assert.deepEqual(r.warnings, []);
    assert.deepEqual(
      r.files.map((f) => f.slice(dir.length + 1)),
      ['results.csv', 'results.json', 'junit.xml', join('runs', '20240102T030505Z-apply.json'), 'results.xlsx'],
    );
    assert.deepEqual(readdirSync(dir).sort(), [INDEX, 'junit.xml', 'results.csv', 'results.json', 'results.xlsx', 'runs']);
    assert.deepEqual(readdirSync(join(dir, 'runs')), ['20240102T030505Z-apply.json']);
    for (const name of ['results.csv', 'results.json', 'junit.xml', join('runs', '20240102T030505Z-apply.json')]) {
      const text = readFileSync(join(dir, name), 'utf8');
      assert.equal(text.includes(MARKER), false, name);
      assert.ok(text.includes('***'), name);
    }
    // Bytes (the xlsx) are written as they are.
    assert.deepEqual(new Uint8Array(readFileSync(join(dir, 'results.xlsx'))), bytes);
    assert.equal(readFileSync(join(dir, 'results.csv'), 'utf8'), resultsCsv(input()).replaceAll(MARKER, '***'));
    // Rewriting replaces the files in place.
    await writeReportFiles(dir, [['results.csv', resultsCsv({ ...input(), results: [] })]]);
    assert.equal(readFileSync(join(dir, 'results.csv'), 'utf8').split('\r\n').length, 2);
  } finally {
    t.cleanup();
  }
});

test('case 17: EBUSY / EPERM / EACCES on rename (open in Excel) fall back to a timestamped name, with a warning', async () => {
  for (const code of ['EBUSY', 'EPERM', 'EACCES']) {
    const t = tempDir();
    try {
      const fs = realFsWith({
        rename: async (from, to) => {
          if (to.endsWith('results.csv')) throw Object.assign(new Error(`${code}: locked`), { code });
          return realFs.rename(from, to);
        },
      });
      const r = await writeReportFiles(t.dir, docs(), { fs, now: () => new Date('2024-05-06T07:08:09Z') });
      assert.equal(r.warnings.length, 1);
      assert.match(r.warnings[0]!, new RegExp(`results\\.csv could not be replaced \\(${code}; is it open in Excel\\?\\); wrote .*results-20240506T070809Z\\.csv instead`));
      assert.ok(r.files.includes(t.path('results-20240506T070809Z.csv')));
      assert.deepEqual(readdirSync(t.dir).sort(), [INDEX, 'junit.xml', 'results-20240506T070809Z.csv', 'results.json', 'runs']);
      // The fallback is ours too: the next run may replace it.
      assert.ok(JSON.parse(readFileSync(t.path(INDEX), 'utf8')).files.includes('results-20240506T070809Z.csv'));
    } finally {
      t.cleanup();
    }
  }
});

test('case 17: when the fallback fails too, the warning names both paths and the OS error; temp files are removed', async () => {
  const t = tempDir();
  try {
    const fs = realFsWith({
      rename: async (from, to) => {
        if (to.includes('results') && to.endsWith('.csv')) throw Object.assign(new Error('EBUSY'), { code: 'EBUSY' });
        return realFs.rename(from, to);
      },
    });
    const r = await writeReportFiles(t.dir, docs(), { fs, now: () => new Date('2024-05-06T07:08:09Z') });
    assert.equal(r.warnings.length, 1);
    assert.equal(r.warnings[0], `could not write results.csv: ${t.path('results.csv')} (EBUSY) and ${t.path('results-20240506T070809Z.csv')} (EBUSY)`);
    assert.equal(r.files.some((f) => f.endsWith('.csv')), false);
    assert.deepEqual(readdirSync(t.dir).sort(), [INDEX, 'junit.xml', 'results.json', 'runs'], 'temp files cleaned up');
  } finally {
    t.cleanup();
  }
});

test('writeReportFiles never throws: a full disk gives one warning per file with its path and the OS error', async () => {
  const t = tempDir();
  try {
    const fs = realFsWith({ writeFile: fail('ENOSPC') });
    const r = await writeReportFiles(t.dir, docs(), { fs });
    assert.deepEqual(r.files, []);
    assert.equal(r.warnings.length, 4);
    assert.equal(r.warnings[0], `could not write ${t.path('results.csv')} (ENOSPC); the journal has every row (cgw-batch report writes the reports again)`);
    assert.ok(r.warnings[3]!.includes(t.path(join('runs', '20240102T030505Z-apply.json'))));
    assert.deepEqual(readdirSync(t.dir), ['runs'], 'nothing half-written');
  } finally {
    t.cleanup();
  }
});

test('writeReportFiles never throws: an unwritable directory (EACCES) warns with the path and the error', async () => {
  const t = tempDir();
  try {
    const dir = t.path('reports');
    const noDir = await writeReportFiles(dir, docs(), { fs: realFsWith({ mkdir: fail('EACCES') }) });
    assert.deepEqual(noDir.files, []);
    assert.deepEqual(noDir.warnings, [`could not create the report directory ${dir} (EACCES); no reports written (the journal has every row)`]);
    // The directory exists but refuses new files: the fallback name is tried, then both are named.
    const readOnly = await writeReportFiles(t.dir, [['results.csv', 'x']], { fs: realFsWith({ writeFile: fail('EACCES') }), now: () => new Date('2024-05-06T07:08:09Z') });
    assert.deepEqual(readOnly.files, []);
    assert.deepEqual(readOnly.warnings, [`could not write results.csv: ${t.path('results.csv')} (EACCES) and ${t.path('results-20240506T070809Z.csv')} (EACCES)`]);
    // Any other failure (a read-only file system) is one warning too.
    const erofs = await writeReportFiles(t.dir, [['results.csv', 'x']], { fs: realFsWith({ rename: fail('EROFS') }) });
    assert.match(erofs.warnings.join('\n'), /could not write .*results\.csv \(EROFS\)/);
  } finally {
    t.cleanup();
  }
});
