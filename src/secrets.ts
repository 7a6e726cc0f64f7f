// Secret hygiene: a by-value redactor for every byte we print or write, and keyed fingerprints instead of stored AuthKeys.
import { createHmac, timingSafeEqual } from 'node:crypto';

const MASK = '***';
/**
 * Values shorter than this are not masked: a 5-character AuthKey would mangle every word that contains it
 * ("vpn01" inside "vpn012-branch"). The planner refuses or warns about such weak keys instead.
 */
export const MIN_SECRET_LENGTH = 8;
/** Encoded fragments (base64 at an odd offset) shorter than this are too likely to occur by chance. */
const MIN_FORM_LENGTH = 6;
/**
 * Escapes nest (a JSON message quoting a URL-encoded form quoting the key): the text is decoded this many times over,
 * each layer one more level of escaping. Three covers the string to sign (URL-encoded twice) inside a JSON message.
 */
const MAX_DECODE_LAYERS = 3;
/** Matches of needles up to this length are compared unit by unit; longer ones by their full hash (no rescans). */
const EXACT_COMPARE_MAX = 256;
/** Hash window: every needle is indexed by the hash of its first WINDOW units (or fewer if a needle is shorter). */
const WINDOW = 8;
const BASE = 0x01000193;

// --- the folded, decoded views ------------------------------------------------------------------------------------
// A candidate string is compared through views: layer 0 is the text case-folded unit by unit (A-Z -> a-z, space ->
// `+` as form encoding has it, other letters lower-cased when that keeps one unit); each further layer decodes one
// level of %XX, \uXXXX / \xXX / \" \\ \/, &#NN; / &#xNN; / &amp; &lt; &gt; &quot; &apos;, and CSV's doubled quote,
// wherever they occur, so mixed encodings in one string decode together. Every unit of a view knows the source
// span it came from, so a match in any view masks exactly the encoded text. Each layer is one linear pass.

let lowerTable: Uint16Array | undefined;
function fold(c: number): number {
  if (c < 128) return c >= 65 && c <= 90 ? c + 32 : c === 32 ? 43 : c;
  // Filled per code unit on first sight (0: not yet; no unit from 128 up folds to 0): the whole table took ~50 ms at
  // the first non-ASCII character of a run (results.csv's BOM), a sixth of a small apply.
  lowerTable ??= new Uint16Array(65536);
  let v = lowerTable[c]!;
  if (v === 0) {
    const l = String.fromCharCode(c).toLowerCase();
    v = l.length === 1 ? l.charCodeAt(0) : c;
    lowerTable[c] = v;
  }
  return v;
}

interface View {
  units: Uint16Array;
  length: number;
  /** Source offset where unit i starts and where it ends; absent for layer 0 (unit i is source i). */
  from?: Int32Array;
  to?: Int32Array;
}

/**
 * Folds `text` into `units`; returns whether any character could start an escape (`%` `\` `&`, or `""`), i.e.
 * whether decoding can change anything.
 */
function foldInto(text: string, units: Uint16Array): boolean {
  const n = text.length;
  let escapes = false;
  let prev = 0;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c === 37 || c === 92 || c === 38 || (c === 34 && prev === 34)) escapes = true;
    prev = c;
    units[i] = c < 128 ? (c >= 65 && c <= 90 ? c + 32 : c === 32 ? 43 : c) : fold(c);
  }
  return escapes;
}

function foldView(text: string): View {
  const units = new Uint16Array(text.length);
  foldInto(text, units);
  return { units, length: text.length };
}

function hexVal(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 97 && c <= 102) return c - 87; // views are folded: hex letters are lower case
  return -1;
}

/** `%XX` at i: the byte, or -1. */
function pctByte(u: Uint16Array, n: number, i: number): number {
  if (i + 2 >= n || u[i] !== 37) return -1;
  const h = hexVal(u[i + 1]!);
  const l = hexVal(u[i + 2]!);
  return h < 0 || l < 0 ? -1 : (h << 4) | l;
}

const NAMED: Array<[string, number]> = [
  ['amp;', 38],
  ['lt;', 60],
  ['gt;', 62],
  ['quot;', 34],
  ['apos;', 39],
];
const SIMPLE_ESCAPES: Record<number, number> = { 34: 34, 92: 92, 47: 47, 39: 39, 110: 10, 114: 13, 116: 9, 98: 8, 102: 12 };

