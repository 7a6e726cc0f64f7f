// The region table DescribeRegions serves and RegionId is checked against (vpc-api.md §12, closed regions left out).

export interface RegionInfo {
  id: string;
  en: string;
  zh: string;
}

/** Regions the old SDK endpoint tables send to the central endpoint (vpc-api.md §2.1). */
const CENTRAL = new Set([
  'cn-hangzhou',
  'cn-beijing',
  'cn-shanghai',
  'cn-shenzhen',
  'cn-qingdao',
  'cn-hongkong',
  'ap-southeast-1',
  'us-west-1',
  'us-east-1',
]);

// ap-southeast-2 (Sydney) and ap-south-1 (Mumbai) are closed, so they are absent on purpose.
export const REGIONS: readonly RegionInfo[] = [
  { id: 'cn-qingdao', en: 'China (Qingdao)', zh: '华北1（青岛）' },
  { id: 'cn-beijing', en: 'China (Beijing)', zh: '华北2（北京）' },
  { id: 'cn-zhangjiakou', en: 'China (Zhangjiakou)', zh: '华北3（张家口）' },
  { id: 'cn-huhehaote', en: 'China (Hohhot)', zh: '华北5（呼和浩特）' },
  { id: 'cn-wulanchabu', en: 'China (Ulanqab)', zh: '华北6（乌兰察布）' },
  { id: 'cn-hangzhou', en: 'China (Hangzhou)', zh: '华东1（杭州）' },
  { id: 'cn-shanghai', en: 'China (Shanghai)', zh: '华东2（上海）' },
  { id: 'cn-nanjing', en: 'China (Nanjing - Local Region)', zh: '华东5（南京-本地地域）' },
  { id: 'cn-fuzhou', en: 'China (Fuzhou - Local Region)', zh: '华东6（福州-本地地域）' },
  { id: 'cn-shenzhen', en: 'China (Shenzhen)', zh: '华南1（深圳）' },
  { id: 'cn-heyuan', en: 'China (Heyuan)', zh: '华南2（河源）' },
  { id: 'cn-guangzhou', en: 'China (Guangzhou)', zh: '华南3（广州）' },
  { id: 'cn-chengdu', en: 'China (Chengdu)', zh: '西南1（成都）' },
  { id: 'cn-wuhan-lr', en: 'China (Wuhan - Local Region)', zh: '华中1（武汉-本地地域）' },
  { id: 'cn-zhengzhou-jva', en: 'China (Zhengzhou)', zh: '郑州（联通合营）' },
  { id: 'cn-hongkong', en: 'China (Hong Kong)', zh: '中国香港' },
  { id: 'ap-northeast-1', en: 'Japan (Tokyo)', zh: '日本（东京）' },
  { id: 'ap-northeast-2', en: 'South Korea (Seoul)', zh: '韩国（首尔）' },
  { id: 'ap-southeast-1', en: 'Singapore', zh: '新加坡' },
  { id: 'ap-southeast-3', en: 'Malaysia (Kuala Lumpur)', zh: '马来西亚（吉隆坡）' },
  { id: 'ap-southeast-5', en: 'Indonesia (Jakarta)', zh: '印度尼西亚（雅加达）' },
  { id: 'ap-southeast-6', en: 'Philippines (Manila)', zh: '菲律宾（马尼拉）' },
  { id: 'ap-southeast-7', en: 'Thailand (Bangkok)', zh: '泰国（曼谷）' },
  { id: 'eu-central-1', en: 'Germany (Frankfurt)', zh: '德国（法兰克福）' },
  { id: 'eu-west-1', en: 'UK (London)', zh: '英国（伦敦）' },
  { id: 'us-west-1', en: 'US (Silicon Valley)', zh: '美国（硅谷）' },
  { id: 'us-east-1', en: 'US (Virginia)', zh: '美国（弗吉尼亚）' },
  { id: 'me-east-1', en: 'UAE (Dubai)', zh: '阿联酋（迪拜）' },
  { id: 'me-central-1', en: 'Saudi Arabia (Riyadh)', zh: '沙特（利雅得）' },
  { id: 'cn-beijing-finance-1', en: 'China North 2 Finance', zh: '华北2 金融云' },
  { id: 'cn-shanghai-finance-1', en: 'China East 2 Finance', zh: '华东2 金融云' },
  { id: 'cn-shenzhen-finance-1', en: 'China South 1 Finance', zh: '华南1 金融云' },
  { id: 'cn-hangzhou-finance', en: 'China East 1 Finance', zh: '华东1 金融云' },
  { id: 'cn-north-2-gov-1', en: 'China North 2 Ali Gov 1', zh: '华北2 阿里政务云1' },
];

const IDS = new Set(REGIONS.map((r) => r.id));

export function isKnownRegion(id: string): boolean {
  return IDS.has(id);
}

export function regionEndpoint(id: string): string {
  return CENTRAL.has(id) ? 'vpc.aliyuncs.com' : `vpc.${id}.aliyuncs.com`;
}
