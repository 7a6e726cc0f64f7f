// Generated manifests for benchmarks and soak tests: unique IPs from the benchmarking range 198.18.0.0/15.

export const BENCH_REGIONS = ['cn-hangzhou', 'cn-shanghai', 'ap-southeast-1', 'eu-central-1', 'us-west-1'];

export function benchIp(i: number): string {
  return `198.${18 + ((i >> 16) & 1)}.${(i >> 8) & 255}.${i & 255}`;
}

/** `rows` rows spread round-robin over `regions`, with names and private ASNs; optional AuthKeys via env. */
export function benchCsv(rows: number, regions: string[], opts: { authKeyEnv?: string; offset?: number } = {}): string {
  const lines = ['region,ip,name,asn,description' + (opts.authKeyEnv ? ',auth_key' : '')];
  for (let i = 0; i < rows; i++) {
    const n = i + (opts.offset ?? 0) + 1;
    const region = regions[i % regions.length]!;
    const auth = opts.authKeyEnv ? `,env:${opts.authKeyEnv}` : '';
    lines.push(`${region},${benchIp(n)},site-${n},${64512 + (n % 1000)},branch office ${n}${auth}`);
  }
  return lines.join('\n') + '\n';
}

export function benchYaml(rows: number, regions: string[]): string {
  const out = ['defaults:', '  asn: "65001"', 'gateways:'];
  for (let i = 0; i < rows; i++) {
    out.push(`  - region: ${regions[i % regions.length]}`, `    ip: ${benchIp(i + 1)}`, `    name: site-${i + 1}`, `    tags:`, `      env: prod`);
  }
  return out.join('\n') + '\n';
}