/**
 * Decodes the escape starting at i, if any: writes the code point to out[0] and returns the units consumed (0 = none).
 * Every branch looks ahead a bounded distance except digit runs of &#...;, and a digit run is scanned from the one
 * `&` before it only, so the pass stays linear.
 */
function decodeAt(u: Uint16Array, n: number, i: number, out: Int32Array): number {
  const c = u[i]!;
  if (c === 37) {
    const b = pctByte(u, n, i);
    if (b < 0) return 0;
    const extra = b >= 0xf0 && b <= 0xf4 ? 3 : b >= 0xe0 ? 2 : b >= 0xc2 && b < 0xe0 ? 1 : 0;
    if (extra > 0) {
      let cp = b & (0x3f >> extra);
      let ok = true;
      for (let k = 1; k <= extra && ok; k++) {
        const cont = pctByte(u, n, i + 3 * k);
        if (cont < 0x80 || cont > 0xbf) ok = false;
        else cp = (cp << 6) | (cont & 0x3f);
      }
      if (ok && cp <= 0x10ffff) {
        out[0] = cp;
        return 3 * (extra + 1);
      }
    }
    out[0] = b; // a lone byte: read as Latin-1
    return 3;
  }
  if (c === 92) {
    if (i + 1 >= n) return 0;
    const e = u[i + 1]!;
    if (e === 117 && i + 5 < n) {
      // \uXXXX
      let v = 0;
      for (let k = 2; k < 6; k++) {
        const h = hexVal(u[i + k]!);
        if (h < 0) return 0;
        v = (v << 4) | h;
      }
      out[0] = v;
      return 6;
    }
    if (e === 120 && i + 3 < n) {
      const h = hexVal(u[i + 2]!);
      const l = hexVal(u[i + 3]!);
      if (h < 0 || l < 0) return 0;
      out[0] = (h << 4) | l;
      return 4;
    }
    const s = SIMPLE_ESCAPES[e];
    if (s === undefined) return 0;
    out[0] = s;
    return 2;
  }
  if (c === 38) {
    if (i + 1 < n && u[i + 1] === 35) {
      // &#NN; or &#xNN;, leading zeros allowed; more than 7 significant digits is no character.
      const hex = i + 2 < n && u[i + 2] === 120;
      let k = i + (hex ? 3 : 2);
      let v = 0;
      let digits = 0;
      for (; k < n; k++) {
        const d = hex ? hexVal(u[k]!) : u[k]! >= 48 && u[k]! <= 57 ? u[k]! - 48 : -1;
        if (d < 0) break;
        if (v > 0 || d > 0) digits++;
        if (digits <= 7) v = v * (hex ? 16 : 10) + d;
      }
      const start = i + (hex ? 3 : 2);
      if (k === start || k >= n || u[k] !== 59 || digits > 7 || v > 0x10ffff || v === 0) return 0;
      out[0] = v;
      return k + 1 - i;
    }
    for (const [name, v] of NAMED) {
      if (i + name.length >= n) continue;
      let ok = true;
      for (let k = 0; k < name.length && ok; k++) if (u[i + 1 + k] !== name.charCodeAt(k)) ok = false;
      if (ok) {
        out[0] = v;
        return name.length + 1;
      }
    }
    return 0;
  }
  if (c === 34 && i + 1 < n && u[i + 1] === 34) {
    out[0] = 34;
    return 2;
  }
  return 0;
}

const codePoint = new Int32Array(1);

interface Buffers {
  units: Uint16Array;
  from: Int32Array;
  to: Int32Array;
  /** Prefix hashes of a view: one more than its length. */
  prefix: Int32Array;
}

function newBuffers(n: number): Buffers {
  return { units: new Uint16Array(n), from: new Int32Array(n), to: new Int32Array(n), prefix: new Int32Array(n + 1) };
}

/** Strings up to this length reuse the redactor's buffers; longer ones get their own, freed after the call. */
const SCRATCH_MAX = 1 << 16;

/**
 * One more layer of decoding of `v` into `out` (buffers at least v.length long, never v's own): returns the new
 * length, or -1 when nothing decodes.
 */
