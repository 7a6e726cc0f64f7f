// Where each call goes: VPC per region (public or VPC-internal), STS where it lives, `--endpoint` URLs and {region} templates.
import { isAlibabaHost, trimSlash } from '../endpoint-match.js';
import { UsageError } from '../errors.js';

export { isAlibabaHost, sameEndpoint } from '../endpoint-match.js';

export type Network = 'public' | 'vpc';

export interface EndpointOptions {
  /** `--endpoint`: one URL for every region, or a template with `{region}`. */
  endpoint?: string;
  network: Network;
  /** `--sts-endpoint`. */
  stsEndpoint?: string;
  /** The region whose STS endpoint to use (ALIBABA_CLOUD_STS_REGION, else ALIBABA_CLOUD_REGION_ID). */
  stsRegion?: string;
}

export interface Endpoints {
  vpc(region: string): string;
  /** Where GetCallerIdentity and AssumeRole go. */
  sts: string;
  /** What the journal records and the plan header shows: the URL, the template, or the regional pattern. */
  label: string;
}

/**
 * Regions the official SDK's endpoint map sends to the central `vpc.aliyuncs.com` in every network (the map is read
 * before the network rule). @alicloud/vpc20160428 7.3.2 also maps cn-hangzhou there, but Alibaba's endpoint data
 * (api-docs.json of Vpc 2016-04-28, the `endpoints` list) gives cn-hangzhou its regional endpoint like every public
 * region, so cn-hangzhou stays regional; the internal and test regions of that map are left out.
 */
const VPC_CENTRAL = new Set(['cn-hangzhou-finance', 'cn-shanghai-finance-1', 'cn-shenzhen-finance-1', 'cn-north-2-gov-1']);

/** The STS SDK's map (alibabacloud-go-sdk sts-20150401 client.go, Init): special regions, any network. */
const STS_MAP: Record<string, string> = {
  'cn-hangzhou-finance': 'sts.aliyuncs.com',
  'cn-shenzhen-finance-1': 'sts-vpc.cn-shenzhen-finance-1.aliyuncs.com',
  'cn-north-2-gov-1': 'sts-vpc.cn-north-2-gov-1.aliyuncs.com',
};

/** The central STS endpoint: what the credentials SDK uses when no STS region is set. */
export const STS_CENTRAL = 'https://sts.aliyuncs.com';

const REGION = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;
const PLACEHOLDER = /\{region\}/g;

/** The SDKs' "regional" rule: `<product>[-<network>].<region>.aliyuncs.com`. */
function regional(product: string, network: Network, region: string): string {
  return `https://${product}${network === 'vpc' ? '-vpc' : ''}.${region}.aliyuncs.com`;
}

export function vpcEndpoint(region: string, network: Network): string {
  if (VPC_CENTRAL.has(region)) return 'https://vpc.aliyuncs.com';
  return regional('vpc', network, region);
}

/** STS for a region; without one, the central endpoint (public only: the VPC-internal STS is regional). */
export function stsEndpoint(region: string | undefined, network: Network): string {
  if (region === undefined) {
    if (network === 'vpc') {
      throw new UsageError(
        "--network vpc needs the region of this machine's VPC for STS (sts-vpc.<region>.aliyuncs.com): " +
          'export ALIBABA_CLOUD_STS_REGION=<region>, or pass --sts-endpoint URL',
      );
    }
    return STS_CENTRAL;
  }
  const mapped = STS_MAP[region];
  return mapped ? `https://${mapped}` : regional('sts', network, region);
}




/** Checks an `--endpoint` / `--sts-endpoint` value: an http(s) URL; `{region}` only where a template is allowed. */
export function checkEndpointUrl(flag: string, value: string, templateAllowed: boolean): void {
  if (!templateAllowed && value.includes('{region}')) throw new UsageError(`--${flag} takes one URL, not a {region} template: '${value}'`);
  const sample = value.replace(PLACEHOLDER, 'cn-hangzhou');
  let u: URL;
  try {
    u = new URL(sample);
  } catch {
    throw new UsageError(`--${flag} must be an http(s) URL${templateAllowed ? ' (or a template with {region})' : ''}, got '${value}'`);
  }
  if ((u.protocol !== 'http:' && u.protocol !== 'https:') || u.hostname === '') {
    throw new UsageError(`--${flag} must be an http(s) URL, got '${value}'`);
  }
  if (u.username !== '' || u.password !== '') throw new UsageError(`--${flag} must not carry a user or password`);
  if (/[?#]/.test(sample)) throw new UsageError(`--${flag} must not carry a query or fragment, got '${value}'`);
}

/**
 * Resolves every endpoint of a run. With `--endpoint` on a host that is not Alibaba Cloud's (the emulator, a test
 * proxy), STS goes to that same URL as it always did; on an Alibaba Cloud host STS follows the SDK rules.
 */
export function resolveEndpoints(o: EndpointOptions): Endpoints {
  if (o.stsRegion !== undefined && !REGION.test(o.stsRegion)) throw new UsageError(`the STS region '${o.stsRegion}' is not a region id (e.g. cn-hangzhou)`);
  const given = o.endpoint !== undefined ? trimSlash(o.endpoint) : undefined;
  const template = given?.includes('{region}') ?? false;
  const vpc = (region: string): string => {
    if (!REGION.test(region)) throw new UsageError(`'${region}' is not a region id`);
    if (given === undefined) return vpcEndpoint(region, o.network);
    return template ? given.replace(PLACEHOLDER, region) : given;
  };
  let sts: string;
  if (o.stsEndpoint !== undefined) sts = trimSlash(o.stsEndpoint);
  else if (given !== undefined && !isAlibabaHost(given)) {
    if (template) {
      throw new UsageError(`--endpoint ${given} is a template on a host that is not Alibaba Cloud's: say where STS is with --sts-endpoint URL`);
    }
    sts = given;
  } else sts = stsEndpoint(o.stsRegion, o.network);
  const label = given ?? (o.network === 'vpc' ? 'https://vpc-vpc.<region>.aliyuncs.com' : 'https://vpc.<region>.aliyuncs.com');
  return { vpc, sts, label };
}


