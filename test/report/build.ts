// Builders for report and progress tests: row identities and RowResults with sensible defaults.
import type { RowRef, RowResult } from '../../src/types.js';

export function ref(line: number, over: { region?: string; ip?: string; file?: string } = {}): RowRef {
  const region = over.region ?? 'cn-hangzhou';
  const ip = over.ip ?? `10.0.0.${line}`;
  return { key: `${region}/${ip}`, file: over.file ?? 'branches.csv', line, region, ip };
}

/** A result for `line` (region cn-hangzhou, ip 10.0.0.<line> unless given): created, in this run, one request. */
export function result(over: Partial<RowResult> & { line: number; region?: string; ip?: string }): RowResult {
  const { line, region, ip, ...rest } = over;
  const r = rest.ref ?? ref(line, { region, ip });
  return {
    ref: r,
    status: 'created',
    action: 'create',
    inRun: true,
    gatewayId: rest.status === 'failed' || rest.status === 'pending' ? undefined : `cgw-${line}`,
    requestIds: [`req-${line}`],
    attempts: 1,
    durationMs: 120,
    echo: { region: r.region, ip: r.ip, name: `gw-${line}` },
    ...rest,
  };
}
