// Builders for site-row executor tests: hand-made planned rows with a site part (as the planner will make them), and
// the options over a FakeVpn on a clock the test picks.
import { seededRandom } from '../../src/clock.js';
import type { Clock } from '../../src/clock.js';
import type { ExecuteOptions } from '../../src/execute/execute.js';
import type { PlanAction, PlannedResource, PlannedRow, RunEvent, SiteSpec } from '../../src/types.js';
import { FakeVpn, asClient } from '../helpers/fake-vpc.js';
import { MemoryJournal } from '../helpers/memory-journal.js';
import { REGION } from './fixture.js';

export const GW_A = 'vpn-aaaa0001';
export const GW_B = 'vpn-bbbb0002';
export const GW_DUAL = 'vpn-dual0003';

/** ClientTokens that show every part of their derivation (the resource part included). */
export const token = (j: string, region: string, ip: string, gen: number, resource?: string): string => `tok-${j}-${region}-${ip}-${gen}${resource ? `-${resource}` : ''}`;
/** Keyed fingerprints stand-in: never the key itself. */
export const fingerprint = (k: string): string => `fp:${k.length}:${[...k].reduce((a, c) => (a * 31 + c.charCodeAt(0)) % 1_000_003, 7)}`;

export function site(over: Partial<SiteSpec> = {}): SiteSpec {
  return {
    vpnGatewayId: GW_A,
    localSubnet: ['10.0.0.0/16'],
    remoteSubnet: ['192.168.1.0/24'],
    profile: {
      ike: { version: 'ikev2', mode: 'main', encAlg: 'aes256', authAlg: 'sha256', pfs: 'group14', lifetime: 86400 },
      ipsec: { encAlg: 'aes256', authAlg: 'sha256', pfs: 'group14', lifetime: 3600 },
      enableDpd: true,
      enableNatTraversal: true,
    },
    psk: { kind: 'generate' },
    ...over,
  };
}

let counter = 0;
/** A site row: its gateway's action, its connection's, and the site spec; ip_2 adds the second gateway part. */
export function siteRow(
  ip: string,
  gatewayAction: PlanAction,
  connectionAction: PlanAction,
  spec: Partial<SiteSpec> = {},
  extra: { row?: Partial<PlannedRow>; connection?: Partial<PlannedResource>; gateway2?: Partial<PlannedResource>; region?: string; line?: number } = {},
): PlannedRow {
  const region = extra.region ?? REGION;
  const ref = { key: `${region}/${ip}`, file: 'sites.csv', line: extra.line ?? ++counter + 1, region, ip };
  const s = site(spec);
  const gen = (a: PlanAction) => (a === 'create' || a === 'retry' || a === 'resume' || a === 'replace' ? { generation: 1 } : {});
  return {
    ref,
    action: gatewayAction,
    reason: `${gatewayAction} (test)`,
    issues: [],
    inRun: true,
    row: { ref, spec: { region, ip, name: `site-${ip}`, tags: [] }, echo: { ip }, site: s },
    ...gen(gatewayAction),
    ...(s.ip2 !== undefined ? { gateway2: { key: `${region}/${s.ip2}`, action: gatewayAction, reason: `${gatewayAction} (test)`, ...gen(gatewayAction), ...extra.gateway2 } } : {}),
    connection: { key: ref.key, action: connectionAction, reason: `${connectionAction} connection (test)`, ...gen(connectionAction), ...extra.connection },
    ...extra.row,
  };
}

export type SiteOptions = ExecuteOptions & { events: RunEvent[]; journal: MemoryJournal };

export function siteOpts(fake: FakeVpn, rows: PlannedRow[], over: Partial<Omit<ExecuteOptions, 'journal'>> & { journal?: MemoryJournal; clock?: Clock } = {}): SiteOptions {
  const events: RunEvent[] = [];
  let n = 0;
  return {
    rows,
    runId: 'run-s',
    journalId: 'J1',
    journal: over.journal ?? new MemoryJournal(),
    clientFor: () => asClient(fake),
    account: 'AK',
    makeToken: token,
    fingerprint,
    newPsk: () => `Generated-Key-${++n}-0123456789`,
    rate: 1000,
    clock: fake.clock,
    random: seededRandom(3),
    onEvent: (e: RunEvent) => events.push(e),
    events,
    ...over,
  } as SiteOptions;
}

/** A fake with two single-tunnel gateways and a dual-tunnel one in REGION, tasks of 2 s on `clock`. */
export function vpnFake(clock: Clock): FakeVpn {
  const fake = new FakeVpn(clock);
  fake.addVpnGateway({ id: GW_A, internetIp: '47.96.0.1' });
  fake.addVpnGateway({ id: GW_B, internetIp: '47.96.0.2' });
  fake.addVpnGateway({ id: GW_DUAL, internetIp: '47.96.0.3', disasterRecoveryInternetIp: '47.96.0.4' });
  return fake;
}
