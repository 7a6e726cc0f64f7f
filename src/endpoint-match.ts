// Endpoint URLs and patterns compared as the journal needs them: pure string work shared by cloud/ and state/.

const PLACEHOLDER = /\{region\}/g;

export function trimSlash(u: string): string {
  return u.trim().replace(/\/+$/, '');
}

/** The host of a URL or a template (`{region}` filled with a sample), or undefined when it is no URL. */
function hostOf(urlOrTemplate: string): string | undefined {
  try {
    return new URL(urlOrTemplate.replace(PLACEHOLDER, 'cn-hangzhou').replace(/<region>/g, 'cn-hangzhou')).hostname.toLowerCase();
  } catch {
    return undefined;
  }
}

/** Alibaba Cloud's own API hosts: the SDK rules apply to them; any other host is an emulator, a proxy or a test double. */
export function isAlibabaHost(urlOrTemplate: string): boolean {
  const host = hostOf(urlOrTemplate);
  return host !== undefined && (host === 'aliyuncs.com' || host.endsWith('.aliyuncs.com'));
}

/** A recorded endpoint in one spelling: no trailing slash, `<region>` as `{region}`, scheme and host lower case. */
function canonical(label: string): string {
  const t = trimSlash(label).replace(/<region>/g, '{region}');
  const m = /^([a-z][a-z0-9+.-]*:\/\/)([^/]*)(.*)$/i.exec(t);
  return m ? `${m[1]!.toLowerCase()}${m[2]!.toLowerCase()}${m[3]}` : t;
}

/**
 * Whether a journal written at `recorded` may be used at `current`: the same URL or pattern, or both Alibaba Cloud
 * (public, VPC-internal, central and regional endpoints reach one and the same cloud; the account check guards the rest).
 * A journal that recorded a single URL keeps working with that URL.
 */
export function sameEndpoint(recorded: string, current: string): boolean {
  if (canonical(recorded) === canonical(current)) return true;
  return isAlibabaHost(recorded) && isAlibabaHost(current);
}
