// junit.xml: one testcase per row so CI systems show which branch gateways failed; one testsuite per region.
import type { RowResult } from '../types.js';
import type { ReportInput } from './input.js';
import { cleanMessage } from './redact.js';
import { xmlAttr, xmlText } from './xml.js';

/** `name`-like echo column (the manifest's gateway name), matched loosely because echo keeps original headers. */
function rowName(r: RowResult): string {
  for (const [k, v] of Object.entries(r.echo)) if (k.trim().toLowerCase() === 'name') return v;
  return '';
}

const secs = (ms: number) => (Math.max(0, ms) / 1000).toFixed(3);

export function junitXml(inp: ReportInput): string {
  const byRegion = new Map<string, RowResult[]>();
  for (const r of inp.results) {
    const list = byRegion.get(r.ref.region) ?? [];
    list.push(r);
    byRegion.set(r.ref.region, list);
  }
  const isFailed = (r: RowResult) => r.inRun && (r.status === 'failed' || r.status === 'invalid' || r.status === 'unknown' || r.action === 'blocked');
  // Rows not in this run, and rows an interrupted run never finished (pending / in-flight), are skipped, with the reason.
  const isSkipped = (r: RowResult) => !isFailed(r) && (!r.inRun || r.status === 'skipped' || r.status === 'pending' || r.status === 'in-flight');
  const count = (rs: RowResult[], f: (r: RowResult) => boolean) => rs.filter(f).length;
  const ms = (rs: RowResult[]) => rs.reduce((a, r) => a + r.durationMs, 0);
  const suiteName = `cgw-batch ${inp.command ?? 'apply'} ${inp.manifest}`;

  const out: string[] = ['<?xml version="1.0" encoding="UTF-8"?>'];
  out.push(
    `<testsuites name="${xmlAttr(suiteName)}" tests="${inp.results.length}" failures="${count(inp.results, isFailed)}" ` +
      `skipped="${count(inp.results, isSkipped)}" errors="0" time="${secs(ms(inp.results))}">`,
  );
  for (const [region, rows] of byRegion) {
    const ts = inp.run?.startedAt ? ` timestamp="${xmlAttr(inp.run.startedAt)}"` : '';
    out.push(
      `  <testsuite name="${xmlAttr(region)}" tests="${rows.length}" failures="${count(rows, isFailed)}" ` +
        `skipped="${count(rows, isSkipped)}" errors="0" time="${secs(ms(rows))}"${ts}>`,
    );
    for (const r of rows) {
      const name = [`line ${r.ref.line}`, r.ref.ip, rowName(r)].filter((s) => s !== '').join(' ');
      const open = `    <testcase classname="${xmlAttr(r.ref.region)}" name="${xmlAttr(name)}" file="${xmlAttr(r.ref.file)}" time="${secs(r.durationMs)}"`;
      if (isFailed(r)) {
        const code = r.errorCode ?? (r.action === 'blocked' ? 'Cgw.Blocked' : 'Unknown');
        const type = r.errorClass ? ` type="${xmlAttr(r.errorClass)}"` : '';
        const why = cleanMessage(r.errorMessage ?? (r.action === 'blocked' ? r.note : '') ?? '');
        const body = why + (r.requestIds.length ? `\nRequestIds: ${r.requestIds.join(' ')}` : '');
        out.push(`${open}>`, `      <failure message="${xmlAttr(code)}"${type}>${xmlText(body)}</failure>`, '    </testcase>');
      } else if (isSkipped(r)) {
        const msg = !r.inRun ? 'not in this run' : r.status === 'skipped' ? 'skipped' : `not finished (${r.status})`;
        out.push(`${open}>`, `      <skipped message="${xmlAttr(msg)}"/>`, '    </testcase>');
      } else {
        const id = r.gatewayId ? ` ${r.gatewayId}` : '';
        out.push(`${open}>`, `      <system-out>${xmlText(`${r.status}${id}`)}</system-out>`, '    </testcase>');
      }
    }
    out.push('  </testsuite>');
  }
  out.push('</testsuites>');
  return out.join('\n') + '\n';
}
