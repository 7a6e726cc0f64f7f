// Proof by negotiation (issue 19 item 3): for every set of the parameter matrix, an "Alibaba side" strongSwan
// configured from the API's view of the connection (test/helpers/ipsec-alibaba.ts, no code shared with src/device)
// and a branch strongSwan loaded with the config src/device renders must establish the IKE SA and every CHILD_SA,
// pass traffic between a branch-subnet address and a VPC address through that set's own SAs, and rekey every
// CHILD_SA (IKEv2 negotiates PFS only then). Deliberately mismatched pairs must fail, recognised by the reason in
// the daemons' logs. Many sets share one pair of daemons (one address pair each) so they negotiate side by side;
// each set with 0.0.0.0/0 selectors beyond the first gets its own pair (the selectors would overlap).
//
// kernel-libipsec (ESP in user space over a TUN device; the kernel has XFRM but no ESP here) always encapsulates ESP
// in UDP and ignores XFRM interface ids, so NAT traversal on/off, the XFRM interfaces and FRR are not proven here.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { renderSite } from '../../src/device/render.js';
import { alibabaSide, type AlibabaSide } from '../helpers/ipsec-alibaba.js';
import { matrix, type MatrixSet } from '../helpers/ipsec-matrix.js';
import {
  collectLogs,
  giveUpSeconds,
  ipBatch,
  ipsecSkipReason,
  loadAll,
  ping,
  startPair,
  stopLeftovers,
  stopPair,
  type LogLine,
  type Pair,
} from '../helpers/ipsec-netns.js';
import { listSas, type SaInfo } from '../helpers/ipsec-vici.js';

const skip = ipsecSkipReason();
const SETS = matrix();

interface Plan {
  set: MatrixSet;
  group: number;
  ali: AlibabaSide;
  /** Gateway IPs (branch's remote hosts) and customer gateway IPs of the set. */
  gatewayIps: string[];
  customerIps: string[];
  /** (branch source, VPC destination) addresses that must reach each other. */
  flows: Array<[string, string]>;
  dir: string;
}

const logs: LogLine[] = [];
const pairs: Pair[] = [];
let plans: Plan[] = [];
let root = '';
const timings: Record<string, number> = {};

function hostOf(cidr: string): string {
  const [a] = cidr.split('/');
  const parts = (a as string).split('.').map(Number);
  parts[3] = (parts[3] as number) + 1;
  return parts.join('.');
}

function flowsOf(s: MatrixSet): Array<[string, string]> {
  const c = s.connection;
  const vpc = String(c['LocalSubnet']).split(',');
  const branch = String(c['RemoteSubnet']).split(',');
  const out: Array<[string, string]> = [];
  if (vpc[0] === '0.0.0.0/0' && branch[0] === '0.0.0.0/0') out.push([`10.200.${s.n}.1`, `172.31.${s.n}.1`]);
  else for (const b of branch) for (const v of vpc) out.push([hostOf(b), hostOf(v)]);
  // BGP: the tunnel addresses themselves must reach each other (the BGP session runs between them).
  const bgp = c['VpnBgpConfig'] as Record<string, unknown> | undefined;
  if (bgp && bgp['EnableBgp'] === 'true') out.push([String(bgp['PeerBgpIp']), String(bgp['LocalBgpIp'])]);
  const opts = (c['TunnelOptionsSpecification'] as Record<string, unknown> | undefined)?.['TunnelOptions'] as Array<Record<string, unknown>> | undefined;
  if (c['EnableTunnelsBgp'] === true) {
    for (const t of opts ?? []) {
      const b = t['TunnelBgpConfig'] as Record<string, unknown>;
      out.push([String(b['PeerBgpIp']), String(b['LocalBgpIp'])]);
    }
  }
  return out;
}

function isDestination(s: MatrixSet): boolean {
  return s.connection['LocalSubnet'] === '0.0.0.0/0' && s.connection['RemoteSubnet'] === '0.0.0.0/0';
}

// --- verdicts from SAs and logs -------------------------------------------------------------------------------------

const SIGNATURES: Record<string, RegExp> = {
  auth: /AUTHENTICATION_FAILED|AUTH_FAILED|decryption failed|integrity check failed|verification of .* failed|authentication of .* failed/i,
  proposal: /NO_PROPOSAL_CHOSEN|no proposal found|no acceptable proposal/i,
  selectors: /TS_UNACCEPTABLE|no acceptable traffic selectors|no matching CHILD_SA config/i,
  identity: /no matching peer config|constraint check failed|does not match|AUTHENTICATION_FAILED/i,
};

