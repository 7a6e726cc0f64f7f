// Minimal XML text/attribute escaping for junit.xml: the five entities, and no characters XML 1.0 forbids.

// XML 1.0 allows only TAB, LF, CR below 0x20; lone surrogates and U+FFFE/U+FFFF are not characters at all.
// eslint-disable-next-line no-control-regex
const INVALID = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

export function stripInvalidXml(s: string): string {
  return s.replace(INVALID, '');
}

export function xmlText(s: string): string {
  return stripInvalidXml(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** Attribute values also keep TAB/LF/CR, which parsers would otherwise normalise to spaces. */
export function xmlAttr(s: string): string {
  return xmlText(s)
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;')
    .replace(/\t/g, '&#9;')
    .replace(/\n/g, '&#10;')
    .replace(/\r/g, '&#13;');
}
