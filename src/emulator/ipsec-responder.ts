// `--ipsec`: the Alibaba side of every IPsec connection as a real strongSwan responder. Keeps the daemon's config in
// step with the store (a connection's new settings take effect when its task ends, as on the gateway), and answers
// each connection's negotiation Status from the daemon's real SAs (read on every SA event and once a second).
import type { NegotiationQuery, NegotiationSource } from './action-kit.js';
import { startIpsecHost, BRIDGE, type IpsecHost } from './ipsec-host.js';
import {
  childHash,
  ikeHash,
  loadConnMessage,
  planResponder,
  sharedSecretMessage,
  tunnelsOf,
  type ResponderPlan,
  type ResponderTunnel,
} from './ipsec-plan.js';
import { isPhase2Failure, readSas, tunnelStatuses, type IkeSa } from './ipsec-status.js';
import type { Store } from './store.js';
import type { ViciMessage } from './vici.js';
import type { NegotiationStatus } from './vpn-model.js';

/** How often the store is compared with what the daemon holds, and the SAs read without an event. */
const SYNC_MS = 200;
const SA_POLL_MS = 1000;

export interface IpsecInfo {
  /** The network namespace the responders run in. */
  namespace: string;
  /** The bridge in it that holds the gateway addresses: attach a branch's veth there. */
  bridge: string;
  /** The daemon's folder (strongswan.conf, the vici socket, charon.log); removed on close. */
  dir: string;
  /** The gateway addresses on the bridge now. */
  addresses(): string[];
  /** The peers loaded (no PSKs) and each tunnel's status as last read, for the admin API and tests. */
  view(): IpsecView;
}

export interface IpsecView {
  namespace: string;
  bridge: string;
  dir: string;
  addresses: string[];
  peers: Array<{ name: string; gatewayIp: string; customerIp: string; version: number; children: Array<{ name: string; key: string }> }>;
  statuses: Record<string, NegotiationStatus>;
  sas: IkeSa[];
  skipped: ResponderPlan['skipped'];
}

interface Applied {
  ike: string;
  children: Map<string, string>;
}

export class IpsecResponder {
  private plan: ResponderPlan = { addresses: [], vpcAddresses: [], peers: [], skipped: [] };
  private readonly applied = new Map<string, Applied>();
  /** Each connection's tunnels as last configured: kept while a task runs on it (the gateway applies at the end). */
  private effective = new Map<string, ResponderTunnel[]>();
  private statuses = new Map<string, NegotiationStatus>();
  private sas: IkeSa[] = [];
  /** IKE_SAs (unique id) whose log said a CHILD_SA failed, with the log event's sequence number. */
  private readonly phase2Failed = new Map<string, number>();
  private logSeq = 0;
  private readonly timers: NodeJS.Timeout[] = [];
  private syncing: Promise<void> | undefined;
  private reading: Promise<void> | undefined;
  private readAgain = false;
  private closed = false;
  private addresses: string[] = [];
  private readonly reported = new Set<string>();

  private constructor(
    private readonly host: IpsecHost,
    private readonly store: Store,
    private readonly clock: () => number,
    private readonly log: (line: string) => void,
  ) {}

  static async start(store: Store, clock: () => number, log: (line: string) => void): Promise<IpsecResponder> {
    const host = await startIpsecHost();
    const r = new IpsecResponder(host, store, clock, log);
    try {
      for (const ev of ['ike-updown', 'child-updown', 'ike-rekey', 'child-rekey']) await host.vici.subscribe(ev, () => r.readSoon());
      await host.vici.subscribe('log', (m) => r.onLog(m));
      await r.sync();
      await r.readSas();
    } catch (e) {
      await host.close();
      throw e;
    }
    r.timers.push(setInterval(() => void r.sync(), SYNC_MS), setInterval(() => r.readSoon(), SA_POLL_MS));
    for (const t of r.timers) t.unref();
    return r;
  }

  /** The NegotiationSource: a tunnel's status from the SAs last read; undefined for what the responder does not hold. */
  readonly status: NegotiationSource = (q: NegotiationQuery) => this.statuses.get(q.tunnelId ? `${q.vpnConnectionId}/${q.tunnelId}` : q.vpnConnectionId);

  info(): IpsecInfo {
    return { namespace: this.host.namespace, bridge: BRIDGE, dir: this.host.dir, addresses: () => [...this.addresses], view: () => this.view() };
  }