function decodeInto(v: View, out: Omit<Buffers, 'prefix'>): number {
  const { units: u, length: n } = v;
  const { units, from, to } = out;
  const vf = v.from;
  const vt = v.to;
  let m = 0;
  let changed = false;
  for (let i = 0; i < n; ) {
    const c0 = u[i]!;
    const used = c0 === 37 || c0 === 92 || c0 === 38 || c0 === 34 ? decodeAt(u, n, i, codePoint) : 0;
    const a = vf ? vf[i]! : i;
    if (used === 0) {
      units[m] = c0;
      from[m] = a;
      to[m] = vt ? vt[i]! : i + 1;
      m++;
      i++;
      continue;
    }
    changed = true;
    const b = vt ? vt[i + used - 1]! : i + used;
    const c = codePoint[0]!;
    if (c > 0xffff) {
      // A supplementary character: both surrogate units stand for the whole escape.
      units[m] = fold(0xd800 + ((c - 0x10000) >> 10));
      from[m] = a;
      to[m++] = b;
      units[m] = fold(0xdc00 + ((c - 0x10000) & 0x3ff));
    } else units[m] = fold(c);
    from[m] = a;
    to[m++] = b;
    i += used;
  }
  return changed ? m : -1;
}

function decodeView(v: View): View | undefined {
  const out = { units: new Uint16Array(v.length), from: new Int32Array(v.length), to: new Int32Array(v.length) };
  const m = decodeInto(v, out);
  return m < 0 ? undefined : { ...out, length: m };
}

function viewOf(s: string): Uint16Array {
  return foldView(s).units;
}

// --- needles ------------------------------------------------------------------------------------------------------

/**
 * The base64 text of `secret` wherever it sits inside a larger base64 blob: for each of the three byte alignments,
 * the characters that depend on the secret's bytes only (the first and last partial groups mix in neighbours).
 */
