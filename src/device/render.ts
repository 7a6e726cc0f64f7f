// The renderer API: device types for `--device`, and renderConfig(site, device, options) -> files or issues. Pure.
import { RenderContext, type Vendor } from './kit.js';
import { parseCidr } from './net.js';
import { buildSite, type SiteInput } from './site.js';
import { DEVICE_TYPE_IDS, type DeviceIssue, type DeviceType, type RenderOptions, type RenderResult, type Site } from './types.js';
import { strongswan } from './vendors/strongswan.js';
import { ciscoIos } from './vendors/cisco-ios.js';
import { huaweiVrp } from './vendors/huawei-vrp.js';
import { h3cComware } from './vendors/h3c-comware.js';
import { juniperSrx } from './vendors/juniper-srx.js';
import { fortigate } from './vendors/fortigate.js';

const VENDORS = {
  strongswan,
  'cisco-ios': ciscoIos,
  'huawei-vrp': huaweiVrp,
  'h3c-comware': h3cComware,
  'juniper-srx': juniperSrx,
  fortigate,
} satisfies Record<DeviceType, Vendor>;

/** Every device type with its name and files, in the order `--device` lists them. */
export const DEVICE_TYPES: ReadonlyArray<{ type: DeviceType; name: string; files: string }> = DEVICE_TYPE_IDS.map((t) => VENDORS[t]).map((v) => ({
  type: v.type,
  name: v.name,
  files: v.files,
}));

export function isDeviceType(s: string): s is DeviceType {
  return  Object.hasOwn(VENDORS, s);
}

/**
 * The device's configuration for one site, or every reason it cannot be written. A parameter the device cannot
 * express is an error naming the site and the parameter, never a silently different config.
 */
export function renderConfig(site: Site, device: DeviceType, options: RenderOptions = {}): RenderResult {
  const vendor: Vendor = VENDORS[device];
  const ctx = new RenderContext(site, options, vendor);
  for (const [key, list] of [['staticRoutes', options.staticRoutes], ['bgpNetworks', options.bgpNetworks]] as const) {
    for (const c of list ?? []) {
      const parsed = parseCidr(c);
      if (!parsed || parsed.hostBits || !c.includes('/')) ctx.option(key, `${JSON.stringify(c.slice(0, 40))} is not an IPv4 network in CIDR form (a.b.c.d/n)`);
    }
  }
  if (ctx.issues.length > 0) return { ok: false, issues: ctx.issues };
  const files = vendor.render(site, ctx);
  if (ctx.issues.length > 0) return { ok: false, issues: ctx.issues };
  return { ok: true, files, warnings: ctx.warnings };
}

/** buildSite then renderConfig: what the `configs` command calls per site and device type. */
export function renderSite(input: SiteInput, device: DeviceType, options: RenderOptions = {}): RenderResult {
  const built = buildSite(input);
  if (!built.ok) return built;
  const r = renderConfig(built.site, device, options);
  if (!r.ok) return r;
  const warnings: DeviceIssue[] = [...built.warnings, ...r.warnings];
  return { ok: true, files: r.files, warnings };
}