/** The set a log line concerns: by the IKE_SA's name (branch: vco-m<n>, alibaba: ali-…-m<n>) or an address in it. */
const idToSet = new Map<string, number>();
function setOfLine(l: LogLine): number | undefined {
  const key = `${l.side}:${l.ikeId ?? ''}`;
  const byName = /(?:vco|tun)-m(\d+)/.exec(l.ikeName ?? '');
  let n = byName ? Number(byName[1]) : undefined;
  if (n === undefined) {
    const byAddr = /198\.1[89]\.[01]\.(\d+)/.exec(l.msg);
    if (byAddr) n = Number(byAddr[1]);
  }
  if (n !== undefined && l.ikeId) idToSet.set(key, n);
  return n ?? (l.ikeId ? idToSet.get(key) : undefined);
}

function failureReasons(n: number, since = 0): Set<string> {
  const out = new Set<string>();
  for (const l of logs.slice(since)) {
    if (setOfLine(l) !== n) continue;
    for (const [reason, re] of Object.entries(SIGNATURES)) if (re.test(l.msg)) out.add(reason);
  }
  return out;
}

interface Snapshot {
  branch: Map<number, SaInfo[]>;
  alibaba: Map<number, SaInfo[]>;
}

async function snapshot(): Promise<Snapshot> {
  const s: Snapshot = { branch: new Map(), alibaba: new Map() };
  await Promise.all(
    pairs.map(async (p, g) => {
      const [b, a] = await Promise.all([listSas(p.branch.vici), listSas(p.alibaba.vici)]);
      for (const plan of plans.filter((x) => x.group === g)) {
        s.branch.set(plan.set.n, b.filter((sa) => plan.gatewayIps.includes(sa.remoteHost)));
        s.alibaba.set(plan.set.n, a.filter((sa) => plan.customerIps.includes(sa.remoteHost)));
      }
    }),
  );
  return s;
}

/** Every tunnel of the set has its IKE SA established and all its CHILD_SAs installed, on both sides. */
function established(plan: Plan, snap: Snapshot): boolean {
  const br = snap.branch.get(plan.set.n) ?? [];
  const al = snap.alibaba.get(plan.set.n) ?? [];
  return plan.ali.tunnels.every((t) => {
    const a = al.find((sa) => sa.name === t.conn && sa.state === 'ESTABLISHED');
    const b = br.find((sa) => sa.remoteHost === t.gatewayIp && sa.state === 'ESTABLISHED');
    if (!a || !b) return false;
    const aInstalled = new Set(a.children.filter((c) => c.state === 'INSTALLED').map((c) => c.name));
    const bInstalled = b.children.filter((c) => c.state === 'INSTALLED');
    return t.children.every((c) => aInstalled.has(c)) && bInstalled.length >= t.children.length;
  });
}

function ikeUp(plan: Plan, snap: Snapshot): boolean {
  return plan.ali.tunnels.every((t) => (snap.branch.get(plan.set.n) ?? []).some((sa) => sa.remoteHost === t.gatewayIp && sa.state === 'ESTABLISHED'));
}

function settled(plan: Plan, snap: Snapshot): boolean {
  const e = plan.set.expect;
  if (e.established || e.stage === 'rekey') return established(plan, snap);
  return failureReasons(plan.set.n).size > 0;
}

async function until(what: string, boundMs: number, done: (s: Snapshot) => boolean): Promise<Snapshot> {
  const deadline = Date.now() + boundMs;
  let snap = await snapshot();
  while (!done(snap) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 250));
    snap = await snapshot();
  }
  timings[what] = boundMs - Math.max(0, deadline - Date.now());
  return snap;
}

/** The daemons' own give-up time bounds every wait: past it, an initiator has abandoned the attempt. */
const BOUND_MS = (giveUpSeconds() + 10) * 1000;

let afterEstablish: Snapshot | undefined;
let afterTraffic: Snapshot | undefined;
let beforeTraffic: Snapshot | undefined;
const pingResults = new Map<number, boolean[]>();
let rekeyLogStart = 0;
let afterRekey: Snapshot | undefined;
/** Each set's branch CHILD_SA ids before the rekey: afterwards every one must have a successor. */
const oldIds = new Map<number, Set<string>>();
const failover = new Map<number, { first: number; second: number | undefined; crossedAgain: boolean }>();
const startedAt = Date.now();

