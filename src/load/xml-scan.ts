// A linear scanner over the tags of an XML part (OOXML parts are flat and regular): every character is looked at a
// bounded number of times, so no input can make a scan quadratic the way backtracking regular expressions could.
// Comments, CDATA, processing instructions and declarations are skipped; names are local (prefix dropped).

/** A part that is not XML as far as the scanner can tell; the caller names the part. */
export class XmlScanError extends Error {
  override name = 'XmlScanError';
}

export class TagScanner {
  /** Where the scan continues (just past the current tag). */
  pos: number;
  /** The current tag: `<` at `start`, `>` at `end - 1`. */
  start = 0;
  end = 0;
  /** Where the local name (after any `prefix:`) starts; it ends at nameEnd. */
  localStart = 0;
  /** `</name>` */
  closing = false;
  /** `<name .../>` */
  selfClosing = false;
  /** Offset just past the tag's name: attributes are in [nameEnd, end - 1 or - 2). */
  nameEnd = 0;

  constructor(
    readonly s: string,
    from = 0,
  ) {
    this.pos = from;
  }

  /** Advances to the next element tag; false at the end of the text. */
  next(): boolean {
    const s = this.s;
    for (;;) {
      const lt = s.indexOf('<', this.pos);
      if (lt < 0) {
        this.pos = s.length;
        return false;
      }
      const c1 = s.charCodeAt(lt + 1);
      if (c1 === 0x21 /* ! */) {
        this.pos = skipDeclaration(s, lt);
        continue;
      }
      if (c1 === 0x3f /* ? */) {
        const e = s.indexOf('?>', lt + 2);
        if (e < 0) throw new XmlScanError('a processing instruction is not closed');
        this.pos = e + 2;
        continue;
      }
      this.closing = c1 === 0x2f;
      let p = this.closing ? lt + 2 : lt + 1;
      const nameStart = p;
      let colon = -1;
      for (; p < s.length; p++) {
        const c = s.charCodeAt(p);
        if (c === 0x3e || c === 0x2f || c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d) break;
        if (c === 0x3c) throw new XmlScanError('a tag is not closed before the next one starts');
        if (c === 0x3a) colon = p;
      }
      if (p === nameStart) throw new XmlScanError('a tag has no name');
      this.localStart = colon >= 0 ? colon + 1 : nameStart;
      this.nameEnd = p;
      // To the closing '>' outside quotes; a '<' outside quotes means the tag was never closed.
      let quote = 0;
      for (; p < s.length; p++) {
        const c = s.charCodeAt(p);
        if (quote !== 0) {
          if (c === quote) quote = 0;
          else if (c === 0x3c) throw new XmlScanError('a tag is not closed before the next one starts');
        } else if (c === 0x22 || c === 0x27) quote = c;
        else if (c === 0x3e) break;
        else if (c === 0x3c) throw new XmlScanError('a tag is not closed before the next one starts');
      }
      if (p >= s.length) throw new XmlScanError('a tag is not closed before the end of the part');
      this.start = lt;
      this.end = p + 1;
      this.selfClosing = !this.closing && s.charCodeAt(p - 1) === 0x2f;
      this.pos = this.end;
      return true;
    }
  }

  /** Local name of the current tag (after any `prefix:`). */
  get name(): string {
    return this.s.slice(this.localStart, this.nameEnd);
  }

  /** The current tag's local name is `n` (compared in place: the hot path allocates nothing). */
  is(n: string): boolean {
    return this.nameEnd - this.localStart === n.length && this.s.startsWith(n, this.localStart);
  }

  /** One attribute of the current tag by local name, entity-decoded; undefined when absent. */
  attr(n: string): string | undefined {
    return findAttribute(this.s, this.nameEnd, this.selfClosing ? this.end - 2 : this.end - 1, n);
  }

