// One options resolver: argv + env + terminal -> a frozen Options value for one command; per-command flag tables and help.
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { UsageError } from './errors.js';
import { shouldColor } from './color.js';
import { LineRanges } from './line-ranges.js';
import type { QuotaGiven } from './types.js';

export const COMMANDS = ['plan', 'apply', 'import', 'destroy', 'refresh', 'status', 'report', 'configs', 'export', 'init', 'state', 'emulator'] as const;
export type Command = (typeof COMMANDS)[number];

interface FlagSpec {
  type: 'boolean' | 'string';
  short?: string;
  multiple?: boolean;
  arg?: string;
  help: string;
}

/** Every flag of every command, with its help line. Which command takes which is in TAKES. */
const FLAGS = {
  sandbox: { type: 'boolean', help: 'use the embedded emulator (data in ~/.cgw-batch/sandbox.json); nothing reaches Alibaba Cloud' },
  'sandbox-data': { type: 'string', arg: 'FILE', help: 'data file for --sandbox' },
  endpoint: { type: 'string', arg: 'URL', help: 'send VPC requests here: one URL, or a template with {region} (default https://vpc.<region>.aliyuncs.com)' },
  network: { type: 'string', arg: 'public|vpc', help: "vpc: Alibaba Cloud's VPC-internal endpoints (vpc-vpc.<region>, sts-vpc.<region>) from inside a VPC" },
  'sts-endpoint': { type: 'string', arg: 'URL', help: 'where STS calls go (default: by --network and ALIBABA_CLOUD_STS_REGION, else https://sts.aliyuncs.com)' },
  proxy: { type: 'string', arg: 'URL', help: 'HTTP proxy for every call (default: HTTPS_PROXY / HTTP_PROXY; NO_PROXY applies)' },
  profile: { type: 'string', arg: 'NAME', help: 'aliyun CLI profile (~/.aliyun/config.json); default: env ALIBABA_CLOUD_ACCESS_KEY_ID/_SECRET' },
  timeout: { type: 'string', arg: 'MS', help: 'total time per request (connect, headers and body; default 10000)' },
  offline: { type: 'boolean', help: 'plan without the API (no inventory, region or quota checks)' },
  quota: { type: 'string', arg: 'N|REGION=N,...', help: 'customer gateways allowed per region: one number for all, or per region (default: learned from Resource.QuotaFull, else 100 assumed)' },
  'quota-vpn-connections': { type: 'string', arg: 'N', help: 'IPsec connections allowed per VPN gateway (default 10)' },
  profiles: { type: 'string', arg: 'FILE', help: "IPsec profiles the ike_profile column names: a YAML file with a profiles: map, or a YAML manifest (any manifest format)" },
  format: { type: 'string', arg: 'text|json', help: 'output format' },
  state: { type: 'string', arg: 'PATH|URL', help: 'the journal: a file (default <manifest>.state.jsonl), postgres://USER@HOST/DB or oss://BUCKET/PREFIX (also CGW_BATCH_STATE)' },
  'state-endpoint': { type: 'string', arg: 'URL', help: 'OSS endpoint for --state oss://... (also CGW_BATCH_STATE_ENDPOINT), e.g. https://oss-cn-hangzhou.aliyuncs.com' },
  'lock-timeout': { type: 'string', arg: 'DURATION', help: "wait this long while another runner holds the journal's lease (90s, 5m; default: refuse at once)" },
  from: { type: 'string', arg: 'PATH|URL', help: 'the journal to copy (a file, postgres://... or oss://...)' },
  to: { type: 'string', arg: 'PATH|URL', help: 'where to copy it: must hold no journal yet' },
  sheet: { type: 'string', arg: 'NAME', help: '.xlsx manifests: the sheet to read (default the first)' },
  only: { type: 'string', arg: 'ROWS', help: 'only these rows: lines 4,7-9 or keys cn-hangzhou/203.0.113.10' },
  'allow-replace': { type: 'boolean', help: 'delete + create rows whose IP or ASN changed' },
  prune: { type: 'boolean', help: 'delete gateways whose rows were removed from the manifest' },
  'retry-failed': { type: 'boolean', help: 'try again rows that failed in an earlier run (new ClientToken)' },
  'skip-invalid': { type: 'boolean', help: 'go on with the other rows when some are invalid or blocked (they are left out)' },
  yes: { type: 'boolean', short: 'y', help: 'do not ask for confirmation (required without a terminal)' },
  'dry-run': { type: 'boolean', help: 'print the plan and change nothing (same output and exit code as plan)' },
  rate: { type: 'string', arg: 'N', help: 'write requests per second per region (default: adaptive from the published 2/s)' },
  concurrency: { type: 'string', arg: 'N', help: 'requests in flight per region and API at most (default 16; the real number follows rate x latency)' },
  'max-failures': { type: 'string', arg: 'N|N%', help: 'after this many failed rows, send nothing more' },
  'force-unlock': { type: 'boolean', help: "break the journal's lease even if another run seems to hold it (that run stops at its next write)" },
  'report-dir': { type: 'string', arg: 'DIR', help: 'where the reports go (default <journal>.results/ beside the journal)' },
  quiet: { type: 'boolean', short: 'q', help: 'no progress output (refresh: only the exit code)' },
  write: { type: 'boolean', help: 'record the drift found in the journal' },
  live: { type: 'boolean', help: "read each site connection's state and negotiation status from the cloud (needs credentials)" },
  region: { type: 'string', multiple: true, arg: 'R[,R...]', help: 'regions to export (repeatable or comma-separated)' },
  output: { type: 'string', short: 'o', arg: 'FILE', help: 'write to FILE instead of standard output (never overwrites)' },
  device: { type: 'string', arg: 'TYPE', help: 'the branch device type for every site (else the device column): strongswan, cisco-ios, huawei-vrp, h3c-comware, juniper-srx, fortigate' },
  out: { type: 'string', arg: 'DIR', help: 'where the device configs go (default <manifest>.configs/ beside the journal; folders 0700, files 0600)' },
  'redact-psk': { type: 'boolean', help: 'write a placeholder instead of each pre-shared key and BGP key' },
  'no-color': { type: 'boolean', help: 'no ANSI colours (also NO_COLOR)' },
  help: { type: 'boolean', short: 'h', help: 'this help' },
  // Refused on purpose: secrets on the command line end up in shell history and `ps`.
  'auth-key': { type: 'string', help: '' },
} as const satisfies Record<string, FlagSpec>;
type Flag = keyof typeof FLAGS;