function childBytes(sas: SaInfo[] | undefined, dir: 'bytesOut' | 'bytesIn'): number {
  return (sas ?? []).reduce((sum, sa) => sum + sa.children.reduce((x, c) => x + c[dir], 0), 0);
}

before(async () => {
  if (skip) return;
  root = mkdtempSync(join(tmpdir(), 'cgw-ipsec-'));
  // Render every branch config with the real renderer; the Alibaba side from the API view.
  let extraGroups = 0;
  let firstDestinationTaken = false;
  plans = SETS.map((set) => {
    const dir = join(root, set.name);
    mkdirSync(dir, { recursive: true });
    const r = renderSite({ site: set.name, connection: set.branchConnection ?? set.connection, gateway: set.gateway, customerGateways: set.customerGateways }, 'strongswan');
    if (!r.ok) throw new Error(`${set.name}: the renderer refused: ${r.issues.map((i) => i.message).join('; ')}`);
    for (const f of r.files) writeFileSync(join(dir, f.name), f.text, { mode: 0o600 });
    const ali = alibabaSide(set);
    writeFileSync(join(dir, 'alibaba.conf'), ali.text, { mode: 0o600 });
    let group = 0;
    if (isDestination(set)) {
      if (firstDestinationTaken) group = ++extraGroups;
      firstDestinationTaken = true;
    }
    return {
      set,
      group,
      ali,
      dir,
      gatewayIps: [...new Set(ali.tunnels.map((t) => t.gatewayIp))],
      customerIps: [...new Set(ali.tunnels.map((t) => t.customerIp))],
      flows: flowsOf(set),
    };
  });
  const groups = extraGroups + 1;
  try {
    const t0 = Date.now();
    const started = await Promise.all(
      Array.from({ length: groups }, (_, g) => {
        const members = plans.filter((p) => p.group === g);
        return startPair(root, g, {
          branchPublic: members.flatMap((p) => p.customerIps),
          alibabaPublic: members.flatMap((p) => p.gatewayIps),
          branchInner: [...new Set(members.flatMap((p) => p.flows.map(([src]) => src)))],
          alibabaInner: [...new Set(members.flatMap((p) => p.flows.map(([, dst]) => dst)))],
          branchIncludes: members.map((p) => join(p.dir, 'strongswan.conf')).filter((f) => existsSync(f)),
        });
      }),
    );
    pairs.push(...started);
    timings['daemons up'] = Date.now() - t0;
    await Promise.all(pairs.flatMap((p) => [collectLogs(p.branch, logs), collectLogs(p.alibaba, logs)]));
    // One file per daemon including every set of its group: swanctl --load-all replaces what was loaded before.
    for (const [g, p] of pairs.entries()) {
      const members = plans.filter((x) => x.group === g);
      const aliFile = join(root, `group${g}-alibaba.conf`);
      const brFile = join(root, `group${g}-branch.conf`);
      writeFileSync(aliFile, members.map((m) => `include ${join(m.dir, 'alibaba.conf')}`).join('\n') + '\n', { mode: 0o600 });
      writeFileSync(brFile, members.map((m) => `include ${join(m.dir, 'swanctl.conf')}`).join('\n') + '\n', { mode: 0o600 });
      await loadAll(p.alibaba, aliFile);
    }
    const t1 = Date.now();
    // The branch configs say start_action = start: loading them starts every negotiation at once.
    await Promise.all(pairs.map((p, g) => loadAll(p.branch, join(root, `group${g}-branch.conf`))));
    afterEstablish = await until('negotiation', BOUND_MS, (s) => plans.every((p) => settled(p, s)));
    timings['negotiation'] = Date.now() - t1;

    // Traffic: route each inner address into the TUN device (the test's stand-in for the XFRM interfaces).
    const t2 = Date.now();
    for (const [g, p] of pairs.entries()) {
      const members = plans.filter((x) => x.group === g);
      const dsts = [...new Set(members.flatMap((m) => m.flows.map(([, d]) => d)))];
      const srcs = [...new Set(members.flatMap((m) => m.flows.map(([s]) => s)))];
      await ipBatch(p.branch.ns, dsts.map((d) => `route add ${d}/32 dev ipsec0`));
      await ipBatch(p.alibaba.ns, srcs.map((s) => `route add ${s}/32 dev ipsec0`));
    }
    beforeTraffic = await snapshot();
    await Promise.all(
      plans
        .filter((p) => p.set.expect.established)
        .map(async (p) => {
          const br = pairs[p.group] as Pair;
          pingResults.set(p.set.n, await Promise.all(p.flows.map(([s, d]) => ping(br.branch.ns, s, d))));
        }),
    );
    afterTraffic = await snapshot();
    timings['traffic'] = Date.now() - t2;

    // Rekey every CHILD_SA of the established sets and of the IKEv2 PFS mismatch (whose first CHILD_SA needs no DH).
    const t3 = Date.now();
    rekeyLogStart = logs.length;
    const toRekey = plans.filter((p) => p.set.expect.established || p.set.expect.stage === 'rekey');
    for (const p of toRekey) {
      const brSas = afterTraffic.branch.get(p.set.n) ?? [];
      const ids = brSas.flatMap((sa) => sa.children.filter((c) => c.state === 'INSTALLED').map((c) => c.uniqueid));
      oldIds.set(p.set.n, new Set(ids));
      const pair = pairs[p.group] as Pair;
      await Promise.all(ids.map((id) => pair.branch.vici.request('rekey', { 'child-id': id })));
    }
    afterRekey = await until('rekey', BOUND_MS, (s) =>
      toRekey.every((p) => {
        if (p.set.expect.established === false) return failureReasons(p.set.n, rekeyLogStart).has('proposal');
        const old = oldIds.get(p.set.n) ?? new Set();
        const fresh = (s.branch.get(p.set.n) ?? []).flatMap((sa) => sa.children.filter((c) => c.state === 'INSTALLED' && !old.has(c.uniqueid)));
        return fresh.length >= old.size;
      }),
    );
    timings['rekey'] = Date.now() - t3;

    // Dual tunnel: traffic leaves by one tunnel; close that tunnel's CHILD_SAs and it must cross by the other.
    const t4 = Date.now();
    for (const p of plans.filter((x) => x.ali.tunnels.length === 2 && x.set.expect.established)) {
      const pair = pairs[p.group] as Pair;
      const before1 = await snapshot();
      await Promise.all(p.flows.map(([s, d]) => ping(pair.branch.ns, s, d)));
      const after1 = await snapshot();
      const moved = (snapA: Snapshot, snapB: Snapshot, gw: string) =>
        childBytes((snapB.branch.get(p.set.n) ?? []).filter((sa) => sa.remoteHost === gw), 'bytesOut') -
        childBytes((snapA.branch.get(p.set.n) ?? []).filter((sa) => sa.remoteHost === gw), 'bytesOut');
      const used = p.ali.tunnels.map((t) => moved(before1, after1, t.gatewayIp));
      const first = used[0]! > 0 ? 0 : used[1]! > 0 ? 1 : -1;
      if (first < 0) {
        failover.set(p.set.n, { first, second: undefined, crossedAgain: false });
        continue;
      }
      const gw = p.ali.tunnels[first]!.gatewayIp;
      const victims = (after1.branch.get(p.set.n) ?? []).filter((sa) => sa.remoteHost === gw).flatMap((sa) => sa.children.map((c) => c.uniqueid));
      await Promise.all(victims.map((id) => pair.branch.vici.request('terminate', { 'child-id': id, timeout: '5000' })));
      const gone = await until(`failover ${p.set.name}`, BOUND_MS, (s) =>
        (s.alibaba.get(p.set.n) ?? []).filter((sa) => sa.name === p.ali.tunnels[first]!.conn).every((sa) => sa.children.every((c) => c.state !== 'INSTALLED')),
      );
      const crossed = await Promise.all(p.flows.map(([s, d]) => ping(pair.branch.ns, s, d)));
      const after2 = await snapshot();
      const other = 1 - first;
      failover.set(p.set.n, { first, second: moved(gone, after2, p.ali.tunnels[other]!.gatewayIp) > 0 ? other : undefined, crossedAgain: crossed.every(Boolean) });
    }
    timings['failover'] = Date.now() - t4;
  } catch (e) {
    await cleanup();
    throw e;
  }
});

