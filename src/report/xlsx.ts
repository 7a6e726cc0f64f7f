// results.xlsx as a pure renderer: every cell a text cell (0123, 1.10 and =1+1 stay as written, nothing is evaluated),
// input columns first so the sheet, filtered and saved, loads as the next manifest; frozen header, filter, status colours.
// Written as SpreadsheetML directly (the parts exceljs wrote, without its theme): every apply writes this workbook, and
// loading exceljs costs several times a small run's whole start-up.
import { deflateZip } from '../load/zip.js';
import type { ResultsProperties } from '../load/results-props.js';
import { CUSTOM_PROPERTIES, customPropertiesXml } from './xlsx-props.js';

export interface ResultsTable {
  /** Default `Results`. Cut to Excel's 31 characters, without the characters a sheet name cannot hold. */
  sheetName?: string;
  header: string[];
  /** Cell texts, one array per row, in header order. */
  rows: string[][];
  /** Index (0-based) of the status column, whose cells are coloured by outcome. */
  statusColumn?: number;
  /** How many leading columns are the manifest's input columns (the rest are cgw-batch's result columns). */
  inputColumns: number;
  /**
   * The journal the results come from, kept in the workbook's custom document properties: relative to the workbook's
   * folder (`journal`), absolute (`journalPath`) and its id. A copy of the sheet saved under another name finds it.
   */
  properties?: ResultsProperties;
  /**
   * Sheets after the results, each a header and text rows (the manifest's IPsec profiles: a Profiles sheet, so the
   * workbook filtered and saved is a whole manifest again).
   */
  sheets?: Array<{ name: string; header: string[]; rows: string[][] }>;
}

/** Points of height per line of text at Excel's default 11 pt font; Excel's largest row is 409 pt. */
const LINE_HEIGHT = 15;
const MAX_ROW_HEIGHT = 409;

/** Excel's "Good", "Neutral" and "Bad" cell styles: fill and font colour. */
const GOOD = { fill: 'FFC6EFCE', font: 'FF006100' };
const NEUTRAL = { fill: 'FFFFEB9C', font: 'FF9C5700' };
const BAD = { fill: 'FFFFC7CE', font: 'FF9C0006' };
const STATUS_STYLE: Record<string, { fill: string; font: string }> = {
  created: GOOD,
  adopted: GOOD,
  updated: GOOD,
  deleted: GOOD,
  unknown: NEUTRAL,
  'in-flight': NEUTRAL,
  pending: NEUTRAL,
  failed: BAD,
  blocked: BAD,
  invalid: BAD,
};

/** The most a cell holds in Excel; longer text makes Excel refuse the file. */
export const MAX_CELL_CHARS = 32_767;

const INPUT_HEAD = 'FFDDEBF7';
const RESULT_HEAD = 'FFEDEDED';

export async function resultsXlsx(table: ResultsTable): Promise<Buffer> {
  return renderWorkbook(table);
}

const NOTE =
  'Columns from here to the right are written by cgw-batch. They are ignored when this sheet is loaded as a manifest: ' +
  'filter it (for example to the failed rows), fix the input columns, save it and plan it again.';

type Align = '' | 'top' | 'wrap';

/** Cell formats (cellXfs), each Text-formatted: allocated as the sheet uses them. */
class Styles {
  readonly fonts = ['<font><sz val="11"/><name val="Calibri"/><family val="2"/></font>', '<font><b/><sz val="11"/><name val="Calibri"/><family val="2"/></font>'];
  readonly fills = ['<fill><patternFill patternType="none"/></fill>', '<fill><patternFill patternType="gray125"/></fill>'];
  // 0: General (Excel's default for unstyled cells), 1: Text (the columns' own format).
  readonly xfs = ['<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>', '<xf numFmtId="49" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'];
  private readonly ids = new Map<string, number>([['0||', 1]]);
  private readonly fontIds = new Map<string, number>([['', 0], ['b', 1]]);
  private readonly fillIds = new Map<string, number>();

