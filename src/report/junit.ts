// junit.xml: one testcase per row so CI systems show which branch gateways failed; one testsuite per region. Passed,
// failed or skipped is the row's outcome (report/outcome.ts); a suite's time is the run's wall time.
import type { ReportInput } from './input.js';
import { junitVerdict, rowError } from './outcome.js';
import { cleanMessage } from './redact.js';
import type { ReportRow } from './truth.js';
import { xmlAttr, xmlText } from './xml.js';

/** `name`-like echo column (the manifest's gateway name), matched loosely because echo keeps original headers. */
function rowName(r: ReportRow): string {
  for (const [k, v] of Object.entries(r.echo)) if (k.trim().toLowerCase() === 'name') return v;
  return '';
}

const secs = (ms: number) => (Math.max(0, ms) / 1000).toFixed(3);

export function junitXml(inp: ReportInput): string {
  const byRegion = new Map<string, ReportRow[]>();
  for (const r of inp.results) byRegion.set(r.ref.region, [...(byRegion.get(r.ref.region) ?? []), r]);
  const count = (rs: ReportRow[], v: 'failed' | 'skipped') => rs.filter((r) => junitVerdict(r.outcome) === v).length;
  // Rows run side by side: their durations add up to far more than the run took. Without a run (report), none.
  const wall = inp.run ? secs(Date.parse(inp.run.finishedAt) - Date.parse(inp.run.startedAt)) : secs(0);
  const suiteName = `cgw-batch ${inp.command ?? 'apply'} ${inp.manifest}`;

  const out: string[] = ['<?xml version="1.0" encoding="UTF-8"?>'];
  out.push(
    `<testsuites name="${xmlAttr(suiteName)}" tests="${inp.results.length}" failures="${count(inp.results, 'failed')}" ` +
      `skipped="${count(inp.results, 'skipped')}" errors="0" time="${wall}">`,
  );
  for (const [region, rows] of byRegion) {
    const ts = inp.run?.startedAt ? ` timestamp="${xmlAttr(inp.run.startedAt)}"` : '';
    out.push(
      `  <testsuite name="${xmlAttr(region)}" tests="${rows.length}" failures="${count(rows, 'failed')}" ` +
        `skipped="${count(rows, 'skipped')}" errors="0" time="${wall}"${ts}>`,
    );
    for (const r of rows) {
      const name = [`line ${r.ref.line}`, r.ref.ip, rowName(r)].filter((s) => s !== '').join(' ');
      const open = `    <testcase classname="${xmlAttr(r.ref.region)}" name="${xmlAttr(name)}" file="${xmlAttr(r.ref.file)}" time="${secs(r.durationMs)}"`;
      const verdict = junitVerdict(r.outcome);
      if (verdict === 'failed') {
        const err = rowError(r);
        const code = err.code ?? (r.action === 'blocked' ? 'Cgw.Blocked' : 'Unknown');
        const type = err.errorClass ? ` type="${xmlAttr(err.errorClass)}"` : '';
        const why = cleanMessage(err.message ?? (r.action === 'blocked' ? r.note : '') ?? '');
        const body = why + (r.requestIds.length ? `\nRequestIds: ${r.requestIds.join(' ')}` : '');
        out.push(`${open}>`, `      <failure message="${xmlAttr(code)}"${type}>${xmlText(body)}</failure>`, '    </testcase>');
      } else if (verdict === 'skipped') {
        out.push(`${open}>`, `      <skipped message="${xmlAttr(r.outcome)}"/>`, '    </testcase>');
      } else {
        // A site names every resource it has: its gateway(s), then its connection.
        const id = [r.gatewayId, r.gateway2?.id, r.connection?.id].filter((x) => x !== undefined).map((x) => ` ${x}`).join('');
        out.push(`${open}>`, `      <system-out>${xmlText(`${r.outcome}${id}`)}</system-out>`, '    </testcase>');
      }
    }
    out.push('  </testsuite>');
  }
  out.push('</testsuites>');
  return out.join('\n') + '\n';
}
