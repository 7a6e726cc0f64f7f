// Pure CreateCustomerGateway / Modify / tag rules (vpc-api.md §3-§8): parameter map in, normalised value or ApiError out.
import { ApiError, err, invalidParam, missing } from './api-error.js';

export type Params = ReadonlyMap<string, string>;

export interface TagKV {
  Key: string;
  Value: string;
}

export interface CreateInput {
  IpAddress: string;
  Name: string;
  Description: string;
  /** Normalised integer (asdot `a.b` becomes a*65536+b). */
  Asn?: number;
  AuthKey?: string;
  ResourceGroupId?: string;
  Tags: TagKV[];
}

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

/** Dotted-quad IPv4 without leading zeros (leading zeros read as octal by some stacks, so they are refused). */
export function isIpv4(s: string): boolean {
  return IPV4.test(s);
}

const startsWithUrl = (s: string): boolean => /^https?:\/\//i.test(s);
const containsUrl = (s: string): boolean => /https?:\/\//i.test(s);

/** Name / Description rule: 1-100 characters, not starting with http:// or https://. */
export function isValidLabel(s: string): boolean {
  const n = [...s].length;
  return n >= 1 && n <= 100 && !startsWithUrl(s);
}

const ASN_RESERVED = 45104; // Alibaba Cloud's own ASN

/** Parses an ASN ("65000" or asdot "1.10"); undefined when invalid. */
export function parseAsn(s: string): number | undefined {
  let v: number;
  if (/^\d{1,10}$/.test(s)) {
    v = Number(s);
  } else {
    const m = /^(\d{1,5})\.(\d{1,5})$/.exec(s);
    if (!m) return undefined;
    const hi = Number(m[1]);
    const lo = Number(m[2]);
    if (hi > 65535 || lo > 65535) return undefined;
    v = hi * 65536 + lo;
  }
  if (v < 1 || v > 4294967295 || v === ASN_RESERVED) return undefined;
  return v;
}

/** AuthKey: 1-64 printable ASCII, no space, no `?` (so no Chinese characters either). */
export function isValidAuthKey(s: string): boolean {
  return s.length >= 1 && s.length <= 64 && /^[\x21-\x3e\x40-\x7e]+$/.test(s);
}

/** Collects `<prefix>.N.Key` / `<prefix>.N.Value` in N order; a value without a key yields an empty key. */
export function collectTags(p: Params, prefix: 'Tag' | 'Tags'): Array<{ Key: string | undefined; Value: string | undefined }> {
  const byIndex = new Map<number, { Key: string | undefined; Value: string | undefined }>();
  const re = new RegExp(`^${prefix}\\.(\\d{1,6})\\.(Key|Value)$`);
  for (const [k, v] of p) {
    const m = re.exec(k);
    if (!m) continue;
    const n = Number(m[1]);
    const e = byIndex.get(n) ?? { Key: undefined, Value: undefined };
    if (m[2] === 'Key') e.Key = v;
    else e.Value = v;
    byIndex.set(n, e);
  }
  return [...byIndex.entries()].sort((a, b) => a[0] - b[0]).map(([, e]) => e);
}

/** Collects a string repeat list `<prefix>.N` in N order. */
export function collectList(p: Params, prefix: string): string[] {
  const re = new RegExp(`^${prefix.replace('.', '\\.')}\\.(\\d{1,6})$`);
  const items: Array<[number, string]> = [];
  for (const [k, v] of p) {
    const m = re.exec(k);
    if (m) items.push([Number(m[1]), v]);
  }
  return items.sort((a, b) => a[0] - b[0]).map(([, v]) => v);
}

function tagKeyBad(key: string, maxLen: number): boolean {
  const lower = key.toLowerCase();
  return key.length === 0 || key.length > maxLen || lower.startsWith('aliyun') || lower.startsWith('acs:') || containsUrl(key);
}

function tagValueBad(value: string): boolean {
  const lower = value.toLowerCase();
  return value.length > 128 || lower.startsWith('aliyun') || lower.startsWith('acs:') || containsUrl(value);
}

/**
 * Create's `Tags.N` rules. Duplicated.TagKey = the same key twice; Forbidden.TagKey.Duplicated = two keys that
 * differ only in letter case (our choice of trigger: the API documents both codes without saying which is which).
 */
export function validateCreateTags(p: Params): TagKV[] {
  const raw = collectTags(p, 'Tags');
  if (raw.length > 20) throw err(400, 'SizeLimitExceeded.TagNum', 'The maximum number of tags is exceeded.');
  const seen = new Set<string>();
  const seenLower = new Set<string>();
  const out: TagKV[] = [];
  for (const t of raw) {
    const key = t.Key ?? '';
    const value = t.Value ?? '';
    if (tagKeyBad(key, 64)) throw err(400, 'InvalidParameter.TagKey', 'The specified parameter TagKey is invalid.');
    if (tagValueBad(value)) throw err(400, 'InvalidParameter.TagValue', 'The specified parameter TagValue is invalid.');
    if (seen.has(key)) throw err(400, 'Duplicated.TagKey', 'The specified parameter TagKey is duplicated.');
    if (seenLower.has(key.toLowerCase()))
      throw err(400, 'Forbidden.TagKey.Duplicated', 'The specified tag key already exists.');
    seen.add(key);
    seenLower.add(key.toLowerCase());
    out.push({ Key: key, Value: value });
  }
  return out;
}

const present = (p: Params, k: string): string | undefined => {
  const v = p.get(k);
  return v === undefined || v === '' ? undefined : v;
};

