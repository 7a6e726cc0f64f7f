// One lane per (account, region): its send scheduler, its row cap, and a coalesced inventory listing for reconciliation.
import pLimit, { type LimitFunction } from 'p-limit';
import type { CloudError } from '../cloud/errors.js';
import { toCloudError } from '../cloud/errors.js';
import type { CustomerGateway, VpcClient } from '../cloud/types.js';
import type { Clock } from './clock.js';
import { LaneScheduler, type SchedulerOptions } from './scheduler.js';
import { backoffMs, type RetryPolicy } from './retry.js';

export class Lane {
  readonly scheduler: LaneScheduler;
  /** Rows in progress (waiting for a send slot, on the wire or backing off); the scheduler caps requests on the wire. */
  readonly limit: LimitFunction;
  total = 0;
  private listing: { startedAt: number; promise: Promise<CustomerGateway[]> } | undefined;

  constructor(
    readonly name: string,
    readonly region: string,
    readonly client: VpcClient,
    private readonly clock: Clock,
    private readonly random: () => number,
    scheduler: Omit<SchedulerOptions, 'clock' | 'random'>,
  ) {
    this.scheduler = new LaneScheduler({ ...scheduler, clock, random });
    this.limit = pLimit(Math.max(1, scheduler.maxConcurrency));
  }

  /**
   * The region's gateways as listed after `notBefore` (ms). Concurrent reconciliations share one listing,
   * but never one that started before the error that asked for it (it could miss the gateway).
   */
  async inventorySince(notBefore: number, policy: RetryPolicy, signal?: AbortSignal): Promise<CustomerGateway[]> {
    if (this.listing && this.listing.startedAt >= notBefore) return this.listing.promise;
    const startedAt = this.clock.now();
    const promise = this.listWithRetry(policy, signal);
    this.listing = { startedAt, promise };
    promise.catch(() => {
      if (this.listing?.promise === promise) this.listing = undefined;
    });
    return promise;
  }

  private async listWithRetry(policy: RetryPolicy, signal?: AbortSignal): Promise<CustomerGateway[]> {
    let last: CloudError | undefined;
    for (let attempt = 1; attempt <= policy.maxAttempts; attempt++) {
      try {
        return await this.client.listCustomerGateways(this.region);
      } catch (e) {
        last = toCloudError(e);
        if (!last.retryable || signal?.aborted) throw last;
        const wait = last.retryAfterMs ?? backoffMs(policy, attempt, this.random);
        await this.clock.sleep(wait, signal);
      }
    }
    throw last ?? new Error('unreachable');
  }
}
