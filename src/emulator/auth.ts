// Request authentication: RPC signature v1 (HMAC-SHA1, as pop-core signs) and V3 ACS3-HMAC-SHA256 (as vpc20160428 signs).
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { ApiError, err, missing } from './api-error.js';

export interface AuthAccount {
  accessKeyId: string;
  accessKeySecret: string;
  accountId: string;
  securityToken?: string;
  /** GetCallerIdentity: the key belongs to this RAM user (else to the account itself, or a role with a token). */
  ramUser?: string;
  /** GetCallerIdentity: the role an STS token was issued for. */
  roleName?: string;
}

export interface AuthRequest {
  method: string;
  /** The raw request path (no query), as signed by V3. */
  path: string;
  /** Query-string parameters only (V3 signs these). */
  query: ReadonlyMap<string, string>;
  /** Query + form parameters (v1 signs all of them). */
  params: ReadonlyMap<string, string>;
  headers: IncomingHttpHeaders;
  /** Hex SHA-256 of the raw body. */
  bodySha256: string;
}

const SKEW_MS = 15 * 60 * 1000;
// Fractional seconds are accepted: `Date.toISOString()` sends them, so do some published SDKs, and so does the gateway.
const TIMESTAMP = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?Z$/;

/** RFC 3986 encoding exactly as pop-core does it: encodeURIComponent plus ! ' ( ) * (vpc-api.md §2.4). */
export function percentEncode(s: string): string {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase());
}

/** v1 StringToSign: METHOD&%2F&enc(sorted k=v pairs), every parameter but Signature, raw keys sorted like pop-core. */
export function v1StringToSign(method: string, params: ReadonlyMap<string, string>): string {
  const keys = [...params.keys()].filter((k) => k !== 'Signature').sort();
  const canonical = keys.map((k) => `${percentEncode(k)}=${percentEncode(params.get(k) ?? '')}`).join('&');
  return `${method.toUpperCase()}&${percentEncode('/')}&${percentEncode(canonical)}`;
}

export function v1Sign(secret: string, stringToSign: string): string {
  return createHmac('sha1', `${secret}&`).update(stringToSign).digest('base64');
}

/** V3 canonical request (vpc-api.md §2.5); header values come from what actually arrived. */
export function v3CanonicalRequest(req: AuthRequest, signedHeaders: string[], payloadHash: string): string {
  const keys = [...req.query.keys()].sort();
  const query = keys.map((k) => `${percentEncode(k)}=${percentEncode(req.query.get(k) ?? '')}`).join('&');
  const headers = signedHeaders
    .map((h) => {
      const v = req.headers[h];
      const s = Array.isArray(v) ? v.join(',') : (v ?? '');
      return `${h}:${s.replace(/[\t\n\r\f]/g, ' ').trim()}\n`;
    })
    .join('');
  const uri = req.path.replace(/\+/g, '%20').replace(/\*/g, '%2A').replace(/%7E/g, '~');
  return `${req.method.toUpperCase()}\n${uri}\n${query}\n${headers}\n${signedHeaders.join(';')}\n${payloadHash}`;
}

export function v3StringToSign(canonicalRequest: string): string {
  return `ACS3-HMAC-SHA256\n${createHash('sha256').update(canonicalRequest).digest('hex')}`;
}

export function v3Sign(secret: string, stringToSign: string): string {
  return createHmac('sha256', secret).update(stringToSign).digest('hex');
}

function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

const mismatch = (stringToSign: string): ApiError =>
  err(
    400,
    'SignatureDoesNotMatch',
    `Specified signature is not matched with our calculation. server string to sign is:${stringToSign}`,
  );

/** Remembers nonces per access key for the skew window; a second use inside it is SignatureNonceUsed. */
export class NonceCache {
  private readonly seen = new Map<string, number>();
  private lastSweep = 0;

  use(accessKeyId: string, nonce: string, now: number): boolean {
    if (now - this.lastSweep > 60_000 || this.seen.size > 200_000) {
      for (const [k, t] of this.seen) if (now - t > SKEW_MS) this.seen.delete(k);
      this.lastSweep = now;
    }
    const key = `${accessKeyId}\0${nonce}`;
    const t = this.seen.get(key);
    if (t !== undefined && now - t <= SKEW_MS) return false;
    this.seen.set(key, now);
    return true;
  }
}

function checkTimestamp(value: string | undefined, name: string, now: number): void {
  if (value === undefined || value === '') throw missing(name);
  const m = TIMESTAMP.exec(value);
  const whole = m ? Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!) : NaN;
  const t = whole + (m?.[7] ? Math.floor(Number(`0.${m[7]}`) * 1000) : 0);
  // The round trip of the whole seconds rejects impossible dates (month 13, Feb 30) that Date.UTC would roll over.
  if (!m || Number.isNaN(t) || new Date(whole).toISOString().slice(0, 19) !== value.slice(0, 19))
    throw err(400, 'InvalidTimeStamp.Format', 'Specified time stamp or date value is not well formatted.');
  if (Math.abs(now - t) > SKEW_MS)
    throw err(400, 'InvalidTimeStamp.Expired', 'Specified time stamp or date value is expired.');
}