  /** The cellXfs index of a Text cell with this font colour (bold when given), fill and alignment. */
  xf(font: '' | 'b' | string, fill: string, align: Align): number {
    const fontId = this.font(font);
    const fillId = fill ? this.fill(fill) : 0;
    const key = `${fontId}|${fillId}|${align}`;
    let id = this.ids.get(key);
    if (id === undefined) {
      const al = align === '' ? '' : align === 'top' ? '<alignment vertical="top"/>' : '<alignment vertical="top" wrapText="1"/>';
      const apply = `${fontId ? ' applyFont="1"' : ''}${fillId ? ' applyFill="1"' : ''}${al ? ' applyAlignment="1"' : ''}`;
      this.xfs.push(`<xf numFmtId="49" fontId="${fontId}" fillId="${fillId}" borderId="0" xfId="0" applyNumberFormat="1"${apply}${al ? `>${al}</xf>` : '/>'}`);
      id = this.xfs.length - 1;
      this.ids.set(key, id);
    }
    return id;
  }

  private font(color: string): number {
    let id = this.fontIds.get(color);
    if (id === undefined) {
      this.fonts.push(`<font><b/><color rgb="${color}"/><sz val="11"/><name val="Calibri"/><family val="2"/></font>`);
      id = this.fonts.length - 1;
      this.fontIds.set(color, id);
    }
    return id;
  }

  private fill(argb: string): number {
    let id = this.fillIds.get(argb);
    if (id === undefined) {
      this.fills.push(`<fill><patternFill patternType="solid"><fgColor rgb="${argb}"/><bgColor indexed="64"/></patternFill></fill>`);
      id = this.fills.length - 1;
      this.fillIds.set(argb, id);
    }
    return id;
  }

  xml(): string {
    return (
      `${XML_HEAD}<styleSheet xmlns="${MAIN_NS}">` +
      `<fonts count="${this.fonts.length}">${this.fonts.join('')}</fonts>` +
      `<fills count="${this.fills.length}">${this.fills.join('')}</fills>` +
      '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>' +
      '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>' +
      `<cellXfs count="${this.xfs.length}">${this.xfs.join('')}</cellXfs>` +
      '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>' +
      '<dxfs count="0"/><tableStyles count="0" defaultTableStyle="TableStyleMedium2" defaultPivotStyle="PivotStyleLight16"/></styleSheet>'
    );
  }
}

/** Shared strings: every distinct text once (as Excel itself writes text cells). */
class SharedStrings {
  private readonly index = new Map<string, number>();
  private readonly items: string[] = [];
  count = 0;

  id(text: string): number {
    this.count++;
    let id = this.index.get(text);
    if (id === undefined) {
      id = this.items.length;
      this.items.push(`<si>${textElement(text)}</si>`);
      this.index.set(text, id);
    }
    return id;
  }

  xml(): string {
    return `${XML_HEAD}<sst xmlns="${MAIN_NS}" count="${this.count}" uniqueCount="${this.items.length}">${this.items.join('')}</sst>`;
  }
}

const XML_HEAD = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n';
const MAIN_NS = 'http://schemas.openxmlformats.org/spreadsheetml/2006/main';
const REL_NS = 'http://schemas.openxmlformats.org/officeDocument/2006/relationships';
const PKG_REL_NS = 'http://schemas.openxmlformats.org/package/2006/relationships';

