// Every spelling a server, a URL or a document may give a secret: written independently of src/secrets.ts, so the
// redactor is tested against encoders, not against its own decoder.

function utf8Bytes(s: string): number[] {
  return [...Buffer.from(s, 'utf8')];
}

const hex2 = (n: number, upper: boolean): string => {
  const h = n.toString(16).padStart(2, '0');
  return upper ? h.toUpperCase() : h;
};
const hex4 = (n: number, upper: boolean): string => {
  const h = n.toString(16).padStart(4, '0');
  return upper ? h.toUpperCase() : h;
};

/** Per character (code point), so multi-byte characters stay whole when only some are encoded. */
function perChar(s: string, enc: (ch: string, i: number) => string): string {
  return [...s].map(enc).join('');
}

const pct = (ch: string, upper: boolean): string => utf8Bytes(ch).map((b) => '%' + hex2(b, upper)).join('');
const jsonU = (ch: string, upper: boolean): string => [...Array(ch.length).keys()].map((k) => '\\u' + hex4(ch.charCodeAt(k), upper)).join('');
const xmlDec = (ch: string, zeros: number): string => `&#${'0'.repeat(zeros)}${ch.codePointAt(0)!};`;
const xmlHex = (ch: string, zeros: number, upper: boolean): string => {
  const h = ch.codePointAt(0)!.toString(16);
  return `&#${upper ? 'X' : 'x'}${'0'.repeat(zeros)}${upper ? h.toUpperCase() : h};`;
};
const jsonInner = (s: string): string => JSON.stringify(s).slice(1, -1);
const xmlEscape = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;');
const swapCase = (s: string): string => perChar(s, (c) => (c === c.toUpperCase() ? c.toLowerCase() : c.toUpperCase()));

/**
 * Label -> the secret spelt that way, whole. Each of these must be masked as a whole span (no character of it left
 * beside the mask): the redactor decodes, so the span of the encoded secret is known exactly.
 */
export function exactForms(secret: string): Array<[string, string]> {
  const forms: Array<[string, string]> = [
    ['raw', secret],
    ['upper case', secret.toUpperCase()],
    ['lower case', secret.toLowerCase()],
    ['swapped case', swapCase(secret)],
    ['%XX every byte, upper hex', perChar(secret, (c) => pct(c, true))],
    ['%xx every byte, lower hex', perChar(secret, (c) => pct(c, false))],
    ['%XX every other character', perChar(secret, (c, i) => (i % 2 ? pct(c, i % 4 === 1) : c))],
    ['encodeURIComponent', encodeURIComponent(secret)],
    ['form (+ for space)', new URLSearchParams({ k: secret }).toString().slice(2)],
    ['URL-encoded twice', encodeURIComponent(encodeURIComponent(secret))],
    ['JSON string', jsonInner(secret)],
    ['JSON \\u00xx every char', perChar(secret, (c) => jsonU(c, false))],
    ['JSON \\u00XX every char', perChar(secret, (c) => jsonU(c, true))],
    ['JSON \\u escapes on some chars', perChar(secret, (c, i) => (i % 3 === 0 ? jsonU(c, false) : jsonInner(c)))],
    ['JSON inside JSON', jsonInner(jsonInner(secret))],
    ['XML named entities', xmlEscape(secret)],
    ['XML &#NN; every char', perChar(secret, (c) => xmlDec(c, 0))],
    ['XML &#000NN; leading zeros', perChar(secret, (c) => xmlDec(c, 3))],
    ['XML &#xNN; every char', perChar(secret, (c) => xmlHex(c, 0, false))],
    ['XML &#XNN; upper', perChar(secret, (c) => xmlHex(c, 0, true))],
    ['XML &#x00NN; leading zeros', perChar(secret, (c) => xmlHex(c, 2, false))],
    ['XML refs on some chars', perChar(secret, (c, i) => (i % 2 ? xmlDec(c, i % 3) : c === '&' ? '&amp;' : c === '<' ? '&lt;' : c))],
    ['hex of UTF-8, lower', Buffer.from(secret).toString('hex')],
    ['hex of UTF-8, upper', Buffer.from(secret).toString('hex').toUpperCase()],
    ['base64, whole', Buffer.from(secret).toString('base64')],
    [
      'mixed: %XX, \\u, &#NN;, &#xNN; and raw in turn',
      perChar(secret, (c, i) => [pct(c, true), jsonU(c, false), xmlDec(c, 1), xmlHex(c, 0, true), c === '&' ? '&amp;' : c][i % 5]!),
    ],
    ['mixed and upper case', perChar(secret.toUpperCase(), (c, i) => (i % 2 ? pct(c, false) : jsonU(c, true)))],
    ['JSON of the URL form', jsonInner(encodeURIComponent(secret))],
    ['URL of the JSON form', encodeURIComponent(jsonInner(secret))],
    ['XML of the JSON form', xmlEscape(jsonInner(secret))],
    ['CSV cell (quotes doubled)', secret.replace(/"/g, '""')],
  ];
  const seen = new Set<string>();
  return forms.filter(([, f]) => !seen.has(f) && (seen.add(f), true));
}

/** Forms that sit inside a larger blob (base64 at each byte alignment, base64url): only their middle is stable. */
export function blobForms(secret: string): Array<[string, string]> {
  return [
    ['base64 after 1 byte', Buffer.from(`x${secret}`).toString('base64')],
    ['base64 after 2 bytes', Buffer.from(`ab${secret}`).toString('base64')],
    ['base64 inside a sentence', Buffer.from(`AuthKey=${secret}; end`).toString('base64')],
    ['base64url after 2 bytes', Buffer.from(`ab${secret}`).toString('base64url')],
  ];
}

/** The server's echo: the secret in every form above, one per line-ish, as an API error message might quote it. */
export function quoteAll(secret: string): string {
  return [...exactForms(secret), ...blobForms(secret)].map(([label, f]) => `${label}: <${f}>`).join(' | ');
}

/** The stable middle of the base64 (and base64url) text of `secret` at each of the three byte alignments. */
function base64Middles(secret: string): string[] {
  const out: string[] = [];
  for (let k = 0; k < 3; k++) {
    const b = Buffer.from('\0'.repeat(k) + secret + '\0\0\0').toString('base64');
    const mid = b.slice(k === 0 ? 0 : 4, -8);
    if (mid.length >= 8) out.push(mid, mid.replace(/\+/g, '-').replace(/\//g, '_'));
  }
  return out;
}

/**
 * What must never appear in any output: every exact form of the secret and of each half of it (a leak cut short, or a
 * mask that left a tail), and the stable base64 middles. Byte strings, to scan files as they are.
 */
export function forbiddenForms(secret: string): string[] {
  const half = Math.ceil(secret.length / 2);
  const parts = [secret, secret.slice(0, half), secret.slice(half)].filter((p) => p.length >= 8);
  const out = new Set<string>();
  for (const p of parts) for (const [, f] of exactForms(p)) if (f.length >= 8) out.add(f);
  for (const m of base64Middles(secret)) out.add(m);
  return [...out];
}
