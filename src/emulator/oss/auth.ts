// OSS request authentication as the service checks it: V4 (OSS4-HMAC-SHA256) and V1 (HMAC-SHA1) signatures, STS tokens, clock skew.
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';

export interface OssAccount {
  accessKeyId: string;
  accessKeySecret: string;
  /** When set, every request must carry it as x-oss-security-token (an STS session). */
  securityToken?: string;
}

export interface SignedRequest {
  method: string;
  bucket: string;
  /** The object key, decoded ('' for bucket-level requests). */
  key: string;
  /** Query parameters, decoded; a parameter without a value (or with an empty one) is null. */
  query: Map<string, string | null>;
  headers: IncomingHttpHeaders;
}

export type AuthResult = { ok: true; account: OssAccount } | { ok: false; status: number; code: string; message: string };

/** RFC 3986 as OSS signs it: encodeURIComponent plus !'()*. Written here again, apart from our client, on purpose. */
function enc(s: string): string {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

function header(h: IncomingHttpHeaders, name: string): string | undefined {
  const v = h[name];
  return Array.isArray(v) ? v.join(',') : v;
}

function same(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** Sub-resources that V1 signs (the service's list; other query parameters are not part of the V1 resource). */
const V1_SUBRESOURCES = new Set([
  'acl', 'append', 'position', 'uploadId', 'partNumber', 'uploads', 'security-token', 'continuation-token', 'delete', 'tagging',
  'objectMeta', 'symlink', 'restore', 'versionId', 'versioning', 'versions', 'location', 'lifecycle', 'cors', 'logging', 'website',
  'referer', 'bucketInfo', 'stat', 'response-content-type', 'response-content-language', 'response-expires',
  'response-cache-control', 'response-content-disposition', 'response-content-encoding', 'x-oss-process',
]);

const SKEW_MS = 15 * 60 * 1000;

function fail(status: number, code: string, message: string): AuthResult {
  return { ok: false, status, code, message };
}

function checkToken(account: OssAccount, h: IncomingHttpHeaders, q: Map<string, string | null>): AuthResult | undefined {
  const token = header(h, 'x-oss-security-token') ?? q.get('security-token') ?? undefined;
  if (account.securityToken !== undefined && token !== account.securityToken) return fail(403, 'InvalidAccessKeyId', 'The security token you provided is invalid.');
  if (account.securityToken === undefined && token) return fail(403, 'InvalidAccessKeyId', 'The security token is not valid for this key.');
  return undefined;
}

/** `20260102T030405Z` -> ms since the epoch, or NaN. */
function parseIsoBasic(s: string): number {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(s);
  if (!m) return NaN;
  return Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6]));
}

export function verify(req: SignedRequest, accounts: readonly OssAccount[], region: string, now: number): AuthResult {
  const auth = header(req.headers, 'authorization');
  if (!auth) return fail(403, 'AccessDenied', 'You have no right to access this object because of bucket acl.');
  if (auth.startsWith('OSS4-HMAC-SHA256 ')) return verifyV4(req, auth, accounts, region, now);
  if (auth.startsWith('OSS ')) return verifyV1(req, auth, accounts, now);
  return fail(400, 'InvalidArgument', 'Authorization header is invalid.');
}

