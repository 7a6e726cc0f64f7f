// YAML bytes -> Manifest on js-yaml 5's event parser: every scalar stays text, each row knows its line, no aliases/tags.
import { createHash } from 'node:crypto';
import { EVENT_ID, SCALAR_STYLE, getScalarValue, parseEvents, type Event } from 'js-yaml';
import { ManifestError } from '../errors.js';
import { FIELDS, SITE_FIELDS, type Field, type Issue, type Manifest, type SiteField, type Tag, type WrittenProfile, type WrittenRow } from '../types.js';
import { resolveAuthKey } from './authkey.js';
import { PROFILE_PARAMS, likelyParam, profileParam } from './profiles.js';
import { echoPsk, resolvePsk } from './psk.js';
import { toText } from './decode.js';
import { DEFAULT_MAX_BYTES, DEFAULT_MAX_RECORD_BYTES, type LoadOptions } from './options.js';
import { printable } from '../text.js';
import { closest } from './suggest.js';
import { formatTags, mergeTags } from './tags.js';

/** A parse error shown as file:line:col + reason (ManifestError's message has no column, so it is rebuilt here). */
export class YamlSyntaxError extends ManifestError {
  constructor(file: string, line: number, readonly column: number, reason: string) {
    super(file, line, reason);
    this.message = `${file}:${line}:${column}: ${reason}`;
  }
}

// Tiny tree built from parser events: positions are offsets into the decoded text.
type YScalar = { k: 'scalar'; value: string; pos: number; end: number; plain: boolean; isNull: boolean };
type YMap = { k: 'map'; pos: number; end: number; entries: Array<{ key: string; keyPos: number; value: YNode }> };
type YSeq = { k: 'seq'; pos: number; end: number; items: YNode[] };
type YNode = YScalar | YMap | YSeq;

type ScalarKey = Exclude<Field, 'tags'>;
const SCALAR_KEYS: readonly string[] = ['region', 'ip', 'ip_address', 'name', 'description', 'asn', 'auth_key', 'auth_key_env', 'resource_group_id'];
const SITE_KEYS: ReadonlySet<string> = new Set(SITE_FIELDS);
const ITEM_KEYS: readonly string[] = [...SCALAR_KEYS, 'tags', ...SITE_FIELDS];
const ALLOWED = ITEM_KEYS.join(', ');
const TOP_KEYS = ['defaults', 'gateways', 'profiles'];

/** ` (did you mean 'name'?)` when `key` is a typo of one of `known` (case, spaces, `_` and `-` aside), else ''. */
function didYouMean(key: string, known: readonly string[]): string {
  const norm = (k: string) => k.normalize('NFKC').toLowerCase().replace(/[\s_-]+/g, '');
  const byNorm = new Map(known.map((k) => [norm(k), k]));
  const n = norm(key);
  const hit = byNorm.get(n) ?? byNorm.get(closest(n, byNorm.keys()) ?? '');
  return hit === undefined ? '' : ` (did you mean '${hit}'?)`;
}

export interface YamlResult {
  manifest: Manifest;
  literalAuthKeys: boolean;
}