const CONNECTION: Flag[] = ['sandbox', 'sandbox-data', 'endpoint', 'network', 'sts-endpoint', 'proxy', 'profile', 'timeout'];
const DECISION: Flag[] = ['only', 'allow-replace', 'prune', 'retry-failed', 'skip-invalid'];
const RUN: Flag[] = ['yes', 'dry-run', 'rate', 'concurrency', 'max-failures', 'force-unlock', 'lock-timeout', 'report-dir', 'quiet'];
const STATE: Flag[] = ['state', 'state-endpoint'];
const COMMON: Flag[] = ['no-color', 'help'];

/** The flags each command takes; anything else is refused with the commands that do take it. */
const TAKES: Record<Exclude<Command, 'emulator'>, Flag[]> = {
  plan: [...CONNECTION, 'offline', 'quota', 'quota-vpn-connections', 'format', ...STATE, 'sheet', 'profiles', ...DECISION, ...COMMON],
  apply: [...CONNECTION, 'quota', 'quota-vpn-connections', 'format', ...STATE, 'sheet', 'profiles', ...DECISION, ...RUN, ...COMMON],
  import: [...CONNECTION, 'format', ...STATE, 'sheet', 'profiles', 'only', 'dry-run', 'force-unlock', 'lock-timeout', 'report-dir', 'quiet', ...COMMON],
  destroy: [...CONNECTION, 'format', ...STATE, 'only', ...RUN, ...COMMON],
  refresh: [...CONNECTION, 'format', ...STATE, 'only', 'write', 'force-unlock', 'lock-timeout', 'quiet', ...COMMON],
  status: [...CONNECTION, 'live', 'format', ...STATE, 'sheet', 'profiles', ...COMMON],
  report: [...STATE, 'profile', 'sheet', 'profiles', 'report-dir', ...COMMON],
  configs: [...CONNECTION, ...STATE, 'sheet', 'profiles', 'only', 'device', 'out', 'redact-psk', ...COMMON],
  export: [...CONNECTION, 'region', 'format', 'output', ...COMMON],
  init: ['format', 'output', ...COMMON],
  state: [...STATE, 'from', 'to', 'format', 'profile', 'proxy', 'timeout', 'lock-timeout', 'yes', ...COMMON],
};

/** What `cgw-batch state` does, and which of its flags each action takes. */
const STATE_ACTIONS = {
  show: { usage: 'state show [<manifest>]', what: "who holds the journal's lease, and a summary of its rows", takes: ['state', 'state-endpoint', 'format', 'profile', 'proxy', 'timeout'] },
  unlock: {
    usage: 'state unlock [<manifest>]',
    what: "break the lease of a runner that died holding it (fenced: if it lives, it stops at its next write); asks (--yes)",
    takes: ['state', 'state-endpoint', 'profile', 'proxy', 'timeout', 'yes'],
  },
  migrate: {
    usage: 'state migrate [<manifest>] --from A --to B',
    what: 'copy a journal to another backend (B must be empty), check the copy, and mark A as moved',
    takes: ['from', 'to', 'state-endpoint', 'profile', 'proxy', 'timeout', 'lock-timeout', 'format'],
  },
} as const satisfies Record<string, { usage: string; what: string; takes: readonly Flag[] }>;
type StateAction = keyof typeof STATE_ACTIONS;

const SYNOPSIS: Record<Exclude<Command, 'emulator'>, { usage: string; what: string }> = {
  plan: { usage: 'plan <manifest>', what: 'validate every row and show what apply would do, with the reason for each row; changes nothing' },
  apply: { usage: 'apply <manifest>', what: 'lock the journal, plan, confirm, then carry out exactly that plan (exactly-once creates; resumable)' },
  import: { usage: 'import <manifest>', what: 'adopt gateways (and their IPsec connections) that already exist with a row\'s region + IP; creates nothing' },
  destroy: { usage: 'destroy <manifest>', what: 'delete the IPsec connections, then the gateways, this journal created or adopted (asks; --dry-run lists them)' },
  refresh: { usage: 'refresh <manifest>', what: 'compare the journal with the cloud (drift; exit 1 when found)' },
  status: { usage: 'status [<manifest>]', what: 'every row of the manifest with its journal status, gateway and connection ids' },
  report: { usage: 'report [<manifest>]', what: 'write the reports again from the journal' },
  configs: { usage: 'configs <manifest>', what: "write each site's branch device config from its connection as the API describes it (PSK in the file only)" },
  export: { usage: 'export --region R[,R...]', what: 'write the gateways that already exist as a manifest (AuthKeys as env:NAME references)' },
  init: { usage: 'init [FILE]', what: 'write a commented example manifest to start from (--format csv|yaml|xlsx)' },
  state: { usage: 'state show|unlock|migrate', what: 'a journal shared by a team: its lease and rows, a dead runner\'s lease, moving it to PostgreSQL or OSS' },
};