function checkName(v: string | undefined): void {
  if (v !== undefined && !isValidLabel(v)) throw err(400, 'InvalidName', 'The name is not valid');
}
function checkDescription(v: string | undefined): void {
  if (v !== undefined && !isValidLabel(v)) throw err(400, 'InvalidDescription', 'The description is not valid');
}
function checkAuthKey(v: string | undefined): void {
  // The documented message has a %s for the key; we never echo it, so the key cannot leak through an error.
  if (v !== undefined && !isValidAuthKey(v))
    throw err(400, 'InvalidAuthkey.Malformed', 'The specified BGP authentication key is malformed.');
}

/** Every CreateCustomerGateway input rule, in the order of vpc-api.md §13.5 (minus state checks). */
export function validateCreate(p: Params): CreateInput {
  const ip = present(p, 'IpAddress');
  if (ip === undefined) throw missing('IpAddress');
  if (!isIpv4(ip)) throw err(400, 'InvalidIpAddress.WrongFormat', 'Specified IpAddress is invalid.');
  const name = present(p, 'Name');
  checkName(name);
  const description = present(p, 'Description');
  checkDescription(description);
  const asnRaw = present(p, 'Asn');
  let asn: number | undefined;
  if (asnRaw !== undefined) {
    asn = parseAsn(asnRaw);
    if (asn === undefined) throw err(400, 'IllegalParam.Asn', 'The specified Asn is invalid.');
  }
  const authKey = present(p, 'AuthKey');
  checkAuthKey(authKey);
  if (authKey !== undefined && asn === undefined)
    throw err(
      400,
      'OperationDenied.MissingAsn',
      'The ASN of the customer gateway is mandatory when a BGP authentication key is specified.',
    );
  const tags = validateCreateTags(p);
  const out: CreateInput = { IpAddress: ip, Name: name ?? '', Description: description ?? '', Tags: tags };
  if (asn !== undefined) out.Asn = asn;
  if (authKey !== undefined) out.AuthKey = authKey;
  const rg = present(p, 'ResourceGroupId');
  if (rg !== undefined) out.ResourceGroupId = rg;
  return out;
}

export interface ModifyInput {
  Name?: string;
  Description?: string;
  AuthKey?: string;
}

/** ModifyCustomerGatewayAttribute: the same label and AuthKey rules as Create; absent fields stay unchanged. */
export function validateModify(p: Params): ModifyInput {
  const out: ModifyInput = {};
  const name = present(p, 'Name');
  checkName(name);
  const description = present(p, 'Description');
  checkDescription(description);
  const authKey = present(p, 'AuthKey');
  checkAuthKey(authKey);
  if (name !== undefined) out.Name = name;
  if (description !== undefined) out.Description = description;
  if (authKey !== undefined) out.AuthKey = authKey;
  return out;
}

/** DescribeCustomerGateways tag filters: up to 20, key 1-64 chars, value <= 128, no duplicate keys. */
export function validateTagFilters(p: Params): Array<{ Key: string; Value: string | undefined }> {
  const raw = collectTags(p, 'Tag');
  if (raw.length > 20) throw err(400, 'SizeLimitExceeded.TagNum', 'The maximum number of tags is exceeded.');
  const seen = new Set<string>();
  return raw.map((t) => {
    const key = t.Key ?? '';
    if (key.length === 0 || key.length > 64) throw err(400, 'InvalidParameter.TagKey', 'The specified parameter TagKey is invalid.');
    if (t.Value !== undefined && t.Value.length > 128)
      throw err(400, 'InvalidParameter.TagValue', 'The specified parameter TagValue is invalid.');
    if (seen.has(key)) throw err(400, 'Duplicated.TagKey', 'The specified parameter TagKey is duplicated.');
    seen.add(key);
    return { Key: key, Value: t.Value === '' ? undefined : t.Value };
  });
}

/** TagResources' Tag.N: required, <= 20, key 1-128 chars with the prefix/URL rules, value present (may be empty). */
export function validateTagResourcesTags(p: Params): TagKV[] {
  const raw = collectTags(p, 'Tag');
  if (raw.length === 0) throw err(400, 'MissingParam.Tags', 'Tag is mandatory for this action.');
  if (raw.length > 20) throw err(400, 'SizeLimitExceeded.TagNum', 'The maximum number of tags is exceeded.');
  const seen = new Set<string>();
  return raw.map((t) => {
    if (t.Key === undefined || t.Key === '') throw err(400, 'MissingParameter.TagKey', 'Tag.N.Key is mandatory for this action.');
    if (t.Value === undefined) throw err(400, 'MissingParameter.TagValue', 'Tag.N.Value is mandatory for this action.');
    if (tagKeyBad(t.Key, 128)) throw err(400, 'InvalidTagKey', 'The specified tag key is not valid.');
    if (tagValueBad(t.Value)) throw err(400, 'InvalidTagValue', 'The specified tag value is not valid.');
    if (seen.has(t.Key)) throw err(400, 'Forbidden.TagKey.Duplicated', 'The specified tag key already exists.');
    seen.add(t.Key);
    return { Key: t.Key, Value: t.Value };
  });
}

/** A resource matches when it has every filter's key (and value, when the filter gives one). */
export function matchesTags(g: { Tags: TagKV[] }, filters: Array<{ Key: string; Value: string | undefined }>): boolean {
  return filters.every((f) => g.Tags.some((t) => t.Key === f.Key && (f.Value === undefined || t.Value === f.Value)));
}

/** Strict positive integer parse for paging parameters; undefined when absent. */
export function intParam(p: Params, name: string, min: number, max: number): number | undefined {
  const v = present(p, name);
  if (v === undefined) return undefined;
  if (!/^\d{1,9}$/.test(v)) throw invalidParam(name);
  const n = Number(v);
  if (n < min || n > max) throw invalidParam(name, `must be between ${min} and ${max}`);
  return n;
}

export { ApiError };
