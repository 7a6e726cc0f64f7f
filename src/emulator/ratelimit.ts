// Per (account, region, action) token buckets: capacity = one second's worth, refilled continuously from the injected clock.

/**
 * Published limits as requests per second per (main account, region, API) (vpc-api.md §10, site-to-site.md §1.6).
 * Not published, our choice: DescribeCustomerGateway and TagResources (by analogy), DescribeVpnGateways (as
 * DescribeVpnGateway), and the connection writes (as the customer-gateway writes, 120 per minute).
 */
export const DEFAULT_RATES: Readonly<Record<string, number>> = {
  CreateCustomerGateway: 2,
  DeleteCustomerGateway: 2,
  ModifyCustomerGatewayAttribute: 2,
  DescribeCustomerGateways: 10,
  DescribeCustomerGateway: 10,
  ListTagResources: 5,
  UnTagResources: 5,
  TagResources: 5,
  DescribeRegions: 10,
  DescribeVpnGateway: 10,
  DescribeVpnGateways: 10,
  DescribeVpnConnection: 10,
  DescribeVpnConnections: 10,
  CreateVpnConnection: 2,
  ModifyVpnConnectionAttribute: 2,
  DeleteVpnConnection: 2,
  // 30 per 60 s: with a bucket of one second's worth (at least one token), one call every 2 s.
  DownloadVpnConnectionConfig: 0.5,
};

interface Bucket {
  tokens: number;
  at: number;
}

export class RateLimiter {
  private readonly buckets = new Map<string, Bucket>();

  constructor(
    private rates: Record<string, number>,
    private readonly clock: () => number,
  ) {}

  setRates(rates: Record<string, number>): void {
    this.rates = rates;
    this.buckets.clear();
  }

  /** Takes one token; returns 0 when allowed, else the milliseconds until a token will be available (>= 1). */
  take(accountId: string, regionId: string, action: string): number {
    const rate = this.rates[action];
    if (rate === undefined || !(rate > 0) || !Number.isFinite(rate)) return 0;
    const capacity = Math.max(1, rate);
    const key = `${accountId}\0${regionId}\0${action}`;
    const now = this.clock();
    const b = this.buckets.get(key) ?? { tokens: capacity, at: now };
    // A clock that goes backwards (tests) must not mint tokens.
    const elapsed = Math.max(0, now - b.at);
    b.tokens = Math.min(capacity, b.tokens + (elapsed * rate) / 1000);
    b.at = now;
    this.buckets.set(key, b);
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return 0;
    }
    return Math.max(1, Math.ceil(((1 - b.tokens) * 1000) / rate));
  }
}