const EXIT_TEXT = 'Exit codes: 0 ok; 1 rows invalid, blocked or failed (refresh: drift found); 2 usage, configuration, credentials or state problem; 130 interrupted.';

export const HELP = `cgw-batch: provision Alibaba Cloud VPN customer gateways and whole branch sites (IPsec connections, device configs) in bulk from CSV, XLSX or YAML manifests

Usage:
${Object.values(SYNOPSIS)
  .map((s) => `  cgw-batch ${s.usage.padEnd(26)} ${s.what}`)
  .join('\n')}
  cgw-batch ${'emulator [options]'.padEnd(26)} run the local VPC API emulator (see README)

Each command takes only its own flags: cgw-batch <command> --help lists them.
${EXIT_TEXT}
AuthKeys: keep them out of the manifest with auth_key: env:NAME; they are never printed, logged or stored.
`;

/** Where a command takes other values than FLAGS says (init and export write manifests): its help shows only those. */
const OWN_VALUES: Partial<Record<Exclude<Command, 'emulator'>, Partial<Record<Flag, { arg: string; help: string }>>>> = {
  init: { format: { arg: 'csv|yaml|xlsx', help: 'the manifest format to write (default: from the file name, else csv)' } },
  export: { format: { arg: 'csv|yaml|xlsx', help: 'the manifest format to write (default: from -o FILE, else csv)' } },
};

function flagLines(command: Exclude<Command, 'emulator'>, flags: readonly Flag[]): string[] {
  return flags
    .filter((f) => FLAGS[f].help !== '')
    .map((f) => {
      const spec: FlagSpec = { ...FLAGS[f], ...OWN_VALUES[command]?.[f] };
      const name = `${spec.short ? `-${spec.short}, ` : ''}--${f}${spec.arg ? ` ${spec.arg}` : ''}`;
      return `  ${name.padEnd(28)} ${spec.help}`;
    });
}

export function commandHelp(command: Exclude<Command, 'emulator'>): string {
  const s = SYNOPSIS[command];
  if (command === 'state') {
    const actions = Object.values(STATE_ACTIONS).map((a) => `  cgw-batch ${a.usage.padEnd(44)} ${a.what}`);
    return `Usage:\n${actions.join('\n')}\n\n${s.what}. The journal is --state (or CGW_BATCH_STATE), else the manifest's\n<manifest>.state.jsonl; a shared location's estate is ?estate=NAME, else the manifest's file name.\n\nOptions:\n${flagLines('state', TAKES.state).join('\n')}\n\n${EXIT_TEXT}\n`;
  }
  return `Usage: cgw-batch ${s.usage} [options]\n\n${s.what}\n\nOptions:\n${flagLines(command, TAKES[command]).join('\n')}\n\n${EXIT_TEXT}\n`;
}

/** ` (did you mean 'x'?)` when `word` is a likely typo of one of `known`. */
function didYouMean(word: string, known: readonly string[]): string {
  const near = closest(word, known);
  return near ? ` (did you mean '${near}'?)` : '';
}

export type ProgressMode = 'tty' | 'simple' | 'json' | 'quiet';

/** What every command's options have; absolute paths are resolved once. */
interface BaseOptions {
  output?: string;
  format: 'text' | 'json';
  /** init / export: the manifest format to write. */
  fileFormat?: 'csv' | 'yaml' | 'xlsx';
  regions: string[];
  sheet?: string;
  sandbox: boolean;
  sandboxData?: string;
  endpoint?: string;
  /** --network: which of Alibaba Cloud's endpoints (src/cloud/endpoints.ts). */
  network: 'public' | 'vpc';
  stsEndpoint?: string;
  /** --proxy (checked and combined with the proxy env variables in src/cloud/proxy.ts). */
  proxy?: string;
  profile?: string;
  timeoutMs: number;
  offline: boolean;
  /** --quota: one number for every region and/or per region; absent when not given (learned, else assumed). */
  quota?: QuotaGiven;
  /** --quota-vpn-connections: IPsec connections per VPN gateway (default 10). */
  vpnQuota: number;
  vpnQuotaGiven: boolean;
  /** --profiles FILE (absolute): IPsec profiles for the manifest's ike_profile column. */
  profiles?: string;
  yes: boolean;
  skipInvalid: boolean;
  rate?: number;
  concurrency: number;
  maxFailures?: { count?: number; percent?: number };
  retryFailed: boolean;
  only?: Only;
  allowReplace: boolean;
  prune: boolean;
  forceUnlock: boolean;
  quiet: boolean;
  write: boolean;
  /** status --live: connections' State and negotiation from the cloud. */
  live: boolean;
  dryRun: boolean;
  /** Colour on stdout / stderr, decided once from the terminal, NO_COLOR, FORCE_COLOR and --no-color. */
  color: boolean;
  colorErr: boolean;
  progress: ProgressMode;
  /** Terminal width for redraws (80 when unknown). */
  columns: number;
  /** Whether stdin is a terminal a confirmation can be asked on. */
  canPrompt: boolean;
  /** configs: --device (checked against the device types by the command), --out (absolute), --redact-psk. */
  device?: string;
  outDir?: string;
  redactPsk: boolean;
  /** Backoff of retried requests (env CGW_BATCH_RETRY_BASE_MS / CGW_BATCH_RETRY_CAP_MS; defaults 200 and 20000 ms). */
  retryBackoff: { baseMs: number; capMs: number };
  /** The longest wait for a VPN gateway to be active again after a connection write (env CGW_BATCH_VPN_WAIT_MS; default 300000). */
  vpnWaitMs?: number;
  /** --state-endpoint / CGW_BATCH_STATE_ENDPOINT: where an oss:// state's bucket is served. */
  stateEndpoint?: string;
  /** --lock-timeout: how long to wait for a live runner's lease (0: refuse at once). */
  lockTimeoutMs: number;
}