/** Pure YAML reader. Throws ManifestError (never js-yaml's exception, whose message quotes the source). */
export function readYaml(bytes: Buffer, file: string, opts: LoadOptions): YamlResult {
  const maxBytes = opts.maxBytes ?? DEFAULT_MAX_BYTES;
  if (bytes.length > maxBytes) throw new ManifestError(file, undefined, `the file is ${bytes.length} bytes, over the ${maxBytes}-byte limit`);
  const hash = createHash('sha256').update(bytes).digest('hex');
  const text = toText(bytes, file, 'yaml');
  const lines = new LineIndex(text);

  let events: Event[];
  try {
    events = parseEvents(text, { maxDepth: 50 });
  } catch (e) {
    throw syntaxError(e, file, opts);
  }
  const root = buildTree(events, text, file, lines, opts.maxRecordBytes ?? DEFAULT_MAX_RECORD_BYTES);
  if (root === undefined) throw new ManifestError(file, undefined, 'manifest is empty');

  let defaultsNode: YMap | undefined;
  let gatewaysNode: YNode | undefined;
  let profiles: WrittenProfile[] | undefined;
  if (root.k === 'seq') gatewaysNode = root;
  else if (root.k === 'map') {
    for (const e of root.entries) {
      if (e.key === 'defaults') {
        if (e.value.k !== 'map' && !isNull(e.value)) throw new ManifestError(file, lines.lineAt(e.keyPos), 'defaults must be a map of field: value');
        if (e.value.k === 'map') defaultsNode = e.value;
      } else if (e.key === 'gateways') gatewaysNode = e.value;
      else if (e.key === 'profiles') profiles = readProfiles(e.value, e.keyPos, file, lines);
      else throw new ManifestError(file, lines.lineAt(e.keyPos), `unknown top-level key '${shortKey(e.key)}'${didYouMean(e.key, TOP_KEYS)}; allowed: defaults, gateways, profiles (or a bare list of gateways)`);
    }
    if (gatewaysNode === undefined) throw new ManifestError(file, lines.lineAt(root.pos), 'no gateways: list (write gateways: followed by - items)');
  } else throw new ManifestError(file, lines.lineAt(root.pos), 'manifest must be a list of gateways or a map with defaults: and gateways:');
  if (gatewaysNode.k !== 'seq') {
    if (isNull(gatewaysNode)) throw new ManifestError(file, lines.lineAt(gatewaysNode.pos), 'manifest has no gateways');
    throw new ManifestError(file, lines.lineAt(gatewaysNode.pos), 'gateways must be a list (each item starting with -)');
  }
  if (gatewaysNode.items.length === 0) throw new ManifestError(file, lines.lineAt(gatewaysNode.pos), 'manifest has no gateways');

  const fileIssues: Issue[] = [];
  const defaults = defaultsNode ? readItem(defaultsNode, text, file, lines) : undefined;
  if (defaults?.authComment !== undefined) fileIssues.push(commentIssue(file, defaults.authComment));

  let literal = false;
  const seen = new Set<string>();
  const rows: WrittenRow[] = [];
  for (const item of gatewaysNode.items) {
    if (item.k !== 'map') throw new ManifestError(file, lines.lineAt(item.pos), 'each gateway must be a map of field: value');
    const own = readItem(item, text, file, lines);
    const line = lines.lineAt(item.entries[0]?.keyPos ?? item.pos);
    const endLine = Math.max(line, lines.lineAt(Math.max(item.end - 1, item.pos)));
    const issues: Issue[] = [];
    if (own.authComment !== undefined) issues.push(commentIssue(file, own.authComment));

    const fields: Partial<Record<Field, string>> = { ...defaults?.fields, ...own.fields };
    const site: Partial<Record<SiteField, string>> = { ...defaults?.site, ...own.site };
    // auth_key / auth_key_env travel as a pair: a row that sets either ignores both defaults.
    const auth = own.authSet ? own : (defaults ?? own);
    const ak = resolveAuthKey(auth.authKey, auth.authKeyEnv, opts, issues, file, line);
    if (ak.literal) literal = true;
    if (ak.value !== undefined) fields.auth_key = ak.value;
    const tags = mergeTags(defaults?.tags ?? [], own.tags);

    const echo: Record<string, string> = {};
    for (const f of FIELDS) {
      if (f === 'auth_key') continue;
      const v = f === 'tags' ? (tags.length > 0 ? formatTags(tags) : undefined) : fields[f];
      if (v === undefined) continue;
      echo[f] = v;
      seen.add(f);
    }
    const pskWritten = site.psk;
    delete site.psk;
    for (const f of SITE_FIELDS) {
      const v = f === 'psk' ? (pskWritten === undefined ? undefined : echoPsk(pskWritten)) : site[f];
      if (v === undefined) continue;
      echo[f] = v;
      seen.add(f);
    }
    const row: WrittenRow = { file, line, endLine, fields, tags, echo, issues, ...(ak.unresolved ? { unresolved: [ak.unresolved] } : {}) };
    const psk = resolvePsk(pskWritten, opts, issues, file, line);
    if (psk.text !== undefined) site.psk = psk.text;
    if (Object.keys(site).length > 0) row.site = site;
    if (psk.value !== undefined) row.pskValue = psk.value;
    rows.push(row);
  }
  const columns = [...FIELDS, ...SITE_FIELDS].filter((f) => seen.has(f));
  const manifest: Manifest = { file, format: 'yaml', hash, columns, rows, issues: fileIssues };
  if (profiles !== undefined && profiles.length > 0) manifest.profiles = profiles;
  return { manifest, literalAuthKeys: literal };
}

/**
 * A `--profiles FILE`: a YAML map whose `profiles:` names IPsec profiles for any manifest format (a YAML manifest
 * serves: its `defaults:` and `gateways:` are passed over). The same reader as the manifest's own `profiles:`.
 */
