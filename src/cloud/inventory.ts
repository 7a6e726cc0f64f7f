// Reads what already exists: every gateway of each region (regions in parallel) and the region list.
import { setTimeout as sleep } from 'node:timers/promises';
import { toCloudError } from './errors.js';
import type { CustomerGateway, Region, VpcClient } from './types.js';

/** Retries throttling and transient failures of idempotent reads a few times (full jitter, honouring retry-after). */
export async function withReadRetry<T>(fn: () => Promise<T>, attempts = 6): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await fn();
    } catch (e) {
      const err = toCloudError(e);
      if (!err.retryable || i >= attempts) throw err;
      await sleep(err.retryAfterMs ?? Math.floor(Math.random() * Math.min(5000, 200 * 2 ** i)));
    }
  }
}

/** Lists every region in parallel: wall time follows the slowest region, not the sum. */
export async function fetchInventory(
  regions: string[],
  clientFor: (region: string) => VpcClient,
): Promise<Map<string, CustomerGateway[]>> {
  const lists = await Promise.all(regions.map((r) => withReadRetry(() => clientFor(r).listCustomerGateways(r))));
  return new Map(regions.map((r, i) => [r, lists[i] ?? []]));
}

export async function fetchRegions(client: VpcClient): Promise<Region[]> {
  return withReadRetry(() => client.describeRegions());
}

/** A map keyed by IP for one region. */
export function byIp(gateways: CustomerGateway[]): Map<string, CustomerGateway> {
  return new Map(gateways.map((g) => [g.ip, g]));
}