function verifyV4(req: SignedRequest, auth: string, accounts: readonly OssAccount[], region: string, now: number): AuthResult {
  const fields = new Map<string, string>();
  for (const part of auth.slice('OSS4-HMAC-SHA256 '.length).split(',')) {
    const i = part.indexOf('=');
    if (i > 0) fields.set(part.slice(0, i).trim(), part.slice(i + 1).trim());
  }
  const cred = (fields.get('Credential') ?? '').split('/');
  const signature = fields.get('Signature') ?? '';
  if (cred.length !== 5 || cred[3] !== 'oss' || cred[4] !== 'aliyun_v4_request' || !signature) {
    return fail(400, 'InvalidArgument', 'Authorization header is invalid: Credential or Signature is malformed.');
  }
  const [ak, day, credRegion] = cred as [string, string, string, string, string];
  const account = accounts.find((a) => a.accessKeyId === ak);
  if (!account) return fail(403, 'InvalidAccessKeyId', 'The OSS Access Key Id you provided does not exist in our records.');
  const date = header(req.headers, 'x-oss-date') ?? '';
  const t = parseIsoBasic(date);
  if (!Number.isFinite(t)) return fail(403, 'AccessDenied', 'x-oss-date is missing or not in ISO8601 basic format.');
  if (Math.abs(t - now) > SKEW_MS) return fail(403, 'RequestTimeTooSkewed', 'The difference between the request time and the current time is too large.');
  if (date.slice(0, 8) !== day) return fail(403, 'SignatureDoesNotMatch', 'The date in Credential does not match x-oss-date.');
  if (credRegion !== region) return fail(403, 'SignatureDoesNotMatch', `The region in Credential (${credRegion}) is not this endpoint's region.`);
  const sha = header(req.headers, 'x-oss-content-sha256');
  if (!sha) return fail(403, 'AccessDenied', 'x-oss-content-sha256 is required for V4 signatures.');
  const tokenProblem = checkToken(account, req.headers, req.query);
  if (tokenProblem) return tokenProblem;

  const additional = (fields.get('AdditionalHeaders') ?? '').split(';').filter((x) => x !== '').map((x) => x.toLowerCase());
  const names = new Set(additional);
  for (const k of Object.keys(req.headers)) if (k === 'content-type' || k === 'content-md5' || k.startsWith('x-oss-')) names.add(k);
  const canonicalHeaders = [...names]
    .sort()
    .map((k) => `${k}:${(header(req.headers, k) ?? '').trim()}\n`)
    .join('');
  const canonicalQuery = [...req.query.keys()]
    .sort()
    .map((k) => {
      const v = req.query.get(k);
      return v === null || v === undefined || v === '' ? enc(k) : `${enc(k)}=${enc(v)}`;
    })
    .join('&');
  const uri = enc(`/${req.bucket}/${req.key}`).replace(/%2F/g, '/');
  const canonical = [req.method, uri, canonicalQuery, canonicalHeaders, additional.join(';'), sha].join('\n');
  const scope = `${day}/${credRegion}/oss/aliyun_v4_request`;
  const toSign = ['OSS4-HMAC-SHA256', date, scope, createHash('sha256').update(canonical).digest('hex')].join('\n');
  let k = createHmac('sha256', `aliyun_v4${account.accessKeySecret}`).update(day).digest();
  for (const part of [credRegion, 'oss', 'aliyun_v4_request']) k = createHmac('sha256', k).update(part).digest();
  const expected = createHmac('sha256', k).update(toSign).digest('hex');
  if (!same(expected, signature)) return fail(403, 'SignatureDoesNotMatch', 'The request signature we calculated does not match the signature you provided.');
  return { ok: true, account };
}

function verifyV1(req: SignedRequest, auth: string, accounts: readonly OssAccount[], now: number): AuthResult {
  const m = /^OSS ([^:]+):(.+)$/.exec(auth);
  if (!m) return fail(400, 'InvalidArgument', 'Authorization header is invalid.');
  const account = accounts.find((a) => a.accessKeyId === m[1]);
  if (!account) return fail(403, 'InvalidAccessKeyId', 'The OSS Access Key Id you provided does not exist in our records.');
  const date = header(req.headers, 'x-oss-date') ?? header(req.headers, 'date') ?? '';
  const t = Date.parse(date);
  if (!Number.isFinite(t)) return fail(403, 'AccessDenied', 'Date or x-oss-date is missing.');
  if (Math.abs(t - now) > SKEW_MS) return fail(403, 'RequestTimeTooSkewed', 'The difference between the request time and the current time is too large.');
  const tokenProblem = checkToken(account, req.headers, req.query);
  if (tokenProblem) return tokenProblem;
  const ossHeaders = Object.keys(req.headers)
    .filter((k) => k.startsWith('x-oss-'))
    .sort()
    .map((k) => `${k}:${(header(req.headers, k) ?? '').trim()}`);
  const sub = [...req.query.keys()]
    .filter((k) => V1_SUBRESOURCES.has(k))
    .sort()
    .map((k) => {
      const v = req.query.get(k);
      return v === null || v === undefined || v === '' ? k : `${k}=${v}`;
    });
  const resource = `/${req.bucket}/${req.key}${sub.length ? `?${sub.join('&')}` : ''}`;
  const toSign = [req.method, header(req.headers, 'content-md5') ?? '', header(req.headers, 'content-type') ?? '', date, ...ossHeaders, resource].join('\n');
  const expected = createHmac('sha1', account.accessKeySecret).update(toSign, 'utf8').digest('base64');
  if (!same(expected, m[2] ?? '')) return fail(403, 'SignatureDoesNotMatch', 'The request signature we calculated does not match the signature you provided.');
  return { ok: true, account };
}