/** Commands that work on a manifest and its journal. */
export interface ManifestOptions extends BaseOptions {
  command: 'plan' | 'apply' | 'import' | 'destroy' | 'refresh';
  manifest: string;
  statePath: string;
  reportDir: string;
  /** --state / --report-dir were given (else they follow the journal found for the manifest: run/locate.ts). */
  stateGiven: boolean;
  reportDirGiven: boolean;
}

/** Commands that read the journal, with the manifest when given (configs: always); the journal located (run/locate.ts). */
export interface JournalOptions extends BaseOptions {
  command: 'status' | 'report' | 'configs';
  manifest?: string;
  statePath: string;
  reportDir: string;
  stateGiven: boolean;
  reportDirGiven: boolean;
}

/** status / report as parsed: without a manifest or --state the journal is the working directory's (run/locate.ts). */
export type UnlocatedJournalOptions = Omit<JournalOptions, 'command' | 'statePath' | 'reportDir'> & { command: 'status' | 'report'; statePath?: string; reportDir?: string };

/** Commands that write a file of their own (a manifest). */
export interface FileOptions extends BaseOptions {
  command: 'export' | 'init';
}

/** `cgw-batch state ACTION`: a journal's lease and rows, and moving it between backends. */
export interface StateOptions extends BaseOptions {
  command: 'state';
  action: StateAction;
  manifest?: string;
  /** show / unlock: the journal (a resolved path, or a URL as given). */
  statePath?: string;
  /** migrate: from where to where. */
  from?: string;
  to?: string;
}

export type Options = ManifestOptions | UnlocatedJournalOptions | (JournalOptions & { command: 'configs' }) | FileOptions | StateOptions;

/** What the resolver needs to know about the terminal and the environment (cli.ts reads it off `process`). */
export interface Terminal {
  cwd: string;
  env: Record<string, string | undefined>;
  stdoutIsTTY?: boolean;
  stderrIsTTY?: boolean;
  stdinIsTTY?: boolean;
  columns?: number;
}

/** `--only`: line ranges (never expanded) and row keys, and the text as given (the plan header shows it). */
export interface Only {
  lines: LineRanges;
  keys: Set<string>;
  text: string;
}

/**
 * The allowed range of each numeric flag, in one table: what it measures, its bounds, and why. Every value outside is
 * refused with a message naming the flag and the range (a 2147483648 ms timeout once became 1 ms with a Node warning).
 */
const RANGES = {
  // Timers take at most 2^31-1 ms; ten minutes is far above any API answer.
  timeout: { min: 1, max: 600_000, integer: true, what: 'milliseconds' },
  quota: { min: 1, max: 1_000_000, integer: true, what: 'customer gateways per region' },
  'quota-vpn-connections': { min: 1, max: 1_000, integer: true, what: 'IPsec connections per VPN gateway' },
  // Above zero: 0 would send nothing ever. 100,000/s is far above any published limit (2/s for writes).
  rate: { min: 0, max: 100_000, integer: false, what: 'write requests per second per region' },
  concurrency: { min: 1, max: 1_000, integer: true, what: 'requests in flight per region and API' },
  'max-failures': { min: 1, max: 100_000_000, integer: true, what: 'failed rows' },
} as const;
type RangedFlag = keyof typeof RANGES;

/** More lines than a manifest can have (a 50 MB file has fewer): a larger number names no row. */
export const MAX_LINE = 100_000_000;

function rangeText(flag: RangedFlag): string {
  const r = RANGES[flag];
  return r.integer ? `a whole number from ${r.min} to ${r.max} (${r.what})` : `a number above ${r.min} and at most ${r.max} (${r.what})`;
}

/** A numeric flag within its range (RANGES); the value is parsed by our own pattern (Number() takes '0x10', '1e3', ''). */
function rangedNumber(flag: RangedFlag, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const r = RANGES[flag];
  const t = v.trim();
  const shape = r.integer ? /^\d{1,15}$/ : /^(?:\d{1,15}(?:\.\d{0,15})?|\.\d{1,15})$/;
  const n = shape.test(t) ? Number(t) : Number.NaN;
  const ok = Number.isFinite(n) && n <= r.max && (r.integer ? n >= r.min : n > r.min);
  if (!ok) throw new UsageError(`--${flag} needs ${rangeText(flag)}, got '${v}'`);
  return n;
}

/** A millisecond setting from the environment; a bad value is a usage error naming the variable. */
function envMs(env: Record<string, string | undefined>, name: string): number | undefined {
  const v = env[name];
  if (v === undefined || v === '') return undefined;
  const n = /^\d{1,7}$/.test(v.trim()) ? Number(v.trim()) : Number.NaN;
  if (!Number.isInteger(n) || n < 0 || n > 600_000) throw new UsageError(`${name} must be a whole number of milliseconds (0-600000), got '${v}'`);
  return n;
}