function renderWorkbook(table: ResultsTable): Buffer {
  const styles = new Styles();
  const strings = new SharedStrings();
  const width = Math.max(table.header.length, ...table.rows.map((r) => r.length));
  const widths = new Array<number>(width).fill(8);
  const rowsXml: string[] = [];

  // One row: its cells' texts, the fill and font per cell, and (for a multi-line row) wrapping and the row's height.
  const put = (r: number, values: readonly string[], look: (c: number) => { font: string; fill: string }) => {
    const texts: string[] = [];
    let lines = 1;
    for (let c = 0; c < width; c++) {
      const text = cellText(values[c] ?? '');
      texts.push(text);
      widths[c] = Math.max(widths[c]!, Math.min(60, longestLine(text) + 2));
      lines = Math.max(lines, lineCount(text));
    }
    // A line break in a cell that does not wrap is drawn over the row above: wrap it and give the row its lines
    // (Excel does not grow a row's height for text written by another program).
    const cells = texts.map((text, c) => {
      const { font, fill } = look(c);
      const align: Align = lines === 1 ? '' : lineCount(text) > 1 ? 'wrap' : 'top';
      return `<c r="${columnName(c)}${r}" s="${styles.xf(font, fill, align)}" t="s"><v>${strings.id(text)}</v></c>`;
    });
    const height = lines > 1 ? ` ht="${Math.min(MAX_ROW_HEIGHT, lines * LINE_HEIGHT)}" customHeight="1"` : '';
    rowsXml.push(`<row r="${r}"${height}>${cells.join('')}</row>`);
  };

  put(1, table.header, (c) => ({ font: 'b', fill: c < table.inputColumns ? INPUT_HEAD : RESULT_HEAD }));
  const plain = { font: '', fill: '' };
  table.rows.forEach((values, i) => {
    const s = table.statusColumn;
    const style = s === undefined ? undefined : STATUS_STYLE[(values[s] ?? '').trim().toLowerCase()];
    put(i + 2, values, (c) => (style && c === s ? { font: style.font, fill: style.fill } : plain));
  });

  const last = `${columnName(Math.max(0, width - 1))}${Math.max(1, table.rows.length + 1)}`;
  const note = table.inputColumns < width ? table.inputColumns : undefined;
  // Rows typed below the table stay text too: every column has the Text format.
  const cols = width > 0 ? `<cols>${widths.map((w, c) => `<col min="${c + 1}" max="${c + 1}" width="${w}" style="1" customWidth="1"/>`).join('')}</cols>` : '';
  const sheet =
    `${XML_HEAD}<worksheet xmlns="${MAIN_NS}" xmlns:r="${REL_NS}">` +
    `<dimension ref="A1:${last}"/>` +
    '<sheetViews><sheetView workbookViewId="0"><pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/><selection pane="bottomLeft"/></sheetView></sheetViews>' +
    '<sheetFormatPr defaultRowHeight="15"/>' +
    cols +
    `<sheetData>${rowsXml.join('')}</sheetData>` +
    (width > 0 ? `<autoFilter ref="A1:${last}"/>` : '') +
    '<pageMargins left="0.7" right="0.7" top="0.75" bottom="0.75" header="0.3" footer="0.3"/>' +
    (note !== undefined ? '<legacyDrawing r:id="rId2"/>' : '') +
    '</worksheet>';

  const extra = (table.sheets ?? []).map((x, i) => ({ name: sheetName(x.name), part: `sheet${i + 2}.xml`, xml: plainSheet(styles, strings, x.header, x.rows) }));
  const name = sheetName(table.sheetName ?? 'Results');
  const types = [
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>',
    '<Default Extension="xml" ContentType="application/xml"/>',
    '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>',
    '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>',
    ...extra.map((x) => `<Override PartName="/xl/worksheets/${x.part}" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>`),
    '<Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>',
    '<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>',
    '<Override PartName="/docProps/core.xml" ContentType="application/vnd.openxmlformats-package.core-properties+xml"/>',
    '<Override PartName="/docProps/app.xml" ContentType="application/vnd.openxmlformats-officedocument.extended-properties+xml"/>',
    `<Override PartName="/${CUSTOM_PROPERTIES.part}" ContentType="${CUSTOM_PROPERTIES.contentType}"/>`,
  ];
  if (note !== undefined) {
    types.push(
      '<Default Extension="vml" ContentType="application/vnd.openxmlformats-officedocument.vmlDrawing"/>',
      '<Override PartName="/xl/comments1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.comments+xml"/>',
    );
  }
  const parts: Array<[string, string]> = [
    ['[Content_Types].xml', `${XML_HEAD}<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">${types.join('')}</Types>`],
    [
      '_rels/.rels',
      `${XML_HEAD}<Relationships xmlns="${PKG_REL_NS}">` +
        `<Relationship Id="rId1" Type="${REL_NS}/officeDocument" Target="xl/workbook.xml"/>` +
        '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/package/2006/relationships/metadata/core-properties" Target="docProps/core.xml"/>' +
        `<Relationship Id="rId3" Type="${REL_NS}/extended-properties" Target="docProps/app.xml"/>` +
        `<Relationship Id="rIdCgwBatch" Type="${CUSTOM_PROPERTIES.relationship}" Target="${CUSTOM_PROPERTIES.part}"/>` +
        '</Relationships>',
    ],
    [
      'docProps/core.xml',
      `${XML_HEAD}<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:creator>cgw-batch</dc:creator></cp:coreProperties>`,
    ],
    [
      'docProps/app.xml',
      `${XML_HEAD}<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/extended-properties"><Application>cgw-batch</Application></Properties>`,
    ],
    [CUSTOM_PROPERTIES.part, customPropertiesXml(table.properties ?? {})],
    [
      'xl/workbook.xml',
      `${XML_HEAD}<workbook xmlns="${MAIN_NS}" xmlns:r="${REL_NS}"><bookViews><workbookView/></bookViews>` +
        `<sheets><sheet name="${escapeXml(name)}" sheetId="1" r:id="rId3"/>${extra.map((x, i) => `<sheet name="${escapeXml(x.name)}" sheetId="${i + 2}" r:id="rId${i + 4}"/>`).join('')}</sheets></workbook>`,
    ],
    [
      'xl/_rels/workbook.xml.rels',
      `${XML_HEAD}<Relationships xmlns="${PKG_REL_NS}">` +
        `<Relationship Id="rId1" Type="${REL_NS}/styles" Target="styles.xml"/>` +
        `<Relationship Id="rId2" Type="${REL_NS}/sharedStrings" Target="sharedStrings.xml"/>` +
        `<Relationship Id="rId3" Type="${REL_NS}/worksheet" Target="worksheets/sheet1.xml"/>` +
        extra.map((x, i) => `<Relationship Id="rId${i + 4}" Type="${REL_NS}/worksheet" Target="worksheets/${x.part}"/>`).join('') +
        '</Relationships>',
    ],
    ['xl/worksheets/sheet1.xml', sheet],
    ...extra.map((x): [string, string] => [`xl/worksheets/${x.part}`, x.xml]),
    ['xl/styles.xml', styles.xml()],
    ['xl/sharedStrings.xml', strings.xml()],
  ];
  if (note !== undefined) parts.push(...noteParts(note));
  return deflateZip(parts.map(([name, xml]) => ({ name, data: Buffer.from(xml, 'utf8') })));
}