  /**
   * Several attributes in one pass over the tag: `out[i]` gets the decoded value of `names[i]` (local name), or
   * undefined. For the hot path (a cell's r, t and s): no objects, no closures.
   */
  pick(names: readonly string[], out: Array<string | undefined>): void {
    this.pickSpans(names, spans);
    for (let i = 0; i < names.length; i++) {
      const a = spans[2 * i]!;
      out[i] = a < 0 ? undefined : decodeXml(this.s.slice(a, spans[2 * i + 1]));
    }
  }

  /**
   * Where the values of `names` are: `out[2i]` and `out[2i + 1]` are the start and end of names[i]'s value as
   * written (entities not decoded), or -1 and -1. Nothing is allocated.
   */
  pickSpans(names: readonly string[], out: Int32Array): void {
    const s = this.s;
    const to = this.selfClosing ? this.end - 2 : this.end - 1;
    out.fill(-1, 0, names.length * 2);
    let p = this.nameEnd;
    while (p < to) {
      let c = s.charCodeAt(p);
      if (c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d) {
        p++;
        continue;
      }
      let localStart = p;
      while (p < to) {
        c = s.charCodeAt(p);
        if (c === 0x3d || c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d) break;
        if (c === 0x3a) localStart = p + 1;
        p++;
      }
      const nameEnd = p;
      while (p < to && s.charCodeAt(p) !== 0x3d) {
        c = s.charCodeAt(p);
        if (c !== 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) throw new XmlScanError('an attribute has no value');
        p++;
      }
      p++;
      while (p < to && (s.charCodeAt(p) === 0x20 || s.charCodeAt(p) === 0x09 || s.charCodeAt(p) === 0x0a || s.charCodeAt(p) === 0x0d)) p++;
      const q = s.charCodeAt(p);
      if (q !== 0x22 && q !== 0x27) throw new XmlScanError('an attribute value is not quoted');
      const end = s.indexOf(q === 0x22 ? '"' : "'", p + 1);
      if (end < 0 || end > to) throw new XmlScanError('an attribute value is not closed');
      const len = nameEnd - localStart;
      for (let i = 0; i < names.length; i++) {
        const n = names[i]!;
        if (out[2 * i]! < 0 && n.length === len && s.startsWith(n, localStart)) {
          out[2 * i] = p + 1;
          out[2 * i + 1] = end;
          break;
        }
      }
      p = end + 1;
    }
  }

  /** Attributes of the current tag (entity-decoded), by local name; `xmlns` declarations are left out. */
  attrs(): Record<string, string> {
    return parseAttributes(this.s, this.nameEnd, this.selfClosing ? this.end - 2 : this.end - 1);
  }

  /** The attribute text of the current tag as written (for copying a tag through unchanged). */
  rawAttrs(): string {
    return this.s.slice(this.nameEnd, this.selfClosing ? this.end - 2 : this.end - 1);
  }

  /**
   * Skips to just past the end of the current element (its children included) and returns the raw text between
   * its start and end tags ('' for a self-closing tag). Call right after `next()` returned its start tag.
   */
  skipElement(): string {
    if (this.selfClosing || this.closing) return '';
    const from = this.end;
    let depth = 1;
    while (this.next()) {
      if (this.closing) {
        if (--depth === 0) return this.s.slice(from, this.start);
      } else if (!this.selfClosing) depth++;
    }
    throw new XmlScanError('an element is not closed before the end of the part');
  }
}

// pick() works through pickSpans(); no tag asks for more than 8 attributes at once.
const spans = new Int32Array(16);