/** A line number of --only: digits, 1 to MAX_LINE (no float rounding: a 17-digit number is refused by its length). */
function lineNumber(part: string, digits: string): number {
  const n = digits.length <= 9 ? Number(digits) : Number.NaN;
  if (!(n >= 1 && n <= MAX_LINE)) throw new UsageError(`--only: line numbers go from 1 to ${MAX_LINE}, got '${part}'`);
  return n;
}

/** `--only 4,7-9,cn-hangzhou/203.0.113.10`: ranges kept as ranges, so time and memory follow the parts, not the lines. */
export function parseOnly(v: string): Only {
  const ranges: Array<[number, number]> = [];
  const keys = new Set<string>();
  for (const part of v.split(',').map((s) => s.trim()).filter(Boolean)) {
    const range = /^(\d+)(?:-(\d+))?$/.exec(part);
    if (range) {
      const a = lineNumber(part, range[1]!);
      const b = range[2] === undefined ? a : lineNumber(part, range[2]);
      if (b < a) throw new UsageError(`--only: bad line range '${part}' (the first line comes first: ${b}-${a})`);
      ranges.push([a, b]);
    } else if (/^[a-z0-9-]+\/[^/\s]+$/i.test(part)) {
      keys.add(part);
    } else {
      throw new UsageError(`--only takes line numbers (4,7-9) or keys (cn-hangzhou/203.0.113.10), got '${part}'`);
    }
  }
  if (ranges.length === 0 && keys.size === 0) throw new UsageError('--only needs at least one line number or key');
  return { lines: LineRanges.of(ranges), keys, text: v };
}

/** `--quota 55`, `--quota cn-hangzhou=55,cn-shanghai=100`, or both (`80,cn-hangzhou=55`: 80 for the other regions). */
export function parseQuota(v: string): QuotaGiven {
  const usage = `--quota needs ${rangeText('quota')} for every region, or REGION=N pairs (cn-hangzhou=55,cn-shanghai=100), got '${v}'`;
  const count = (n: string): number => {
    if (!/^\d{1,7}$/.test(n) || Number(n) < 1 || Number(n) > 1_000_000) throw new UsageError(usage);
    return Number(n);
  };
  const out: { all?: number; regions: Record<string, number> } = { regions: {} };
  const parts = v.split(',').map((p) => p.trim());
  for (const part of parts) {
    const pair = /^([a-z0-9-]+)=(.*)$/.exec(part);
    if (pair) {
      const region = pair[1]!;
      if (Object.hasOwn(out.regions, region)) throw new UsageError(`--quota gives ${region} twice; ${usage}`);
      out.regions[region] = count(pair[2]!);
    } else {
      if (out.all !== undefined) throw new UsageError(usage);
      out.all = count(part);
    }
  }
  return out;
}

export function parseMaxFailures(v: string | undefined): { count?: number; percent?: number } | undefined {
  if (v === undefined) return undefined;
  const m = /^(\d+(?:\.\d+)?)(%?)$/.exec(v.trim());
  if (!m) throw new UsageError(`--max-failures takes a count (5) or a percentage (10%), got '${v}'`);
  const n = Number(m[1]);
  if (m[2]) {
    if (n <= 0 || n > 100) throw new UsageError(`--max-failures percentage must be above 0 and at most 100, got '${v}'`);
    return { percent: n };
  }
  return { count: rangedNumber('max-failures', m[1]) };
}

/** `90`, `90s`, `1500ms`, `5m` -> milliseconds (a bare number is seconds). */
function parseDuration(flag: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(v.trim());
  const ms = m ? Number(m[1]) * (m[2] === 'ms' ? 1 : m[2] === 'm' ? 60_000 : m[2] === 'h' ? 3_600_000 : 1000) : NaN;
  if (!(ms >= 0 && ms <= 86_400_000)) throw new UsageError(`--${flag} takes a duration such as 90s, 5m or 1500ms (at most 24h), got '${v}'`);
  return Math.round(ms);
}

/** A --state value that is a URL (postgres://, oss://, or a scheme the backends refuse by name) rather than a path. */
function isUrl(v: string): boolean {
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(v);
}

/** `<manifest>.state.jsonl` -> `<manifest>.results`: reports live beside the journal they are made from. */
export function reportDirFor(statePath: string): string {
  const base = statePath.replace(/\.state\.jsonl$/, '').replace(/\.jsonl$/, '');
  return `${base}.results`;
}

/** `<manifest>.state.jsonl` -> `<manifest>.configs`: the device configs beside the journal whose connections they mirror. */
function configsDirFor(statePath: string): string {
  return `${statePath.replace(/\.state\.jsonl$/, '').replace(/\.jsonl$/, '')}.configs`;
}

/** The options of `command`, with the paths its kind of command always has. */
function withPaths(
  command: Exclude<Command, 'emulator' | 'state'>,
  base: BaseOptions,
  paths: { manifest?: string; statePath?: string; reportDir?: string; stateGiven: boolean; reportDirGiven: boolean },
): Options {
  const { manifest, statePath, reportDir, stateGiven, reportDirGiven } = paths;
  switch (command) {
    case 'plan':
    case 'apply':
    case 'import':
    case 'destroy':
    case 'refresh':
      if (!manifest || !statePath || !reportDir) throw new UsageError(`cgw-batch ${command} needs a manifest file: cgw-batch ${command} branches.csv`);
      return { ...base, command, manifest, statePath, reportDir, stateGiven, reportDirGiven };
    case 'configs':
      if (!manifest || !statePath || !reportDir) throw new UsageError('cgw-batch configs needs a manifest file: cgw-batch configs branches.csv');
      return { ...base, command, manifest, statePath, reportDir, stateGiven, reportDirGiven };
    case 'status':
    case 'report':
      return { ...base, command, ...(manifest ? { manifest } : {}), ...(statePath ? { statePath } : {}), ...(reportDir ? { reportDir } : {}), stateGiven, reportDirGiven };
    case 'export':
    case 'init':
      return { ...base, command };
  }
}