/** A plain sheet: a bold header, then text rows; every column Text-formatted and as wide as its longest line. */
function plainSheet(styles: Styles, strings: SharedStrings, header: readonly string[], rows: readonly (readonly string[])[]): string {
  const width = Math.max(header.length, ...rows.map((r) => r.length));
  const widths = new Array<number>(width).fill(8);
  const row = (r: number, values: readonly string[], font: '' | 'b'): string => {
    const cells: string[] = [];
    for (let c = 0; c < width; c++) {
      const text = cellText(values[c] ?? '');
      widths[c] = Math.max(widths[c]!, Math.min(60, longestLine(text) + 2));
      cells.push(`<c r="${columnName(c)}${r}" s="${styles.xf(font, '', '')}" t="s"><v>${strings.id(text)}</v></c>`);
    }
    return `<row r="${r}">${cells.join('')}</row>`;
  };
  const body = [row(1, header, 'b'), ...rows.map((values, i) => row(i + 2, values, ''))];
  const last = `${columnName(Math.max(0, width - 1))}${Math.max(1, rows.length + 1)}`;
  const cols = width > 0 ? `<cols>${widths.map((w, c) => `<col min="${c + 1}" max="${c + 1}" width="${w}" style="1" customWidth="1"/>`).join('')}</cols>` : '';
  return (
    `${XML_HEAD}<worksheet xmlns="${MAIN_NS}" xmlns:r="${REL_NS}"><dimension ref="A1:${last}"/>` +
    '<sheetViews><sheetView workbookViewId="0"/></sheetViews><sheetFormatPr defaultRowHeight="15"/>' +
    `${cols}<sheetData>${body.join('')}</sheetData>` +
    '<pageMargins left="0.7" right="0.7" top="0.75" bottom="0.75" header="0.3" footer="0.3"/></worksheet>'
  );
}