/** `<!-- -->`, `<![CDATA[ ]]>` or a declaration (`<!DOCTYPE ...>`, whose internal subset is refused). */
function skipDeclaration(s: string, lt: number): number {
  if (s.startsWith('<!--', lt)) {
    const e = s.indexOf('-->', lt + 4);
    if (e < 0) throw new XmlScanError('a comment is not closed');
    return e + 3;
  }
  if (s.startsWith('<![CDATA[', lt)) {
    const e = s.indexOf(']]>', lt + 9);
    if (e < 0) throw new XmlScanError('a CDATA section is not closed');
    return e + 3;
  }
  const gt = s.indexOf('>', lt + 2);
  if (gt < 0) throw new XmlScanError('a declaration is not closed');
  // An internal DTD subset could declare entities (and entity bombs): no spreadsheet program writes one. Searched
  // only up to this declaration's end, so many declarations cost no more than one pass.
  for (let p = lt + 2; p < gt; p++) if (s.charCodeAt(p) === 0x5b) throw new XmlScanError('the part declares a DTD, which workbooks never do');
  return gt + 1;
}

/** The attribute `want` (local name) in s[from, to), decoded, without building the others. */
function findAttribute(s: string, from: number, to: number, want: string): string | undefined {
  let found: string | undefined;
  eachAttribute(s, from, to, (localStart, nameEnd, valueStart, valueEnd) => {
    if (found === undefined && nameEnd - localStart === want.length && s.startsWith(want, localStart)) found = decodeXml(s.slice(valueStart, valueEnd));
  });
  return found;
}

/** Attributes in s[from, to): a character loop (no backtracking), values entity-decoded, names local. */
export function parseAttributes(s: string, from: number, to: number): Record<string, string> {
  const out: Record<string, string> = Object.create(null);
  eachAttribute(s, from, to, (localStart, nameEnd, valueStart, valueEnd, qnameStart) => {
    const qname = s.slice(qnameStart, nameEnd);
    if (qname === 'xmlns' || qname.startsWith('xmlns:')) return;
    // `r:id` and `id` both land on `id`; the first one written wins, as no part here writes both.
    const local = s.slice(localStart, nameEnd);
    if (!(local in out)) out[local] = decodeXml(s.slice(valueStart, valueEnd));
  });
  return out;
}

type AttributeVisitor = (localStart: number, nameEnd: number, valueStart: number, valueEnd: number, qnameStart: number) => void;

/** Walks the attributes in s[from, to) once, with positions only. */
function eachAttribute(s: string, from: number, to: number, visit: AttributeVisitor): void {
  let p = from;
  while (p < to) {
    let c = s.charCodeAt(p);
    if (c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d) {
      p++;
      continue;
    }
    const nameStart = p;
    let colon = -1;
    while (p < to) {
      c = s.charCodeAt(p);
      if (c === 0x3d || c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d) break;
      if (c === 0x3a) colon = p;
      p++;
    }
    const nameEnd = p;
    while (p < to && s.charCodeAt(p) !== 0x3d) {
      c = s.charCodeAt(p);
      if (c !== 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) throw new XmlScanError('an attribute has no value');
      p++;
    }
    p++; // '='
    while (p < to && (s.charCodeAt(p) === 0x20 || s.charCodeAt(p) === 0x09 || s.charCodeAt(p) === 0x0a || s.charCodeAt(p) === 0x0d)) p++;
    const q = s.charCodeAt(p);
    if (q !== 0x22 && q !== 0x27) throw new XmlScanError('an attribute value is not quoted');
    const end = s.indexOf(q === 0x22 ? '"' : "'", p + 1);
    if (end < 0 || end > to) throw new XmlScanError('an attribute value is not closed');
    visit(colon >= 0 ? colon + 1 : nameStart, nameEnd, p + 1, end, nameStart);
    p = end + 1;
  }
}

/** The five predefined entities and character references; anything else is left as written. */
export function decodeXml(s: string): string {
  if (s.indexOf('&') < 0) return s;
  return s.replace(/&(amp|lt|gt|quot|apos|#\d{1,7}|#x[0-9a-fA-F]{1,6});/g, (_, e: string) => {
    if (e === 'amp') return '&';
    if (e === 'lt') return '<';
    if (e === 'gt') return '>';
    if (e === 'quot') return '"';
    if (e === 'apos') return "'";
    const cp = e.startsWith('#x') ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10);
    return cp <= 0x10ffff ? String.fromCodePoint(cp) : '';
  });
}
