// Builders for report and progress tests: RowResults with sensible defaults.
import type { RowResult } from '../../src/types.js';

export function result(over: Partial<RowResult> & { line: number }): RowResult {
  const region = over.region ?? 'cn-hangzhou';
  const ip = over.ip ?? `10.0.0.${over.line}`;
  return {
    key: `${region}/${ip}`,
    file: 'branches.csv',
    region,
    ip,
    status: 'created',
    gatewayId: over.status === 'failed' ? undefined : `cgw-${over.line}`,
    attempts: 1,
    durationMs: 120,
    echo: { region, ip, name: `gw-${over.line}` },
    ...over,
  };
}