export function readProfilesYaml(bytes: Buffer, file: string, opts: LoadOptions): WrittenProfile[] {
  const maxBytes = opts.maxBytes ?? DEFAULT_MAX_BYTES;
  if (bytes.length > maxBytes) throw new ManifestError(file, undefined, `the file is ${bytes.length} bytes, over the ${maxBytes}-byte limit`);
  const text = toText(bytes, file, 'yaml');
  const lines = new LineIndex(text);
  let events: Event[];
  try {
    events = parseEvents(text, { maxDepth: 50 });
  } catch (e) {
    throw syntaxError(e, file, opts);
  }
  const root = buildTree(events, text, file, lines, opts.maxRecordBytes ?? DEFAULT_MAX_RECORD_BYTES);
  if (root === undefined) throw new ManifestError(file, undefined, 'the profiles file is empty');
  if (root.k !== 'map') throw new ManifestError(file, lines.lineAt(root.pos), 'a profiles file is a map with one key, profiles:, naming each profile');
  let out: WrittenProfile[] | undefined;
  for (const e of root.entries) {
    // A YAML manifest is a profiles file too (its rows aside): the manifest a results.csv came from, say.
    if (e.key === 'defaults' || e.key === 'gateways') continue;
    if (e.key !== 'profiles') throw new ManifestError(file, lines.lineAt(e.keyPos), `unknown top-level key '${shortKey(e.key)}'${didYouMean(e.key, TOP_KEYS)}; a profiles file holds profiles: (a YAML manifest's defaults: and gateways: are passed over)`);
    out = readProfiles(e.value, e.keyPos, file, lines);
  }
  if (out === undefined) throw new ManifestError(file, lines.lineAt(root.pos), 'no profiles: map');
  return out;
}

/** `profiles:` -> one WrittenProfile per name; parameters are scalars, a misspelt one stops the file. */
function readProfiles(node: YNode, keyPos: number, file: string, lines: LineIndex): WrittenProfile[] {
  if (isNull(node)) return [];
  if (node.k !== 'map') throw new ManifestError(file, lines.lineAt(keyPos), 'profiles must be a map of name: {parameter: value}');
  const out: WrittenProfile[] = [];
  for (const { key, keyPos: at, value } of node.entries) {
    const line = lines.lineAt(at);
    if (key.trim() === '') throw new ManifestError(file, line, 'a profile needs a name');
    const p: WrittenProfile = { name: key, file, line, params: {} };
    out.push(p);
    if (isNull(value)) continue;
    if (value.k !== 'map') throw new ManifestError(file, line, `profile '${shortKey(key)}' must be a map of parameter: value`);
    for (const e of value.entries) {
      const pl = lines.lineAt(e.keyPos);
      const param = profileParam(e.key) === e.key ? e.key : undefined;
      if (param === undefined) {
        const guess = profileParam(e.key) ?? likelyParam(e.key);
        throw new ManifestError(file, pl, `unknown profile parameter '${shortKey(e.key)}'${guess ? ` (did you mean '${guess}'?)` : ''}; allowed: ${PARAMS_ALLOWED}`);
      }
      if (e.value.k !== 'scalar') throw new ManifestError(file, pl, `profile parameter '${param}' must be a single value, not a ${e.value.k === 'map' ? 'map' : 'list'}`);
      if (e.value.isNull) continue;
      p.params[param] = e.value.value;
    }
  }
  return out;
}

interface ItemRead {
  fields: Partial<Record<ScalarKey, string>>;
  site: Partial<Record<SiteField, string>>;
  tags: Tag[];
  authKey?: string;
  authKeyEnv?: string;
  authSet: boolean;
  /** Line of an unquoted AuthKey followed by a ` #` comment. */
  authComment?: number;
}