export type ParsedArgs =
  | { kind: 'help'; text: string }
  | { kind: 'version' }
  | { kind: 'emulator'; argv: string[] }
  | { kind: 'run'; options: Readonly<Options> };

const takers = (flag: Flag): string[] => (Object.keys(TAKES) as Array<keyof typeof TAKES>).filter((c) => TAKES[c].includes(flag));

type FlagValues = Record<string, string | boolean | string[] | undefined>;

/**
 * Edit distance with adjacent transpositions (optimal string alignment): `aply` -> `apply` 1, `regoin` -> `region` 1.
 * Inputs are command and flag names typed by a person (argv), so the quadratic table is small.
 */
function distance(a: string, b: string): number {
  if (Math.abs(a.length - b.length) > 2 || a.length > 64 || b.length > 64) return Number.POSITIVE_INFINITY;
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, d[i - 2]![j - 2]! + 1);
      d[i]![j] = v;
    }
  }
  return d[a.length]![b.length]!;
}

/** The candidate nearest to `word` within 2 edits (1 for words of 4 letters or fewer), if one is. */
export function closest(word: string, candidates: readonly string[]): string | undefined {
  const w = word.toLowerCase();
  const limit = w.length <= 4 ? 1 : 2;
  let best: string | undefined;
  let bestD = limit + 1;
  for (const c of candidates) {
    const dist = distance(w, c);
    if (dist < bestD) {
      best = c;
      bestD = dist;
    }
  }
  return best;
}

const STRING_FLAGS = new Set(Object.entries(FLAGS).filter(([, f]) => f.type === 'string').map(([k]) => k));

/**
 * A `--name` no command knows is refused before parsing, with the nearest flag: the command's own first, else any
 * other command's (saying which commands take it). Values of string flags are skipped, and nothing after `--`.
 */
function unknownFlag(command: Exclude<Command, 'emulator'>, args: string[]): void {
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--') return;
    if (!a.startsWith('--')) continue;
    const name = a.slice(2).split('=')[0]!;
    if (name in FLAGS) {
      if (STRING_FLAGS.has(name) && !a.includes('=')) i++;
      continue;
    }
    const own = closest(name, TAKES[command].filter((f) => FLAGS[f].help !== ''));
    const any = own ?? closest(name, (Object.keys(FLAGS) as Flag[]).filter((f) => FLAGS[f].help !== ''));
    const others = any && !own ? takers(any as Flag) : [];
    const hint = any ? `; did you mean --${any}?${others.length ? ` (${others.join(', ')} ${others.length === 1 ? 'takes' : 'take'} it)` : ''}` : '';
    throw new UsageError(`${command} has no option --${name}${hint} (see cgw-batch ${command} --help)`);
  }
}

/** The command's flags and positionals; a flag it does not take, or an AuthKey on the command line, is refused. */
function parseFlags(command: Exclude<Command, 'emulator'>, args: string[]): { values: FlagValues; positionals: string[] } | { help: string } {
  unknownFlag(command, args);
  let parsed: { values: Record<string, string | boolean | Array<string | boolean> | undefined>; positionals: string[] };
  try {
    parsed = parseArgs({
      args,
      allowPositionals: true,
      strict: true,
      options: Object.fromEntries(
        Object.entries(FLAGS).map(([k, f]) => [k, { type: f.type, ...('short' in f ? { short: f.short } : {}), ...('multiple' in f ? { multiple: f.multiple } : {}) }]),
      ),
    });
  } catch (e) {
    throw new UsageError(`${(e as Error).message.replace(/\. To specify.*$/s, '')} (see cgw-batch ${command} --help)`);
  }
  // Only --region is `multiple`, and it is a string flag: its values are strings.
  const v = parsed.values as FlagValues;
  if (v['auth-key'] !== undefined) {
    throw new UsageError(
      '--auth-key is not accepted: a key on the command line is visible in shell history and `ps`. ' +
        'Put `auth_key: env:NAME` in the manifest and export NAME, or keep it in a chmod 600 manifest.',
    );
  }
  if (v.help) return { help: commandHelp(command) };
  const taken = new Set<string>(TAKES[command]);
  for (const flag of Object.keys(v)) {
    if (taken.has(flag)) continue;
    const others = takers(flag as Flag);
    throw new UsageError(`cgw-batch ${command} does not take --${flag}${others.length ? ` (${others.join(', ')} ${others.length === 1 ? 'takes' : 'take'} it)` : ''}; see cgw-batch ${command} --help`);
  }
  return { values: v, positionals: parsed.positionals };
}

/** `?estate=` of a state URL, for naming things when no manifest is given. */
function estateOf(url: string | undefined): string | undefined {
  try {
    return url ? (new URL(url.replace(/^oss:/i, 'http:')).searchParams.get('estate') ?? undefined) : undefined;
  } catch {
    return undefined;
  }
}