function base64Forms(secret: string): string[] {
  const bytes = Buffer.from(secret, 'utf8');
  const out: string[] = [];
  for (const shift of [0, 1, 2]) {
    const enc = Buffer.concat([Buffer.alloc(shift), bytes]).toString('base64');
    const start = shift === 0 ? 0 : 4;
    const end = Math.floor((shift + bytes.length) / 3) * 4;
    const middle = enc.slice(start, end);
    out.push(middle, middle.replace(/\+/g, '-').replace(/\//g, '_')); // and the base64url spelling
  }
  // The whole padded encoding too, so a lone base64 value is masked to the last character.
  out.push(bytes.toString('base64'));
  return out;
}

/**
 * What is searched for a secret, in every view: the secret itself (folded), the secret decoded once, twice, three
 * times (it may itself hold text that looks like an escape, and the deepest view of a mixed or nested spelling decodes
 * that too), its hex and its base64 forms. URL, JSON, XML and CSV spellings need no needle of their own: the views
 * decode them.
 */
export function secretForms(secret: string, minLength = MIN_SECRET_LENGTH): string[] {
  const forms = new Set<string>([secret, Buffer.from(secret, 'utf8').toString('hex')]);
  let v: View | undefined = foldView(secret);
  for (let k = 0; k < MAX_DECODE_LAYERS && v; k++) {
    v = decodeView(v);
    if (v && v.length >= minLength) forms.add(unitsToString(v.units.subarray(0, v.length)));
  }
  for (const f of base64Forms(secret)) if (f.length >= MIN_FORM_LENGTH) forms.add(f);
  return [...forms];
}

function unitsToString(u: Uint16Array): string {
  let s = '';
  for (let i = 0; i < u.length; i += 4096) s += String.fromCharCode(...u.subarray(i, i + 4096));
  return s;
}

interface Needle {
  units: Uint16Array;
  hash: number;
  /** BASE^length mod 2^32, to take the hash of a window of this length from prefix hashes. */
  pow: number;
}

function powOf(len: number): number {
  let p = 1;
  for (let i = 0; i < len; i++) p = Math.imul(p, BASE);
  return p;
}

function hashUnits(u: Uint16Array, from: number, to: number): number {
  let h = 0;
  for (let i = from; i < to; i++) h = (Math.imul(h, BASE) + u[i]!) | 0;
  return h;
}

interface Index {
  window: number;
  windowPow: number;
  /** Window hash -> needles starting with that window. */
  byWindow: Map<number, Needle[]>;
  /** A bit per window hash present (low bits, at least 16 per needle): most positions need no Map lookup. */
  filter: Uint8Array;
  filterMask: number;
}

function buildIndex(secrets: Iterable<string>, minLength: number): Index {
  const all = new Map<string, Uint16Array>();
  for (const s of secrets) for (const f of secretForms(s, minLength)) {
    const u = viewOf(f);
    all.set(unitsToString(u), u);
  }
  let window = WINDOW;
  for (const u of all.values()) window = Math.min(window, u.length);
  const byWindow = new Map<number, Needle[]>();
  let bits = 1 << 16;
  while (bits < all.size * 16) bits *= 2;
  const filter = new Uint8Array(bits >> 3);
  const filterMask = bits - 1;
  for (const units of all.values()) {
    const needle: Needle = { units, hash: hashUnits(units, 0, units.length), pow: powOf(units.length) };
    const w = hashUnits(units, 0, window);
    const list = byWindow.get(w);
    if (list) list.push(needle);
    else byWindow.set(w, [needle]);
    filter[(w & filterMask) >>> 3]! |= 1 << (w & 7);
  }
  return { window, windowPow: powOf(window), byWindow, filter, filterMask };
}

/**
 * Source spans [from, to) of every needle occurrence in the view, merged where they overlap or touch. Positions are
 * visited in order and `from` never decreases along a view, so the spans come out sorted.
 */
function scan(v: View, ix: Index, prefix: Int32Array, spans: number[]): void {
  const { units: u, length: n } = v;
  const w = ix.window;
  if (n < w) return;
  const { filter, filterMask, windowPow } = ix;
  // The window's hash rolls along; the prefix hashes (for whole-needle hashes) are computed only once a window
  // matches some needle's start, which most strings never do.
  let hw = 0;
  for (let i = 0; i < w; i++) hw = (Math.imul(hw, BASE) + u[i]!) | 0;
  let prefixed = false;
  let lastFrom = -1;
  let lastTo = -1;
  for (let i = 0; ; i++) {
    if ((filter[(hw & filterMask) >>> 3]! & (1 << (hw & 7))) !== 0) {
      const cands = ix.byWindow.get(hw);
      if (cands) {
        if (!prefixed) {
          prefix[0] = 0;
          for (let k = 0; k < n; k++) prefix[k + 1] = (Math.imul(prefix[k]!, BASE) + u[k]!) | 0;
          prefixed = true;
        }
        for (let c = 0; c < cands.length; c++) {
          const nd = cands[c]!;
          const len = nd.units.length;
          if (i + len > n) continue;
          if (((prefix[i + len]! - Math.imul(prefix[i]!, nd.pow)) | 0) !== nd.hash) continue;
          if (len <= EXACT_COMPARE_MAX) {
            let k = 0;
            while (k < len && u[i + k] === nd.units[k]) k++;
            if (k < len) continue;
          }
          // A long needle matched by its 32-bit hash only: a collision would mask too much, never too little.
          const from = v.from ? v.from[i]! : i;
          const to = v.to ? v.to[i + len - 1]! : i + len;
          if (from <= lastTo) lastTo = Math.max(lastTo, to);
          else {
            if (lastTo >= 0) spans.push(lastFrom, lastTo);
            lastFrom = from;
            lastTo = to;
          }
        }
      }
    }
    if (i + w >= n) break;
    hw = (Math.imul(hw, BASE) + u[i + w]! - Math.imul(u[i]!, windowPow)) | 0;
  }
  if (lastTo >= 0) spans.push(lastFrom, lastTo);
}

/**
 * Masks every registered secret value in any letter case, and in every spelling a server, a URL or a document may
 * give it: %XX (upper or lower hex, every byte or some, or twice), `+` for space, JSON escapes (`\u003d`, `\"`), XML
 * references (`&#61;`, `&#x3D;`, leading zeros, `&amp;`), CSV's doubled quotes, hex and base64, and any mix of them
 * in one string. Matching is by value only; our own messages that name a field ("use auth_key: env:NAME") are never
 * touched. Linear in the text (a few passes of fixed work per character, whatever the input), so a hostile
 * megabyte costs what any megabyte costs.
 * One instance per process; loaders register AuthKeys as they read them, the CLI the access key secret and STS token.
 */
export class Redactor {
  private readonly secrets = new Set<string>();
  private index: Index | undefined;
  private readonly minLength: number;

  constructor(opts: { minLength?: number } = {}) {
    this.minLength = opts.minLength ?? MIN_SECRET_LENGTH;
  }

  /** Registers a value; returns false when it is too short to mask safely (the caller may warn). */
  add(secret: string | undefined): boolean {
    if (!secret || secret.length < this.minLength) return false;
    if (this.secrets.has(secret)) return true;
    this.secrets.add(secret);
    this.index = undefined;
    return true;
  }

  get size(): number {
    return this.secrets.size;
  }

  redact(text: string): string {
    if (this.secrets.size === 0 || text === '') return text;
    this.index ??= buildIndex(this.secrets, this.minLength);
    const ix = this.index;
    const n = text.length;
    if (n < ix.window) return text;
    const [a, b] = this.buffers(n);
    const l0: View = { units: a.units, length: n };
    const escapes = foldInto(text, a.units);
    const spans: number[] = [];
    scan(l0, ix, a.prefix, spans);
    let sorted = true;
    let v: View = l0;
    let into = b;
    let other = a;
    for (let layer = 0; escapes && layer < MAX_DECODE_LAYERS; layer++) {
      const m = decodeInto(v, into);
      if (m < 0) break;
      v = { units: into.units, length: m, from: into.from, to: into.to };
      const before = spans.length;
      scan(v, ix, a.prefix, spans);
      if (spans.length > before && before > 0) sorted = false;
      [into, other] = [other, into];
    }
    if (spans.length === 0) return text;
    return maskSpans(text, sorted ? spans : sortSpans(spans));
  }

  private scratch: [Buffers, Buffers] | undefined;
  /**
   * Two sets of buffers, used in turn by the layers (a layer is decoded from the one before it). Kept between calls
   * for ordinary strings (most redactions are of short lines, where allocation would dominate); not for huge ones.
   */
  private buffers(n: number): [Buffers, Buffers] {
    if (this.scratch && this.scratch[0].units.length >= n) return this.scratch;
    const make = (size: number): [Buffers, Buffers] => [newBuffers(size), newBuffers(size)];
    if (n > SCRATCH_MAX) return make(n);
    this.scratch = make(Math.max(n, 256, 2 * (this.scratch?.[0].units.length ?? 0)));
    return this.scratch;
  }

  /** The redactor as a plain function, e.g. the journal's `redact` option. */
  readonly scrub = (text: string): string => this.redact(text);
}

function sortSpans(flat: number[]): number[] {
  const pairs: Array<[number, number]> = [];
  for (let i = 0; i < flat.length; i += 2) pairs.push([flat[i]!, flat[i + 1]!]);
  pairs.sort((a, b) => a[0] - b[0]);
  return pairs.flat();
}

/** Replaces the spans (sorted by start) with the mask, one mask for spans that overlap or touch. */
function maskSpans(text: string, spans: number[]): string {
  let out = '';
  let at = 0;
  for (let i = 0; i < spans.length; ) {
    const from = spans[i]!;
    let to = spans[i + 1]!;
    i += 2;
    while (i < spans.length && spans[i]! <= to) {
      to = Math.max(to, spans[i + 1]!);
      i += 2;
    }
    out += text.slice(at, from) + MASK;
    at = to;
  }
  return out + text.slice(at);
}

/**
 * Whether `text` holds `secret` in any spelling the redactor knows (raw, any letter case, %XX, JSON, XML and CSV
 * escapes, nested and mixed, hex), or its base64. For values too short to mask in ordinary text: the caller withholds
 * the whole text instead. Short needles match often by chance; a false match only withholds a message.
 */
export function quotesSecret(text: string, secret: string): boolean {
  if (!secret || !text) return false;
  const r = new Redactor({ minLength: 1 });
  r.add(secret);
  if (r.redact(text) !== text) return true;
  const b64 = Buffer.from(secret, 'utf8').toString('base64');
  const bare = b64.replace(/=+$/, '');
  return [b64, bare, bare.replace(/\+/g, '-').replace(/\//g, '_')].some((f) => text.includes(f));
}

/** A plain `(s) => s` masking function over a Redactor, for sinks that take one (the journal's `redact` option). */
export function scrubber(redactor: Redactor): (text: string) => string {
  return redactor.scrub;
}

/** Keyed fingerprint of an AuthKey: detects a change without storing the key or an unkeyed hash of it. */
export function fingerprint(key: string, secret: string): string {
  return 'hmac-sha256:' + createHmac('sha256', key).update(secret, 'utf8').digest('hex').slice(0, 32);
}

export function sameFingerprint(a: string | undefined, b: string | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