/** Reads one gateway (or the defaults) map: known keys only, scalars where scalars belong. */
function readItem(map: YMap, text: string, file: string, lines: LineIndex): ItemRead {
  const out: ItemRead = { fields: {}, site: {}, tags: [], authSet: false };
  let ipKey: string | undefined;
  for (const { key, keyPos, value } of map.entries) {
    const at = lines.lineAt(keyPos);
    if (key === 'tags') {
      if (isNull(value)) continue;
      if (value.k !== 'map') throw new ManifestError(file, at, 'tags must be a map of key: value');
      for (const t of value.entries) {
        if (t.value.k !== 'scalar') throw new ManifestError(file, lines.lineAt(t.keyPos), 'a tag value must be a single value, not a list or map');
        out.tags.push({ key: t.key, value: t.value.value });
      }
      continue;
    }
    const isSite = SITE_KEYS.has(key);
    if (!isSite && !SCALAR_KEYS.includes(key)) throw new ManifestError(file, at, `unknown field '${shortKey(key)}'${didYouMean(key, ITEM_KEYS)}; allowed: ${ALLOWED}`);
    if (value.k !== 'scalar') throw new ManifestError(file, at, `field '${key}' must be a single value, not a ${value.k === 'map' ? 'map' : 'list'}`);
    if (isSite) {
      if (!value.isNull) out.site[key as SiteField] = value.value;
      continue;
    }
    if (key === 'ip' || key === 'ip_address') {
      if (ipKey !== undefined) throw new ManifestError(file, at, `both '${ipKey}' and '${key}' are given; keep one`);
      ipKey = key;
    }
    if (value.isNull) continue; // `name:` with nothing after it = not given (defaults still apply)
    if (key === 'auth_key' || key === 'auth_key_env') {
      out.authSet = true;
      if (key === 'auth_key') {
        out.authKey = value.value;
        if (value.plain && !value.value.startsWith('env:') && commentFollows(text, value.end)) out.authComment = lines.lineAt(value.pos);
      } else out.authKeyEnv = value.value;
      continue;
    }
    out.fields[key === 'ip_address' ? 'ip' : (key as ScalarKey)] = value.value;
  }
  return out;
}

function commentIssue(file: string, line: number): Issue {
  return {
    severity: 'warning',
    code: 'Cgw.AuthKeyComment',
    field: 'auth_key',
    message: "the unquoted auth_key is followed by ' #', which YAML reads as a comment; quote the key if '#' is part of it",
    file,
    line,
  };
}

/** True when the rest of the scalar's line is whitespace then `#` (a YAML comment that may have eaten part of a key). */
function commentFollows(text: string, end: number): boolean {
  let p = end;
  let sawSpace = false;
  while (p < text.length && (text.charCodeAt(p) === 0x20 || text.charCodeAt(p) === 0x09)) {
    p++;
    sawSpace = true;
  }
  return sawSpace && text.charCodeAt(p) === 0x23;
}

function isNull(n: YNode): boolean {
  return n.k === 'scalar' && n.isNull;
}

// Keys are printed in messages; bound them so a pasted secret used as a key cannot print at length.
function shortKey(k: string): string {
  return printable(k.length > 40 ? `${k.slice(0, 37)}...` : k);
}

const KNOWN_TAGS = new Set(
  '!!js/function !!js/regexp !!js/undefined !!binary !!timestamp !!set !!omap !!pairs !!int !!float !!bool !!null !!merge !Ref !Sub !GetAtt !If !Join !Select !Split !FindInMap !ImportValue !Base64 !Equals !Not !And !Or !Condition !GetAZs !Cidr !reference !include !Include !env !secret !vault'.split(' '),
);

type Frame = { node: YMap | YSeq; keys?: Set<string>; pendingKey?: { key: string; pos: number } };

/**
 * Builds the tree from the flat event list with an explicit stack, rejecting anchors, aliases, explicit tags other
 * than !!str/!!map/!!seq, complex keys, duplicate keys, several documents and values (or keys) longer than `maxValue`
 * characters (the YAML counterpart of the CSV record cap: a 10 MB value would otherwise be echoed into messages and
 * reports), each at its line.
 */