/** `state`'s action (default show) and the flags only other actions take. */
function stateAction(word: string | undefined, v: FlagValues): StateAction {
  const names = Object.keys(STATE_ACTIONS) as StateAction[];
  if (word === undefined) throw new UsageError(`cgw-batch state needs an action: ${names.join(', ')} (see cgw-batch state --help)`);
  if (!(names as string[]).includes(word)) throw new UsageError(`unknown action 'state ${word}'${didYouMean(word, names)}; actions: ${names.join(', ')} (see cgw-batch state --help)`);
  const action = word as StateAction;
  const takes = new Set<string>(STATE_ACTIONS[action].takes);
  for (const flag of Object.keys(v)) {
    if (flag === 'help' || flag === 'no-color' || takes.has(flag)) continue;
    const others = names.filter((n) => (STATE_ACTIONS[n].takes as readonly string[]).includes(flag));
    throw new UsageError(`cgw-batch state ${action} does not take --${flag}${others.length ? ` (state ${others.join(', state ')} ${others.length === 1 ? 'takes' : 'take'} it)` : ''}; see cgw-batch state --help`);
  }
  return action;
}

export function resolveOptions(argv: string[], term: Terminal): ParsedArgs {
  const first = argv[0];
  if (first === undefined || first === '-h' || first === '--help' || first === 'help') return { kind: 'help', text: HELP };
  if (first === '--version' || first === '-v') return { kind: 'version' };
  if (!(COMMANDS as readonly string[]).includes(first)) {
    const near = closest(first, COMMANDS);
    throw new UsageError(`unknown command '${first}'${near ? `; did you mean '${near}'?` : ';'} commands: ${COMMANDS.join(', ')} (see cgw-batch --help)`);
  }
  const command = first as Command;
  if (command === 'emulator') return { kind: 'emulator', argv: argv.slice(1) };

  const parsed = parseFlags(command, argv.slice(1));
  if ('help' in parsed) return { kind: 'help', text: parsed.help };
  const v = parsed.values;
  const str = (k: Flag): string | undefined => (typeof v[k] === 'string' ? (v[k] as string) : undefined);
  const bool = (k: Flag): boolean => v[k] === true;

  const positional = command === 'state' ? parsed.positionals.slice(1) : parsed.positionals;
  const action = command === 'state' ? stateAction(parsed.positionals[0], v) : undefined;
  const needsManifest = command === 'plan' || command === 'apply' || command === 'refresh' || command === 'import' || command === 'destroy' || command === 'configs';
  if (command === 'export') {
    if (positional.length > 0) throw new UsageError(`cgw-batch export takes no manifest; write to a file with -o FILE`);
  } else if (positional.length > 1) {
    throw new UsageError(`one ${command === 'init' ? 'file' : 'manifest'} at a time, got: ${positional.join(' ')}`);
  }
  const manifestArg = command === 'init' || command === 'export' ? undefined : positional[0];
  if (needsManifest && !manifestArg) throw new UsageError(`cgw-batch ${command} needs a manifest file: cgw-batch ${command} branches.csv`);
  const envState = term.env.CGW_BATCH_STATE || undefined;
  if (envState !== undefined && !isUrl(envState)) {
    throw new UsageError('CGW_BATCH_STATE must be a postgres://... or oss://... URL (a journal file goes beside its manifest, or in --state PATH)');
  }
  const stateArg = str('state') ?? (command === 'state' && action === 'migrate' ? undefined : envState);
  // status and report without either find the working directory's journal when they run (run/locate.ts).
  if (command === 'state' && action !== 'migrate' && !manifestArg && !stateArg) {
    throw new UsageError(`cgw-batch state ${action} needs the manifest or --state PATH|URL`);
  }

  let format: 'text' | 'json' = 'text';
  let fileFormat: Options['fileFormat'];
  const fmt = str('format');
  if (command === 'init' || command === 'export') {
    if (fmt !== undefined && fmt !== 'csv' && fmt !== 'yaml' && fmt !== 'xlsx') throw new UsageError(`--format must be csv, yaml or xlsx, got '${fmt}'`);
    fileFormat = fmt;
  } else if (fmt !== undefined) {
    if (fmt !== 'text' && fmt !== 'json') throw new UsageError(`--format must be text or json, got '${fmt}'`);
    format = fmt;
  }
  const endpoint = str('endpoint');
  if (bool('sandbox') && endpoint) throw new UsageError('--sandbox and --endpoint cannot be used together');
  if (endpoint && !/^https?:\/\/[^\s/]+/.test(endpoint)) throw new UsageError(`--endpoint must be an http(s) URL, got '${endpoint}'`);
  const network = str('network') ?? 'public';
  if (network !== 'public' && network !== 'vpc') throw new UsageError(`--network must be public or vpc, got '${network}'`);
  if (bool('sandbox') && (str('network') !== undefined || str('sts-endpoint') !== undefined)) throw new UsageError('--sandbox talks to the embedded emulator: --network and --sts-endpoint do not apply');
  const regions = ((v.region as string[] | undefined) ?? []).flatMap((r) => r.split(',')).map((r) => r.trim()).filter(Boolean);
  if (command === 'export' && regions.length === 0) throw new UsageError('cgw-batch export needs --region R[,R...]: the regions whose gateways to write');

  if (str('sheet') !== undefined && manifestArg !== undefined && !/\.xls[xm]$/i.test(manifestArg)) {
    throw new UsageError(`--sheet picks a sheet of an .xlsx workbook; ${manifestArg} is not one`);
  }
  const abs = (p: string | undefined): string | undefined => (p === undefined ? undefined : resolve(term.cwd, p));
  const manifest = abs(manifestArg);
  // A URL is kept as given (its backend parses it); a path is made absolute.
  const location = (p: string | undefined): string | undefined => (p !== undefined && isUrl(p) ? p : abs(p));
  for (const f of ['state', 'from', 'to'] as const) {
    const u = str(f);
    // Like --auth-key: a password on the command line is visible in shell history and `ps`.
    if (u !== undefined && isUrl(u) && /^[a-z][a-z0-9+.-]*:\/\/[^/@]*:[^/@]*@/i.test(u)) {
      throw new UsageError(`--${f}: a password in the URL is not accepted on the command line (shell history, \`ps\`); use PGPASSWORD or ~/.pgpass, or put the URL in CGW_BATCH_STATE`);
    }
  }
  const statePath = location(stateArg) ?? (manifest ? `${manifest}.state.jsonl` : undefined);
  // Reports stay local whatever the backend: beside a journal file, else beside the manifest (or in the current directory).
  const reportBase = statePath && !isUrl(statePath) ? statePath : manifest ? `${manifest}.state.jsonl` : resolve(term.cwd, `${estateOf(statePath) ?? 'estate'}.state.jsonl`);
  const reportDir = abs(str('report-dir')) ?? (statePath || manifest ? reportDirFor(reportBase) : undefined);
  const stateEndpoint = str('state-endpoint') ?? (term.env.CGW_BATCH_STATE_ENDPOINT || undefined);
  if (stateEndpoint !== undefined && !/^https?:\/\/[^\s/]+/.test(stateEndpoint)) throw new UsageError(`--state-endpoint must be an http(s) URL, got '${stateEndpoint}'`);
  const output = command === 'init' ? abs(str('output') ?? positional[0]) : abs(str('output'));
  const env = bool('no-color') ? { ...term.env, NO_COLOR: '1' } : term.env;
  const quiet = bool('quiet');
  const progress: ProgressMode = format === 'json' ? 'json' : quiet ? 'quiet' : term.stdoutIsTTY && !term.env.CI ? 'tty' : 'simple';
  const only = str('only');

  const base: BaseOptions = {
    output,
    format,
    fileFormat,
    regions,
    sheet: str('sheet'),
    sandbox: bool('sandbox'),
    sandboxData: abs(str('sandbox-data')),
    endpoint,
    network,
    stsEndpoint: str('sts-endpoint'),
    proxy: str('proxy'),
    profile: str('profile'),
    timeoutMs: rangedNumber('timeout', str('timeout')) ?? 10_000,
    offline: bool('offline'),
    ...(str('quota') !== undefined ? { quota: parseQuota(str('quota')!) } : {}),
    vpnQuota: rangedNumber('quota-vpn-connections', str('quota-vpn-connections')) ?? 10,
    vpnQuotaGiven: str('quota-vpn-connections') !== undefined,
    profiles: abs(str('profiles')),
    yes: bool('yes'),
    skipInvalid: bool('skip-invalid'),
    rate: rangedNumber('rate', str('rate')),
    concurrency: rangedNumber('concurrency', str('concurrency')) ?? 16,
    maxFailures: parseMaxFailures(str('max-failures')),
    retryFailed: bool('retry-failed'),
    only: only !== undefined ? parseOnly(only) : undefined,
    allowReplace: bool('allow-replace'),
    prune: bool('prune'),
    forceUnlock: bool('force-unlock'),
    quiet,
    write: bool('write'),
    live: bool('live'),
    dryRun: bool('dry-run'),
    color: shouldColor({ isTTY: term.stdoutIsTTY }, env),
    colorErr: shouldColor({ isTTY: term.stderrIsTTY }, env),
    progress,
    columns: term.columns && term.columns > 20 ? term.columns : 80,
    canPrompt: term.stdinIsTTY === true,
    retryBackoff: {
      baseMs: envMs(term.env, 'CGW_BATCH_RETRY_BASE_MS') ?? 200,
      capMs: envMs(term.env, 'CGW_BATCH_RETRY_CAP_MS') ?? 20_000,
    },
    vpnWaitMs: envMs(term.env, 'CGW_BATCH_VPN_WAIT_MS'),
    ...(str('device') !== undefined ? { device: str('device') } : {}),
    ...(command === 'configs' && statePath ? { outDir: abs(str('out')) ?? configsDirFor(statePath) } : {}),
    redactPsk: bool('redact-psk'),
    ...(stateEndpoint ? { stateEndpoint } : {}),
    lockTimeoutMs: parseDuration('lock-timeout', str('lock-timeout')) ?? 0,
  };
  if (command === 'state') {
    const a = action ?? 'show';
    const from = location(str('from'));
    const to = location(str('to'));
    if (a === 'migrate' && (!from || !to)) throw new UsageError('cgw-batch state migrate needs --from PATH|URL and --to PATH|URL');
    const opts: StateOptions = { ...base, command, action: a, ...(manifest ? { manifest } : {}), ...(statePath && a !== 'migrate' ? { statePath } : {}), ...(from ? { from } : {}), ...(to ? { to } : {}) };
    return { kind: 'run', options: Object.freeze(opts) };
  }
  const paths = { manifest, statePath, reportDir, stateGiven: stateArg !== undefined, reportDirGiven: str('report-dir') !== undefined };
  return { kind: 'run', options: Object.freeze(withPaths(command, base, paths)) };
}