  private view(): IpsecView {
    return {
      namespace: this.host.namespace,
      bridge: BRIDGE,
      dir: this.host.dir,
      addresses: [...this.addresses],
      peers: this.plan.peers.map((p) => ({
        name: p.name,
        gatewayIp: p.gatewayIp,
        customerIp: p.customerIp,
        version: p.version,
        children: p.children.map((c) => ({ name: c.name, key: c.key })),
      })),
      statuses: Object.fromEntries(this.statuses),
      sas: structuredClone(this.sas),
      skipped: [...this.plan.skipped],
    };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const t of this.timers) clearInterval(t);
    await Promise.allSettled([this.syncing, this.reading]);
    await this.host.close();
  }

  /** One pass at a time: the store's connections -> the plan -> what changed is loaded, unloaded and terminated. */
  private sync(): Promise<void> {
    if (this.closed) return Promise.resolve();
    if (!this.syncing) {
      this.syncing = this.syncOnce()
        .catch((e) => this.problem('sync', `the IPsec responder could not be reconfigured: ${e instanceof Error ? e.message : String(e)}`))
        .finally(() => {
          this.syncing = undefined;
        });
    }
    return this.syncing;
  }

  private desired(): { tunnels: ResponderTunnel[]; addresses: string[] } {
    const now = this.clock();
    this.store.settle(now);
    const effective = new Map<string, ResponderTunnel[]>();
    const addresses: string[] = [];
    for (const { region } of this.store.allRegions()) {
      for (const g of region.vpnGateways.values()) {
        addresses.push(g.InternetIp);
        if (g.DisasterRecoveryInternetIp) addresses.push(g.DisasterRecoveryInternetIp);
      }
      for (const c of region.connections.values()) {
        const g = region.vpnGateways.get(c.VpnGatewayId);
        if (!g) continue;
        const running = c.task !== undefined && c.task.until > now;
        effective.set(c.VpnConnectionId, running ? (this.effective.get(c.VpnConnectionId) ?? []) : g.IpsecVpn === 'enable' ? tunnelsOf(c, g, region.gateways) : []);
      }
    }
    this.effective = effective;
    return { tunnels: [...effective.values()].flat(), addresses };
  }

  private async syncOnce(): Promise<void> {
    const { tunnels, addresses } = this.desired();
    const plan = planResponder(tunnels, addresses);
    if (plan.addresses.join() !== this.addresses.join() || plan.vpcAddresses.join() !== this.plan.vpcAddresses.join()) {
      // Before the configs: a CHILD_SA's policies install only once its VPC address is there.
      await this.host.setAddresses(plan.addresses, plan.vpcAddresses);
      this.addresses = plan.addresses;
    }
    for (const s of plan.skipped) this.problem(`skip:${s.key}`, `IPsec responder: ${s.key} is not configured: ${s.why}`);
    const wanted = new Map(plan.peers.map((p) => [p.name, p]));
    let changed = false;
    for (const name of [...this.applied.keys()]) {
      if (wanted.has(name)) continue;
      await this.command('terminate', { ike: name, force: 'yes', timeout: '1000' }, true);
      await this.command('unload-conn', { name }, true);
      await this.command('unload-shared', { id: `psk-${name}` }, true);
      this.applied.delete(name);
      changed = true;
    }
    for (const p of plan.peers) {
      const prev = this.applied.get(p.name);
      const ike = ikeHash(p);
      const children = new Map(p.children.map((c) => [c.name, childHash(c)]));
      const same = prev && prev.ike === ike && prev.children.size === children.size && [...children].every(([k, h]) => prev.children.get(k) === h);
      if (same) continue;
      if (!prev || prev.ike !== ike) await this.command('load-shared', sharedSecretMessage(p));
      await this.command('load-conn', loadConnMessage(p));
      if (prev && prev.ike !== ike) {
        // New PSK or IKE settings: the SA negotiated with the old ones goes (the gateway resets the tunnel).
        await this.command('terminate', { ike: p.name, force: 'yes', timeout: '1000' }, true);
      } else if (prev) {
        for (const [child, h] of prev.children) {
          if (children.get(child) !== h) await this.command('terminate', { child, force: 'yes', timeout: '1000' }, true);
        }
      }
      this.applied.set(p.name, { ike, children });
      changed = true;
    }
    this.plan = plan;
    if (changed) this.readSoon();
  }

  private async command(name: string, msg: ViciMessage, mayFail = false): Promise<void> {
    const { response } = await this.host.vici.request(name, msg);
    if (response['success'] === 'no' && !mayFail) {
      throw new Error(`${name}: ${String(response['errmsg'] ?? 'failed').slice(0, 200)}`);
    }
  }

  private readSoon(): void {
    if (this.closed) return;
    if (this.reading) {
      this.readAgain = true;
      return;
    }
    this.reading = this.readSas()
      .catch((e) => this.problem('read', `the IPsec responder's SAs could not be read: ${e instanceof Error ? e.message : String(e)}`))
      .finally(() => {
        this.reading = undefined;
        if (this.readAgain) {
          this.readAgain = false;
          this.readSoon();
        }
      });
  }

  private async readSas(): Promise<void> {
    const mark = this.logSeq;
    const { events } = await this.host.vici.request('list-sas', {}, 'list-sa');
    const sas = readSas(events);
    const ids = new Set(sas.map((s) => s.uniqueId));
    // An IKE_SA gone from the list takes its failure with it; one logged after this read began may not be listed yet.
    for (const [id, seq] of this.phase2Failed) if (seq < mark && !ids.has(id)) this.phase2Failed.delete(id);
    this.sas = sas;
    this.statuses = tunnelStatuses(this.plan.peers, sas, new Set(this.phase2Failed.keys()));
  }

  private onLog(m: ViciMessage): void {
    const id = m['ikesa-uniqueid'];
    this.logSeq++;
    if (typeof id === 'string' && typeof m['msg'] === 'string' && isPhase2Failure(m['msg'])) {
      this.phase2Failed.set(id, this.logSeq);
      this.readSoon();
    }
  }

  /** Each problem once (a sync every 200 ms must not flood the log). */
  private problem(key: string, line: string): void {
    if (this.reported.has(key)) return;
    this.reported.add(key);
    this.log(line);
  }
}