async function cleanup(): Promise<void> {
  await Promise.all(pairs.splice(0).map((p) => stopPair(p)));
  await stopLeftovers();
  // CGW_KEEP_IPSEC=1 keeps the configs and charon logs for a post-mortem.
  if (root && !process.env['CGW_KEEP_IPSEC']) rmSync(root, { recursive: true, force: true });
  else if (root) process.stdout.write(`# kept ${root}\n`);
}

after(async () => {
  if (skip) return;
  await cleanup();
  const total = Date.now() - startedAt;
  const ok = plans.filter((p) => p.set.expect.established).length;
  process.stdout.write(
    `# negotiation matrix: ${plans.length} sets (${ok} to establish, ${plans.length - ok} mismatches) on ${new Set(plans.map((p) => p.group)).size} daemon pairs; ` +
      `${Object.entries(timings).map(([k, v]) => `${k} ${(v / 1000).toFixed(1)} s`).join(', ')}; total ${(total / 1000).toFixed(1)} s\n`,
  );
});

test('negotiation matrix', { skip: skip ?? false }, async (t) => {
  assert.ok(afterEstablish && afterTraffic && beforeTraffic && afterRekey, 'the matrix ran');
  await t.test('no PSK in either daemon\'s log', () => {
    assert.ok(logs.length > 100, `${logs.length} log lines`);
    for (const p of plans) {
      const c = p.set.connection;
      const keys = [(c['IkeConfig'] as Record<string, unknown> | undefined)?.['Psk'], ...(((c['TunnelOptionsSpecification'] as Record<string, unknown> | undefined)?.['TunnelOptions'] as Array<Record<string, unknown>> | undefined) ?? []).map((x) => (x['TunnelIkeConfig'] as Record<string, unknown>)['Psk'])].filter((k): k is string => typeof k === 'string');
      for (const k of keys) assert.ok(!logs.some((l) => l.msg.includes(k)), `${p.set.name}: PSK in a log line`);
    }
  });
  for (const p of plans) {
    const s = p.set;
    await t.test(`${s.name}: ${s.about}`, () => {
      const e = s.expect;
      if (e.established) {
        assert.ok(established(p, afterEstablish!), `${s.name}: IKE SA and every CHILD_SA established on both sides (log: ${[...failureReasons(s.n)].join(', ') || 'no failure logged'})`);
        const pings = pingResults.get(s.n) ?? [];
        assert.equal(pings.length, p.flows.length);
        p.flows.forEach(([src, dst], i) => assert.ok(pings[i], `${s.name}: ${src} -> ${dst} crossed`));
        // Through this set's own SAs: its branch CHILD_SAs sent, its Alibaba CHILD_SAs received.
        assert.ok(childBytes(afterTraffic!.branch.get(s.n), 'bytesOut') > childBytes(beforeTraffic!.branch.get(s.n), 'bytesOut'), `${s.name}: branch CHILD_SA counters moved`);
        assert.ok(childBytes(afterTraffic!.alibaba.get(s.n), 'bytesIn') > childBytes(beforeTraffic!.alibaba.get(s.n), 'bytesIn'), `${s.name}: Alibaba CHILD_SA counters moved`);
        const old = oldIds.get(s.n) ?? new Set<string>();
        const fresh = (afterRekey!.branch.get(s.n) ?? []).flatMap((sa) => sa.children.filter((c) => c.state === 'INSTALLED' && !old.has(c.uniqueid)));
        assert.ok(old.size > 0 && fresh.length >= old.size, `${s.name}: every CHILD_SA rekeyed (${fresh.length}/${old.size})`);
        if (p.ali.tunnels.length === 2) {
          const f = failover.get(s.n);
          assert.ok(f && f.first >= 0, `${s.name}: traffic left by one tunnel`);
          assert.ok(f.crossedAgain && f.second !== undefined, `${s.name}: with tunnel ${f.first + 1} closed, traffic crossed by tunnel ${2 - f.first}`);
        }
      } else if (e.stage === 'rekey') {
        assert.ok(established(p, afterEstablish!), `${s.name}: the first CHILD_SA (no DH in IKE_AUTH) established`);
        assert.ok(failureReasons(s.n, rekeyLogStart).has('proposal'), `${s.name}: the rekey was refused with NO_PROPOSAL_CHOSEN`);
      } else {
        const reasons = failureReasons(s.n);
        assert.ok(reasons.has(e.reason) || (e.reason === 'identity' && reasons.has('auth')), `${s.name}: refused for ${e.reason} (logged: ${[...reasons].join(', ') || 'nothing'})`);
        if (e.stage === 'ike') assert.ok(!ikeUp(p, afterEstablish!), `${s.name}: no IKE SA`);
        else assert.ok(!established(p, afterEstablish!), `${s.name}: no CHILD_SA`);
      }
    });
  }
});
