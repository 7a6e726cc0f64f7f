// Builders for executor tests: planned rows (as the planner makes them), options over a fake cloud, and plan-then-execute.
import { seededRandom } from '../../src/clock.js';
import { executePlan, type ExecuteOptions, type ExecuteResult } from '../../src/execute/execute.js';
import { planManifest } from '../../src/plan/plan.js';
import { EXECUTABLE, type GatewaySpec, type Plan, type PlanFlags, type PlannedRow, type RunEvent } from '../../src/types.js';
import { VirtualClock } from '../helpers/fake-clock.js';
import { FakeVpc, asClient } from '../helpers/fake-vpc.js';
import { MemoryJournal } from '../helpers/memory-journal.js';
import { manifest, wrow } from '../plan/builders.js';

export const REGION = 'cn-hangzhou';
export const token = (runId: string, region: string, ip: string, gen: number): string => `tok-${runId}-${region}-${ip}-${gen}`;
export const fingerprint = (k: string): string => `fp:${k.length}`;

export function planned(ip: string, action: PlannedRow['action'], spec: Partial<GatewaySpec> = {}, extra: Partial<PlannedRow> = {}, region = REGION, line = 2): PlannedRow {
  const ref = { key: `${region}/${ip}`, file: 'm.csv', line, region, ip };
  return {
    ref,
    action,
    reason: `${action} (test)`,
    issues: [],
    inRun: true,
    row: { ref, spec: { region, ip, tags: [], ...spec }, echo: {} },
    ...(action === 'create' || action === 'retry' || action === 'resume' ? { generation: 1 } : {}),
    ...extra,
  };
}

/** n creates named site-<i>, lines from 2. */
export function creates(n: number, region = REGION, base = 1): PlannedRow[] {
  return Array.from({ length: n }, (_, i) => planned(`203.0.113.${base + i}`, 'create', { name: `site-${base + i}` }, {}, region, i + 2));
}

export type TestOptions = ExecuteOptions & { events: RunEvent[]; journal: MemoryJournal };

export function opts(over: Partial<Omit<ExecuteOptions, 'journal'>> & { fake: FakeVpc; journal?: MemoryJournal }): TestOptions {
  const events: RunEvent[] = [];
  const { fake, ...rest } = over;
  return {
    rows: creates(5),
    runId: 'run-a',
    journalId: 'run1',
    journal: over.journal ?? new MemoryJournal(),
    clientFor: () => asClient(fake),
    account: 'AK',
    makeToken: token,
    fingerprint,
    rate: 1000,
    clock: new VirtualClock(),
    random: seededRandom(1),
    onEvent: (e: RunEvent) => events.push(e),
    events,
    ...rest,
  } as unknown as TestOptions;
}

/** One run as apply does it: plan from the journal (and, online, the fake's listing), then carry out that plan. */
export async function planAndRun(
  fake: FakeVpc,
  journal: MemoryJournal,
  rows: Array<{ ip: string; name?: string; asn?: string; description?: string }>,
  flags: Partial<PlanFlags> = {},
  over: Partial<Omit<ExecuteOptions, 'journal'>> = {},
): Promise<{ plan: Plan; exec: ExecuteResult }> {
  const m = manifest(rows.map((r, i) => wrow({ ip: r.ip, ...(r.name ? { name: r.name } : {}), ...(r.asn ? { asn: r.asn } : {}), ...(r.description ? { description: r.description } : {}) }, { line: i + 2 })));
  const plan = planManifest(m, {
    command: 'apply',
    online: true,
    quota: 100,
    regions: new Set([REGION]),
    inventory: new Map([[REGION, fake.gateways.filter((g) => g.regionId === REGION)]]),
    prior: journal.prior(),
    fingerprint,
    flags: { allowReplace: false, prune: false, retryFailed: false, skipInvalid: false, ...flags },
  });
  const exec = await executePlan(opts({ fake, journal, rows: plan.rows.filter((r) => r.inRun && EXECUTABLE.has(r.action)), ...over }));
  return { plan, exec };
}
