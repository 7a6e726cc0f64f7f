// results.xlsx's custom document properties: the mark that the workbook is cgw-batch's own (reports are only ever
// written over our own files) and the journal it was written from (the sheet, saved under another name, finds it).
import { GENERATOR_VALUE, RESULTS_PROPERTIES, parseCustomProperties, resultsProperties, type ResultsProperties } from '../load/results-props.js';
import { listZip, readEntry } from '../load/zip.js';

const CUSTOM_PART = 'docProps/custom.xml';
const CUSTOM_TYPE = 'application/vnd.openxmlformats-officedocument.custom-properties+xml';
const CUSTOM_REL = 'http://schemas.openxmlformats.org/officeDocument/2006/relationships/custom-properties';
// The format id every custom property carries (ECMA-376 Part 1, 22.3.2.1: user-defined properties).
const FMTID = '{D5CDD505-2E9C-101B-9397-08002B2CF9AE}';

/** The custom-properties part: its name, content type, relationship type and XML (the mark and the journal). */
export const CUSTOM_PROPERTIES = { part: CUSTOM_PART, contentType: CUSTOM_TYPE, relationship: CUSTOM_REL };

export function customPropertiesXml(props: ResultsProperties): string {
  const values: Array<[string, string]> = [[RESULTS_PROPERTIES.generator, GENERATOR_VALUE]];
  for (const k of ['journal', 'journalPath', 'journalId'] as const) {
    const v = props[k];
    if (v !== undefined) values.push([RESULTS_PROPERTIES[k], v]);
  }
  return (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n' +
    '<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/custom-properties" xmlns:vt="http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes">' +
    values.map(([name, v], i) => `<property fmtid="${FMTID}" pid="${i + 2}" name="${xmlText(name)}"><vt:lpwstr>${xmlText(v)}</vt:lpwstr></property>`).join('') +
    '</Properties>'
  );
}

/** Whether an .xlsx package is a results workbook cgw-batch wrote (its custom properties say so). Never throws. */
export function isOurResultsWorkbook(pkg: Buffer): boolean {
  try {
    const e = listZip(pkg, 10_000).find((x) => x.name === CUSTOM_PART);
    if (!e) return false;
    return resultsProperties(parseCustomProperties(readEntry(pkg, e, 1024 * 1024).toString('utf8'))) !== undefined;
  } catch {
    return false;
  }
}

/** Text for an XML attribute or element; characters XML cannot carry are dropped (the values are paths and ids). */
function xmlText(s: string): string {
  return s.replace(/[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/g, '').replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}
