// Retry policy as data: full-jitter exponential backoff per row, and a run-wide retry budget that trips on systemic failure.
import type { CloudError } from '../cloud/errors.js';

export interface RetryPolicy {
  /** Attempts per row for transient and conflict errors (the first send counts). */
  maxAttempts: number;
  /** Throttled attempts are cheap and expected while the lane finds the server's limit; they have their own cap. */
  maxThrottledAttempts: number;
  /**
   * How long a row may be held by throttling that does not lift (measured from its first throttled request, or from
   * the lane's last success of that API if later): 60 s, the API's rate window (vpc-api.md §10, per 60 s) and the cap
   * aliyun-cli puts on its throttling waits. Throttling that outlasts a whole window is a limit, not a burst.
   */
  maxThrottledMs: number;
  baseMs: number;
  capMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { maxAttempts: 8, maxThrottledAttempts: 40, maxThrottledMs: 60_000, baseMs: 200, capMs: 20_000 };

/** Full jitter (AWS architecture blog): uniform in [0, min(cap, base * 2^(n-1))]. `n` is the number of failures so far. */
export function backoffMs(policy: RetryPolicy, failures: number, random: () => number): number {
  const exp = Math.min(policy.capMs, policy.baseMs * 2 ** Math.max(0, failures - 1));
  return Math.floor(random() * exp);
}

/**
 * A shared bucket of retry tokens (AWS SDK "standard" retry quota). Each retry spends, each clean success
 * refunds one. When a whole region or the endpoint is failing, the bucket empties after a bounded number
 * of retries and the run stops instead of hammering the API.
 */
export class RetryBudget {
  private tokens: number;
  constructor(private readonly capacity: number) {
    this.tokens = capacity;
  }

  static costOf(e: CloudError): number {
    if (e.errorClass === 'throttled') return 1;
    if (e.code === 'RequestTimeout') return 10;
    return 5;
  }

  trySpend(e: CloudError): boolean {
    const cost = RetryBudget.costOf(e);
    if (this.tokens < cost) return false;
    this.tokens -= cost;
    return true;
  }

  refund(): void {
    this.tokens = Math.min(this.capacity, this.tokens + 1);
  }

  get remaining(): number {
    return this.tokens;
  }
}
