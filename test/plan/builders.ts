// Plain-data builders for planner tests: written rows, manifests, inventory gateways and journal rows.
import { createHash } from 'node:crypto';
import type { CustomerGateway } from '../../src/cloud/types.js';
import type { Field, Issue, Manifest, PriorRow, Tag, WrittenRow } from '../../src/types.js';

export const FILE = 'sites.csv';

export interface RowOpts {
  line?: number;
  file?: string;
  tags?: Tag[] | Record<string, string>;
  issues?: Issue[];
}

/** A written row; defaults to a valid public-IP gateway in cn-hangzhou at line 2. */
export function wrow(fields: Partial<Record<Field, string>> = {}, opts: RowOpts = {}): WrittenRow {
  const line = opts.line ?? 2;
  const tags = Array.isArray(opts.tags)
    ? opts.tags
    : Object.entries(opts.tags ?? {}).map(([key, value]) => ({ key, value }));
  return {
    file: opts.file ?? FILE,
    line,
    endLine: line,
    fields: { region: 'cn-hangzhou', ip: '203.0.113.10', ...fields },
    tags,
    echo: Object.fromEntries(Object.entries(fields).filter(([k]) => k !== 'auth_key')) as Record<string, string>,
    issues: opts.issues ?? [],
  };
}

/** Rows numbered from line 2 (line 1 is the CSV header). */
export function rows(...fields: Array<Partial<Record<Field, string>>>): WrittenRow[] {
  return fields.map((f, i) => wrow(f, { line: i + 2 }));
}

export function manifest(rs: WrittenRow[], issues: Issue[] = []): Manifest {
  return { file: FILE, format: 'csv', hash: 'h'.repeat(64), columns: ['region', 'ip', 'name'], rows: rs, issues };
}

export function gw(p: Partial<CustomerGateway> & { id: string; ip: string }): CustomerGateway {
  return { regionId: 'cn-hangzhou', createTime: 1_700_000_000_000, tags: [], ...p };
}

export function prior(key: string, p: Partial<PriorRow> = {}): PriorRow {
  return { key, status: 'created', line: 2, gatewayId: `cgw-${key.replace(/[^a-z0-9]/g, '')}`, generation: 1, tags: [], ...p };
}

export function priors(...ps: PriorRow[]): Map<string, PriorRow> {
  return new Map(ps.map((p) => [p.key, p]));
}

/** A deterministic stand-in for the keyed HMAC fingerprint. */
export const fp = (k: string): string => 'fp:' + createHash('sha256').update(k).digest('hex').slice(0, 16);

/** Some number of code points made of `ch`. */
export const chars = (n: number, ch = 'a'): string => ch.repeat(n);