/** The header note on the first result column: the comment and the legacy drawing Excel shows it with. */
function noteParts(col: number): Array<[string, string]> {
  const ref = `${columnName(col)}1`;
  return [
    [
      'xl/worksheets/_rels/sheet1.xml.rels',
      `${XML_HEAD}<Relationships xmlns="${PKG_REL_NS}">` +
        `<Relationship Id="rId1" Type="${REL_NS}/comments" Target="../comments1.xml"/>` +
        `<Relationship Id="rId2" Type="${REL_NS}/vmlDrawing" Target="../drawings/vmlDrawing1.vml"/>` +
        '</Relationships>',
    ],
    [
      'xl/comments1.xml',
      `${XML_HEAD}<comments xmlns="${MAIN_NS}"><authors><author>cgw-batch</author></authors><commentList>` +
        `<comment ref="${ref}" authorId="0"><text><r><t>${escapeXml(NOTE)}</t></r></text></comment></commentList></comments>`,
    ],
    [
      'xl/drawings/vmlDrawing1.vml',
      `${XML_HEAD}<xml xmlns:v="urn:schemas-microsoft-com:vml" xmlns:o="urn:schemas-microsoft-com:office:office" xmlns:x="urn:schemas-microsoft-com:office:excel">` +
        '<o:shapelayout v:ext="edit"><o:idmap v:ext="edit" data="1"/></o:shapelayout>' +
        '<v:shapetype id="_x0000_t202" coordsize="21600,21600" o:spt="202" path="m,l,21600r21600,l21600,xe"><v:stroke joinstyle="miter"/><v:path gradientshapeok="t" o:connecttype="rect"/></v:shapetype>' +
        '<v:shape id="_x0000_s1025" type="#_x0000_t202" style="position:absolute;margin-left:105.3pt;margin-top:10.5pt;width:97.8pt;height:59.1pt;z-index:1;visibility:hidden" fillcolor="infoBackground [80]" strokecolor="none [81]" o:insetmode="auto">' +
        '<v:fill color2="infoBackground [80]"/><v:shadow color="none [81]" obscured="t"/><v:path o:connecttype="none"/>' +
        '<v:textbox style="mso-direction-alt:auto" inset="1.3mm,1.3mm,2.5mm,2.5mm"><div style="text-align:left"/></v:textbox>' +
        `<x:ClientData ObjectType="Note"><x:MoveWithCells/><x:SizeWithCells/><x:Anchor>${col + 1}, 6, 0, 14, ${col + 3}, 2, 4, 16</x:Anchor>` +
        `<x:Locked>True</x:Locked><x:AutoFill>False</x:AutoFill><x:LockText>True</x:LockText><x:Row>0</x:Row><x:Column>${col}</x:Column></x:ClientData>` +
        '</v:shape></xml>',
    ],
  ];
}

/** A0-based column index as Excel's letters: 0 A, 25 Z, 26 AA. */
function columnName(c: number): string {
  let s = '';
  for (let n = c + 1; n > 0; n = Math.floor((n - 1) / 26)) s = String.fromCharCode(65 + ((n - 1) % 26)) + s;
  return s;
}

function escapeXml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** A `<t>` element; blanks at either end and line breaks kept (xml:space), a carriage return as a reference. */
function textElement(s: string): string {
  const body = escapeXml(s).replace(/\r/g, '&#13;');
  return /^\s|\s$|[\n\t]/.test(s) ? `<t xml:space="preserve">${body}</t>` : `<t>${body}</t>`;
}

function lineCount(s: string): number {
  let n = 1;
  for (let i = s.indexOf('\n'); i >= 0; i = s.indexOf('\n', i + 1)) n++;
  return n;
}

/** Characters XML 1.0 cannot carry (C0 controls but tab and line breaks, lone surrogates, U+FFFE/FFFF) become U+FFFD. */
const XML_INVALID = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

export function cellText(s: string): string {
  const clean = s.replace(XML_INVALID, '\uFFFD');
  return clean.length <= MAX_CELL_CHARS ? clean : `${clean.slice(0, MAX_CELL_CHARS - 1)}…`;
}

function sheetName(name: string): string {
  const clean = name.replace(/[[\]:*?/\\]/g, '_').replace(/^'+|'+$/g, '').slice(0, 31);
  return clean === '' ? 'Results' : clean;
}

function longestLine(s: string): number {
  let max = 0;
  for (const line of s.split('\n')) max = Math.max(max, line.length);
  return max;
}
