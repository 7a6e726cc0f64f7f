// Built-in region ids for the offline check (the API's published region list) and a "did you mean" suggestion by edit distance.

/** Regions we accept offline. Online, DescribeRegions is authoritative and this list is not used. */
export const KNOWN_REGIONS: ReadonlySet<string> = new Set([
  // China mainland
  'cn-qingdao', 'cn-beijing', 'cn-zhangjiakou', 'cn-huhehaote', 'cn-wulanchabu', 'cn-hangzhou', 'cn-shanghai',
  'cn-nanjing', 'cn-fuzhou', 'cn-shenzhen', 'cn-heyuan', 'cn-guangzhou', 'cn-chengdu', 'cn-wuhan-lr', 'cn-zhengzhou-jva',
  // Hong Kong / APAC
  'cn-hongkong', 'ap-northeast-1', 'ap-northeast-2', 'ap-southeast-1', 'ap-southeast-3', 'ap-southeast-5',
  'ap-southeast-6', 'ap-southeast-7',
  // Europe / Americas / Middle East
  'eu-central-1', 'eu-west-1', 'us-west-1', 'us-east-1', 'me-east-1', 'me-central-1',
  // Finance / government
  'cn-beijing-finance-1', 'cn-shanghai-finance-1', 'cn-shenzhen-finance-1', 'cn-hangzhou-finance', 'cn-north-2-gov-1',
  // Seen only in the new SDK endpoint map or Terraform: accepted offline so a new region is not a false error.
  'ap-southeast-8', 'us-southeast-1', 'na-south-1', 'eu-west-2', 'cn-zhongwei',
]);

/** Regions that existed and have been closed: a clearer message than "unknown". */
export const CLOSED_REGIONS: ReadonlyMap<string, string> = new Map([
  ['ap-southeast-2', 'Sydney'],
  ['ap-south-1', 'Mumbai'],
]);

function editDistance(a: string, b: string): number {
  const prev = new Array<number>(b.length + 1);
  for (let j = 0; j <= b.length; j++) prev[j] = j;
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0]!;
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const up = prev[j]!;
      prev[j] = Math.min(up + 1, prev[j - 1]! + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = up;
    }
  }
  return prev[b.length]!;
}

/** The closest known region (case-insensitive), if it is close enough to be a plausible typo. */
export function suggestRegion(region: string, known: Iterable<string>): string | undefined {
  // Region ids are about 15 characters; a long value is no typo, and the distance costs length x length per region.
  if (region.length > 64) return undefined;
  const r = region.toLowerCase().replace(/_/g, '-');
  let best: string | undefined;
  let bestD = Infinity;
  for (const k of known) {
    const d = editDistance(r, k);
    if (d < bestD) {
      bestD = d;
      best = k;
    }
  }
  // Allow about a third of the id to differ: catches `cn-hangzou`, `CN-Hangzhou`, `cn-shangai`, not `moon-base-1`.
  return best !== undefined && bestD <= Math.max(2, Math.floor(best.length / 3)) ? best : undefined;
}
