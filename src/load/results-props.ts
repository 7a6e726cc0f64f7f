// What marks a results workbook as cgw-batch's and names its journal: the custom document property names both the
// writer (report/xlsx-props.ts) and the loader (the retry loop: a saved results sheet finds its journal) use.

/** Custom document property names (Excel: File > Properties > Custom); `generator` marks the file as ours. */
export const RESULTS_PROPERTIES = {
  generator: 'cgw-batch',
  journal: 'cgw-batch journal',
  journalPath: 'cgw-batch journal path',
  journalId: 'cgw-batch journal id',
} as const;

/** The generator property's value in a results workbook. */
export const GENERATOR_VALUE = 'results';

/** The journal a results workbook was written from: relative to the workbook's folder, absolute, and its id. */
export interface ResultsProperties {
  journal?: string;
  journalPath?: string;
  journalId?: string;
}

/** The string properties of a docProps/custom.xml part (name -> value); a malformed part yields what it can. */
export function parseCustomProperties(xml: string): Map<string, string> {
  const out = new Map<string, string>();
  const re = /<property\b[^>]*\bname="([^"]{1,200})"[^>]*>\s*<vt:lpwstr>([^<]{0,4096})<\/vt:lpwstr>\s*<\/property>/g;
  for (let m = re.exec(xml); m !== null && out.size < 100; m = re.exec(xml)) out.set(unescapeXml(m[1]!), unescapeXml(m[2]!));
  return out;
}

/** The journal named by a workbook's custom properties, when the generator property says it is a results workbook. */
export function resultsProperties(props: ReadonlyMap<string, string>): ResultsProperties | undefined {
  if (props.get(RESULTS_PROPERTIES.generator) !== GENERATOR_VALUE) return undefined;
  const out: ResultsProperties = {};
  for (const k of ['journal', 'journalPath', 'journalId'] as const) {
    const v = props.get(RESULTS_PROPERTIES[k]);
    if (v) out[k] = v;
  }
  return out;
}

function unescapeXml(s: string): string {
  return s.replace(/&(lt|gt|quot|apos|amp);/g, (_m, e: string) => ({ lt: '<', gt: '>', quot: '"', apos: "'", amp: '&' })[e] ?? '');
}