function buildTree(events: Event[], text: string, file: string, lines: LineIndex, maxValue: number): YNode | undefined {
  let root: YNode | undefined;
  let docs = 0;
  const stack: Frame[] = [];
  const fail = (pos: number, reason: string): never => {
    throw new ManifestError(file, pos >= 0 ? lines.lineAt(pos) : undefined, reason);
  };
  const attach = (node: YNode) => {
    const top = stack[stack.length - 1];
    if (top === undefined) {
      root = node;
      return;
    }
    top.node.end = Math.max(top.node.end, node.end);
    if (top.node.k === 'seq') {
      top.node.items.push(node);
      return;
    }
    if (top.pendingKey === undefined) {
      if (node.k !== 'scalar') fail(node.pos, 'complex mapping keys are not supported');
      const s = node as YScalar;
      const keys = (top.keys ??= new Set());
      // The key is named, never the value: the value could be an AuthKey.
      if (keys.has(s.value)) fail(s.pos >= 0 ? s.pos : top.node.pos, `duplicate key '${shortKey(s.value)}' in this map`);
      keys.add(s.value);
      top.pendingKey = { key: s.value, pos: s.pos >= 0 ? s.pos : top.node.pos };
      return;
    }
    top.node.entries.push({ key: top.pendingKey.key, keyPos: top.pendingKey.pos, value: node });
    top.pendingKey = undefined;
  };
  const checkProps = (e: { anchorStart: number; tagStart: number; tagEnd: number }, kind: YNode['k'], pos: number) => {
    if (e.anchorStart >= 0) fail(e.anchorStart, 'anchors (&name) are not supported; repeat the value or use defaults:');
    if (e.tagStart >= 0) {
      const tag = text.slice(e.tagStart, e.tagEnd);
      const ok = (kind === 'scalar' && (tag === '!!str' || tag === '!<tag:yaml.org,2002:str>')) || (kind === 'map' && tag === '!!map') || (kind === 'seq' && tag === '!!seq');
      // Only well-known tag names are echoed: an arbitrary `!text` is source text and could be a pasted secret.
      if (!ok) fail(e.tagStart >= 0 ? e.tagStart : pos, `unsupported tag${KNOWN_TAGS.has(tag) ? ` ${tag}` : ''}; manifests use plain values only`);
    }
  };

  for (let i = 0; i < events.length; i++) {
    const e = events[i]!;
    switch (e.type) {
      case EVENT_ID.DOCUMENT:
        if (++docs > 1) {
          const next = events.slice(i + 1).find((x) => 'anchorStart' in x);
          const pos = next === undefined ? -1 : 'valueStart' in next ? next.valueStart : 'start' in next ? next.start : next.anchorStart;
          fail(pos, 'several YAML documents (---) in one manifest; keep one document');
        }
        break;
      case EVENT_ID.MAPPING:
      case EVENT_ID.SEQUENCE: {
        const kind = e.type === EVENT_ID.MAPPING ? 'map' : 'seq';
        checkProps(e, kind, e.start);
        const node: YMap | YSeq = kind === 'map' ? { k: 'map', pos: e.start, end: e.start, entries: [] } : { k: 'seq', pos: e.start, end: e.start, items: [] };
        stack.push({ node });
        break;
      }
      case EVENT_ID.SCALAR: {
        checkProps(e, 'scalar', e.valueStart);
        if (e.valueEnd - e.valueStart > maxValue) fail(e.valueStart, `a value is longer than ${maxValue} characters (wrong file, or a paste gone wrong?)`);
        const isNullScalar = e.valueStart < 0 && e.style === SCALAR_STYLE.PLAIN;
        const top = stack[stack.length - 1];
        const fallback = top?.pendingKey?.pos ?? top?.node.end ?? 0;
        const pos = e.valueStart >= 0 ? e.valueStart : fallback;
        attach({ k: 'scalar', value: getScalarValue(text, e), pos, end: e.valueEnd >= 0 ? e.valueEnd : pos, plain: e.style === SCALAR_STYLE.PLAIN, isNull: isNullScalar });
        break;
      }
      case EVENT_ID.ALIAS:
        fail(e.anchorStart, 'aliases (*name) are not supported; repeat the value or use defaults:');
        break;
      case EVENT_ID.POP: {
        const frame = stack.pop();
        if (frame) attach(frame.node);
        break;
      }
    }
  }
  return root;
}

/** Maps a js-yaml exception to file:line:col + a reason with anything quoted from the source removed. */
function syntaxError(e: unknown, file: string, opts: LoadOptions): ManifestError {
  const mark = (e as { mark?: { line?: unknown; column?: unknown } } | null)?.mark;
  const rawReason = (e as { reason?: unknown } | null)?.reason;
  let reason = typeof rawReason === 'string' ? rawReason : 'invalid YAML';
  // e.g. `undeclared tag handle "!x"`, `tag name cannot contain such characters: X`: keep the words, drop the quote.
  reason = reason.replace(/"[^"]*"|`[^`]*`/g, '').replace(/:\s.*$/s, '').replace(/\s+/g, ' ').trim() || 'invalid YAML';
  if (opts.redactor) reason = opts.redactor.redact(reason);
  reason = printable(reason);
  if (typeof mark?.line === 'number' && typeof mark.column === 'number') return new YamlSyntaxError(file, mark.line + 1, mark.column + 1, reason);
  return new ManifestError(file, undefined, reason);
}

const PARAMS_ALLOWED = PROFILE_PARAMS.join(', ');

/** Offset -> 1-based line over a string, built in one pass (CRLF, LF and lone CR each end a line). */
export class LineIndex {
  private readonly starts: number[] = [0];
  constructor(text: string) {
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c === 0x0a || (c === 0x0d && text.charCodeAt(i + 1) !== 0x0a)) this.starts.push(i + 1);
    }
  }
  lineAt(offset: number): number {
    let lo = 0;
    let hi = this.starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.starts[mid]! <= offset) lo = mid;
      else hi = mid - 1;
    }
    return lo + 1;
  }
}
