// Reads what already exists: every gateway of each region (regions in parallel) and the region list, with read retries.
import { systemClock, type Clock } from '../clock.js';
import { CloudError, toCloudError } from './errors.js';
import { onAbort } from './transport.js';
import type { CustomerGateway, DescribePage, DescribePageInput, ListOptions, Region, VpcClient, VpnApi, VpnConnection, VpnGateway } from './types.js';

export interface ReadRetryOptions {
  clock?: Clock;
  signal?: AbortSignal;
  random?: () => number;
  /** Attempts for transient failures (the first call counts). */
  attempts?: number;
  /** Throttled answers are expected on big listings at the published limit; they have their own, larger cap. */
  throttledAttempts?: number;
}

export const READ_ATTEMPTS = 6;
export const READ_THROTTLED_ATTEMPTS = 30;

export function abortedError(): CloudError {
  return new CloudError({ code: 'RequestAborted', message: 'interrupted before the listing finished', errorClass: 'transient' });
}

/** Sleeps on `clock`, waking early on abort, with one shared listener per signal (see onAbort). */
export async function sleepFor(clock: Clock, ms: number, signal?: AbortSignal): Promise<void> {
  if (!signal) return clock.sleep(ms);
  const local = new AbortController();
  const off = onAbort(signal, () => local.abort());
  try {
    await clock.sleep(ms, local.signal);
  } finally {
    off();
  }
}

/**
 * Retries throttling and transient failures of one idempotent read: the server's x-acs-retry-after when given
 * (plus a little jitter, so parallel regions do not wake together), else full-jitter exponential backoff.
 */
export async function withReadRetry<T>(fn: () => Promise<T>, opts: ReadRetryOptions = {}): Promise<T> {
  const clock = opts.clock ?? systemClock;
  const random = opts.random ?? Math.random;
  const attempts = opts.attempts ?? READ_ATTEMPTS;
  const throttledAttempts = opts.throttledAttempts ?? READ_THROTTLED_ATTEMPTS;
  let failures = 0;
  let throttled = 0;
  for (;;) {
    if (opts.signal?.aborted) throw abortedError();
    try {
      return await fn();
    } catch (e) {
      const err = toCloudError(e);
      if (!err.retryable || opts.signal?.aborted) throw opts.signal?.aborted ? abortedError() : err;
      let wait: number;
      if (err.errorClass === 'throttled') {
        if (++throttled >= throttledAttempts) throw err;
        wait = (err.retryAfterMs ?? Math.min(5000, 200 * 2 ** Math.min(throttled, 5))) + Math.floor(random() * 50);
      } else {
        if (++failures >= attempts) throw err;
        wait = err.retryAfterMs ?? Math.floor(random() * Math.min(5000, 200 * 2 ** failures));
      }
      await sleepFor(clock, wait, opts.signal);
    }
  }
}

export const PAGE_SIZE = 50;
/** A server that never ends its listing must not loop us forever: 10,000 pages are 500,000 gateways. */
const MAX_PAGES = 10_000;

/**
 * Pages through DescribeCustomerGateways. Each page is retried on its own, so throttling at page 60 of 100 costs
 * a wait, never a restart at page 1. Gateways are keyed by id: one created meanwhile may shift a page boundary.
 */
export async function listAllPages(
  describe: (input: DescribePageInput, opts: ListOptions) => Promise<DescribePage>,
  regionId: string,
  opts: ListOptions = {},
): Promise<CustomerGateway[]> {
  return listEveryPage((pageNumber) => describe({ regionId, pageNumber, pageSize: PAGE_SIZE }, opts), opts);
}

/** The same paging for any Describe* list keyed by id (VPN gateways, connections). */
export async function listEveryPage<T extends { id: string }>(
  page: (pageNumber: number) => Promise<{ items: T[]; totalCount: number }>,
  opts: ListOptions = {},
): Promise<T[]> {
  const all = new Map<string, T>();
  for (let n = 1; n <= MAX_PAGES; n++) {
    const p = await withReadRetry(() => page(n), opts);
    for (const x of p.items) all.set(x.id, x);
    opts.onProgress?.(all.size, Math.max(p.totalCount, all.size));
    if (p.items.length < PAGE_SIZE || n * PAGE_SIZE >= p.totalCount) break;
  }
  return [...all.values()];
}

export interface InventoryOptions {
  clock?: Clock;
  signal?: AbortSignal;
  random?: () => number;
  /** Per region, after each page: lets the CLI show progress of long listings on stderr. */
  onProgress?: (region: string, listed: number, total: number) => void;
}

/** Lists every region in parallel: wall time follows the slowest region, not the sum. */
export async function fetchInventory(
  regions: string[],
  clientFor: (region: string) => VpcClient,
  opts: InventoryOptions = {},
): Promise<Map<string, CustomerGateway[]>> {
  const lists = await Promise.all(
    regions.map((r) =>
      clientFor(r).listCustomerGateways(r, {
        clock: opts.clock,
        signal: opts.signal,
        random: opts.random,
        onProgress: opts.onProgress ? (listed, total) => opts.onProgress?.(r, listed, total) : undefined,
      }),
    ),
  );
  return new Map(regions.map((r, i) => [r, lists[i] ?? []]));
}

/** The VPN listing calls a site plan needs; the pop-core client gains them with the IPsec-VPN calls (VpnApi). */
export type VpnLister = Pick<VpnApi, 'listVpnGateways' | 'listVpnConnections'>;

/** Whether a client can list VPN gateways and connections (until every client implements VpnApi). */
export function vpnLister(c: VpcClient): VpnLister | undefined {
  const v = c as Partial<VpnLister>;
  return typeof v.listVpnGateways === 'function' && typeof v.listVpnConnections === 'function' ? (c as VpcClient & VpnLister) : undefined;
}

/**
 * Every VPN gateway and IPsec connection of each region, regions in parallel (DescribeVpnGateways and
 * DescribeVpnConnections, paged by the client). Undefined when the client cannot list them.
 */
export async function fetchVpnInventory(
  regions: string[],
  clientFor: (region: string) => VpcClient,
  opts: InventoryOptions = {},
): Promise<Map<string, { gateways: VpnGateway[]; connections: VpnConnection[] }> | undefined> {
  const listers = regions.map((r) => vpnLister(clientFor(r)));
  if (listers.some((l) => l === undefined)) return undefined;
  const list: ListOptions = { clock: opts.clock, signal: opts.signal, random: opts.random };
  const lists = await Promise.all(
    regions.map(async (r, i) => {
      const l = listers[i]!;
      const [gateways, connections] = await Promise.all([l.listVpnGateways(r, list), l.listVpnConnections(r, {}, list)]);
      return { gateways, connections };
    }),
  );
  return new Map(regions.map((r, i) => [r, lists[i]!]));
}

export async function fetchRegions(client: VpcClient, opts: { clock?: Clock; signal?: AbortSignal } = {}): Promise<Region[]> {
  return withReadRetry(() => client.describeRegions({ signal: opts.signal }), opts);
}
