// One lane per (account, region): a send scheduler per API (each API has its own server bucket), the region's client,
// the quota stop for creates, and a coalesced listing for reconciliation.
import type { CustomerGateway, VpcClient } from '../cloud/types.js';
import type { Clock } from '../clock.js';
import { LaneScheduler } from './scheduler.js';

/** The API calls the executor makes, each paced by its own scheduler. */
export type Api =
  | 'CreateCustomerGateway'
  | 'ModifyCustomerGatewayAttribute'
  | 'DeleteCustomerGateway'
  | 'TagResources'
  | 'UnTagResources'
  | 'DescribeCustomerGateways'
  | 'CreateVpnConnection'
  | 'ModifyVpnConnectionAttribute'
  | 'DeleteVpnConnection'
  | 'DescribeVpnGateway'
  | 'DescribeVpnConnection'
  | 'DescribeVpnConnections';

/** Published limits per (main account, region, API), per second, as Alibaba Cloud publishes them: where adaptive pacing starts. */
export const PUBLISHED_RATES: Readonly<Record<Api, number>> = {
  CreateCustomerGateway: 2,
  ModifyCustomerGatewayAttribute: 2,
  DeleteCustomerGateway: 2,
  TagResources: 5,
  UnTagResources: 5,
  DescribeCustomerGateways: 10,
  // The connection writes' row of the limits table is not in our copy (site-to-site.md §1.6): the customer-gateway
  // writes' 120/min; they are paced far below it anyway, one per VPN gateway task.
  CreateVpnConnection: 2,
  ModifyVpnConnectionAttribute: 2,
  DeleteVpnConnection: 2,
  // 600 per minute each (published).
  DescribeVpnGateway: 10,
  DescribeVpnConnection: 10,
  DescribeVpnConnections: 10,
};

export interface LaneOptions {
  clock: Clock;
  random: () => number;
  /** `--rate`: the write rate per region when told; reads keep their published rate. */
  rate?: number;
  concurrency: number;
}

export class Lane {
  total = 0;
  /** Set when the region's quota is full: creates are not sent any more (other actions go on). */
  createsStopped: string | undefined;
  /** The API error code that stopped them (the rows it stops carry it, not `Interrupted`). */
  createsStoppedCode: string | undefined;
  private readonly schedulers = new Map<Api, LaneScheduler>();
  /** When a request of each API last succeeded in this lane: throttling since then is a limit that does not lift. */
  private readonly lastOk = new Map<Api, number>();
  private listing: { startedAt: number; promise: Promise<CustomerGateway[]> } | undefined;

  constructor(
    readonly name: string,
    readonly region: string,
    readonly client: VpcClient,
    private readonly opts: LaneOptions,
  ) {}

  scheduler(api: Api): LaneScheduler {
    let s = this.schedulers.get(api);
    if (!s) {
      const told = api.startsWith('Describe') ? undefined : this.opts.rate;
      s = new LaneScheduler({
        clock: this.opts.clock,
        random: this.opts.random,
        rate: told,
        publishedRate: PUBLISHED_RATES[api],
        maxConcurrency: this.opts.concurrency,
      });
      this.schedulers.set(api, s);
    }
    return s;
  }

  noteOk(api: Api, at: number): void {
    this.lastOk.set(api, at);
  }

  lastOkAt(api: Api): number | undefined {
    return this.lastOk.get(api);
  }

  /** Creates: the current send rate (what progress shows). */
  get rate(): number {
    return this.scheduler('CreateCustomerGateway').rate;
  }

  get inFlight(): number {
    let n = 0;
    for (const s of this.schedulers.values()) n += s.inFlight;
    return n;
  }

  /** The region's quota is full: cancel the queued creates at once; rows still to come see `createsStopped`. */
  stopCreates(message: string, code: string): void {
    if (this.createsStopped !== undefined) return;
    this.createsStopped = message;
    this.createsStoppedCode = code;
    this.schedulers.get('CreateCustomerGateway')?.close();
  }

  close(): void {
    for (const s of this.schedulers.values()) s.close();
  }

  /**
   * The region's gateways as listed after `notBefore` (ms). Concurrent reconciliations share one listing, but never
   * one that started before the error that asked for it (it could miss the gateway).
   */
  listSince(notBefore: number, list: () => Promise<CustomerGateway[]>): Promise<CustomerGateway[]> {
    if (this.listing && this.listing.startedAt >= notBefore) return this.listing.promise;
    const startedAt = this.opts.clock.now();
    const promise = list();
    this.listing = { startedAt, promise };
    promise.catch(() => {
      if (this.listing?.promise === promise) this.listing = undefined;
    });
    return promise;
  }
}