function checkToken(account: AuthAccount, sent: string | undefined): void {
  // Codes from the STS family the wrapper already classifies as auth (src/cloud/errors.ts).
  if (account.securityToken === undefined) {
    if (sent !== undefined && sent !== '')
      throw err(400, 'InvalidSecurityToken.MismatchWithAccessKey', 'The specified SecurityToken does not match the AccessKeyId.');
    return;
  }
  if (sent === undefined || sent === '')
    throw err(400, 'InvalidSecurityToken.Malformed', 'The SecurityToken is missing or malformed.');
  if (!safeEqual(sent, account.securityToken))
    throw err(400, 'InvalidSecurityToken.MismatchWithAccessKey', 'The specified SecurityToken does not match the AccessKeyId.');
}

const header = (h: IncomingHttpHeaders, name: string): string | undefined => {
  const v = h[name];
  return Array.isArray(v) ? v[0] : v;
};

function unknownKey(): ApiError {
  return err(404, 'InvalidAccessKeyId.NotFound', 'Specified access key is not found.');
}

/** Verifies either scheme; returns the account the access key maps to, or throws the gateway's ApiError. */
export function authenticate(
  req: AuthRequest,
  lookup: (accessKeyId: string) => AuthAccount | undefined,
  nonces: NonceCache,
  now: number,
): AuthAccount {
  const authorization = header(req.headers, 'authorization');
  if (authorization !== undefined && authorization.startsWith('ACS3-')) return authenticateV3(req, authorization, lookup, nonces, now);
  return authenticateV1(req, lookup, nonces, now);
}

function authenticateV1(
  req: AuthRequest,
  lookup: (id: string) => AuthAccount | undefined,
  nonces: NonceCache,
  now: number,
): AuthAccount {
  const p = req.params;
  const akId = p.get('AccessKeyId');
  if (akId === undefined || akId === '') throw missing('AccessKeyId');
  const signature = p.get('Signature');
  if (signature === undefined || signature === '') throw missing('Signature');
  const method = p.get('SignatureMethod');
  if (method !== undefined && method !== 'HMAC-SHA1')
    throw err(400, 'InvalidSignatureMethod', 'Specified signature method is not valid.');
  const version = p.get('SignatureVersion');
  if (version !== undefined && version !== '1.0')
    throw err(400, 'InvalidSignatureVersion', 'Specified signature version is not valid.');
  checkTimestamp(p.get('Timestamp'), 'Timestamp', now);
  const account = lookup(akId);
  if (!account) throw unknownKey();
  const sts = v1StringToSign(req.method, p);
  if (!safeEqual(signature, v1Sign(account.accessKeySecret, sts))) throw mismatch(sts);
  checkToken(account, p.get('SecurityToken'));
  const nonce = p.get('SignatureNonce');
  if (nonce === undefined || nonce === '') throw missing('SignatureNonce');
  if (!nonces.use(akId, nonce, now)) throw err(400, 'SignatureNonceUsed', 'Specified signature nonce was used already.');
  return account;
}

function authenticateV3(
  req: AuthRequest,
  authorization: string,
  lookup: (id: string) => AuthAccount | undefined,
  nonces: NonceCache,
  now: number,
): AuthAccount {
  const m = /^(ACS3-[A-Z0-9-]+)\s+Credential=([^,\s]+)\s*,\s*SignedHeaders=([^,\s]*)\s*,\s*Signature=([0-9a-fA-F]+)\s*$/.exec(authorization);
  if (!m) throw err(400, 'IncompleteSignature', 'The request signature does not conform to Aliyun standards.');
  const [, algorithm, akId, signedList, signature] = m as unknown as [string, string, string, string, string];
  if (algorithm !== 'ACS3-HMAC-SHA256') throw err(400, 'InvalidSignatureMethod', 'Specified signature method is not valid.');
  const signedHeaders = signedList.split(';').filter((h) => h !== '');
  for (const required of ['x-acs-date', 'x-acs-signature-nonce', 'x-acs-content-sha256'])
    if (!signedHeaders.includes(required))
      throw err(400, 'IncompleteSignature', `The request signature does not conform to Aliyun standards: ${required} must be signed.`);
  checkTimestamp(header(req.headers, 'x-acs-date'), 'x-acs-date', now);
  const account = lookup(akId);
  if (!account) throw unknownKey();
  const claimed = header(req.headers, 'x-acs-content-sha256') ?? '';
  if (claimed.toLowerCase() !== req.bodySha256)
    throw err(400, 'IncompleteSignature', 'The x-acs-content-sha256 header does not match the request body.');
  const sts = v3StringToSign(v3CanonicalRequest(req, signedHeaders, claimed));
  if (!safeEqual(signature.toLowerCase(), v3Sign(account.accessKeySecret, sts))) throw mismatch(sts);
  checkToken(account, header(req.headers, 'x-acs-security-token'));
  const nonce = header(req.headers, 'x-acs-signature-nonce') ?? '';
  if (nonce === '') throw missing('SignatureNonce');
  if (!nonces.use(akId, nonce, now)) throw err(400, 'SignatureNonceUsed', 'Specified signature nonce was used already.');
  return account;
}
