// Wire format: strict parameter decoding (encoding, UTF-8, repeats) and JSON/XML response bodies.
import { randomUUID } from 'node:crypto';
import { err, type ApiError } from './api-error.js';

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Percent-decodes one component strictly: `+` is a space (form rules), bad `%` escapes and invalid UTF-8 are errors. */
export function decodeComponent(s: string): string {
  const bytes: number[] = [];
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x25) {
      const hex = s.slice(i + 1, i + 3);
      if (!/^[0-9A-Fa-f]{2}$/.test(hex)) throw err(400, 'InvalidParameter.Encoding', 'The request contains a malformed percent-encoding.');
      bytes.push(parseInt(hex, 16));
      i += 2;
    } else if (c === 0x2b) {
      bytes.push(0x20);
    } else if (c < 0x80) {
      bytes.push(c);
    } else {
      // Only reachable for bodies (already UTF-8 validated); re-encode the character as UTF-8.
      const cp = s.codePointAt(i) ?? c;
      for (const b of Buffer.from(String.fromCodePoint(cp), 'utf8')) bytes.push(b);
      if (cp > 0xffff) i++;
    }
  }
  try {
    return utf8.decode(Uint8Array.from(bytes));
  } catch {
    throw err(400, 'InvalidParameter.Encoding', 'The request parameters are not valid UTF-8.');
  }
}

/** Parses `a=1&b=2` into `into`; a key that is already present is a 400 (repeated parameters are ambiguous). */
export function parseForm(text: string, into: Map<string, string>, source: 'query' | 'body'): void {
  if (text === '') return;
  if (source === 'query' && /[^\x21-\x7e]/.test(text))
    throw err(400, 'InvalidParameter.Encoding', 'The query string contains characters that are not percent-encoded.');
  for (const pair of text.split('&')) {
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    const key = decodeComponent(eq < 0 ? pair : pair.slice(0, eq));
    const value = eq < 0 ? '' : decodeComponent(pair.slice(eq + 1));
    if (key === '') continue;
    if (into.has(key)) throw err(400, 'InvalidParameter.Repeated', `The parameter ${safeName(key)} is given more than once.`);
    into.set(key, value);
  }
}

/** Parameter names are echoed in messages only when they look like names, never arbitrary input. */
export function safeName(key: string): string {
  return /^[A-Za-z0-9._-]{1,64}$/.test(key) ? key : '(unprintable)';
}

export function newRequestId(): string {
  return randomUUID().toUpperCase();
}

export const HOST_ID = 'vpc.aliyuncs.com';

export function errorBody(e: ApiError, requestId: string): Record<string, unknown> {
  return {
    RequestId: requestId,
    HostId: HOST_ID,
    Code: e.code,
    Message: e.message,
    Recommend: `https://api.aliyun.com/troubleshoot?q=${encodeURIComponent(e.code)}&product=Vpc&requestId=${requestId}`,
  };
}

function esc(s: string): string {
  return s.replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c] ?? c);
}

function xmlNode(name: string, v: unknown): string {
  if (Array.isArray(v)) return v.map((x) => xmlNode(name, x)).join('');
  if (v !== null && typeof v === 'object')
    return `<${name}>${Object.entries(v as Record<string, unknown>).map(([k, x]) => xmlNode(k, x)).join('')}</${name}>`;
  return `<${name}>${esc(String(v ?? ''))}</${name}>`;
}

/** XML as the RPC gateway renders it: `<ActionResponse>` root on success, `<Error>` root for errors. */
export function toXml(root: string, body: Record<string, unknown>): string {
  return `<?xml version="1.0" encoding="UTF-8"?>${xmlNode(root, body)}`;
}
