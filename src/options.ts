// One options resolver: argv + env + terminal -> a frozen Options value for one command; per-command flag tables and help.
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { UsageError } from './errors.js';
import { shouldColor } from './color.js';
import type { QuotaGiven } from './types.js';

export const COMMANDS = ['plan', 'apply', 'import', 'destroy', 'refresh', 'status', 'report', 'export', 'init', 'emulator'] as const;
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
  format: { type: 'string', arg: 'text|json', help: 'output format' },
  state: { type: 'string', arg: 'FILE', help: 'journal file (default <manifest>.state.jsonl beside the manifest)' },
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
  'force-unlock': { type: 'boolean', help: "take the journal's lock even if another run seems to hold it" },
  'report-dir': { type: 'string', arg: 'DIR', help: 'where the reports go (default <journal>.results/ beside the journal)' },
  quiet: { type: 'boolean', short: 'q', help: 'no progress output (refresh: only the exit code)' },
  write: { type: 'boolean', help: 'record the drift found in the journal' },
  region: { type: 'string', multiple: true, arg: 'R[,R...]', help: 'regions to export (repeatable or comma-separated)' },
  output: { type: 'string', short: 'o', arg: 'FILE', help: 'write to FILE instead of standard output (never overwrites)' },
  'no-color': { type: 'boolean', help: 'no ANSI colours (also NO_COLOR)' },
  help: { type: 'boolean', short: 'h', help: 'this help' },
  // Refused on purpose: secrets on the command line end up in shell history and `ps`.
  'auth-key': { type: 'string', help: '' },
} as const satisfies Record<string, FlagSpec>;
type Flag = keyof typeof FLAGS;

const CONNECTION: Flag[] = ['sandbox', 'sandbox-data', 'endpoint', 'network', 'sts-endpoint', 'proxy', 'profile', 'timeout'];
const DECISION: Flag[] = ['only', 'allow-replace', 'prune', 'retry-failed', 'skip-invalid'];
const RUN: Flag[] = ['yes', 'dry-run', 'rate', 'concurrency', 'max-failures', 'force-unlock', 'report-dir', 'quiet'];
const COMMON: Flag[] = ['no-color', 'help'];

/** The flags each command takes; anything else is refused with the commands that do take it. */
const TAKES: Record<Exclude<Command, 'emulator'>, Flag[]> = {
  plan: [...CONNECTION, 'offline', 'quota', 'format', 'state', 'sheet', ...DECISION, ...COMMON],
  apply: [...CONNECTION, 'quota', 'format', 'state', 'sheet', ...DECISION, ...RUN, ...COMMON],
  import: [...CONNECTION, 'format', 'state', 'sheet', 'only', 'dry-run', 'force-unlock', 'report-dir', 'quiet', ...COMMON],
  destroy: [...CONNECTION, 'format', 'state', 'only', ...RUN, ...COMMON],
  refresh: [...CONNECTION, 'format', 'state', 'only', 'write', 'force-unlock', 'quiet', ...COMMON],
  status: ['format', 'state', 'sheet', ...COMMON],
  report: ['state', 'sheet', 'report-dir', ...COMMON],
  export: [...CONNECTION, 'region', 'format', 'output', ...COMMON],
  init: ['format', 'output', ...COMMON],
};

const SYNOPSIS: Record<Exclude<Command, 'emulator'>, { usage: string; what: string }> = {
  plan: { usage: 'plan <manifest>', what: 'validate every row and show what apply would do, with the reason for each row; changes nothing' },
  apply: { usage: 'apply <manifest>', what: 'lock the journal, plan, confirm, then carry out exactly that plan (exactly-once creates; resumable)' },
  import: { usage: 'import <manifest>', what: 'adopt gateways that already exist with a row\'s region + IP (and its name and ASN); creates nothing' },
  destroy: { usage: 'destroy <manifest>', what: 'delete the gateways this journal created or adopted (asks; --dry-run lists them)' },
  refresh: { usage: 'refresh <manifest>', what: 'compare the journal with the cloud (drift; exit 1 when found)' },
  status: { usage: 'status [<manifest>]', what: 'every row of the manifest with its journal status and gateway id' },
  report: { usage: 'report [<manifest>]', what: 'write the reports again from the journal' },
  export: { usage: 'export --region R[,R...]', what: 'write the gateways that already exist as a manifest (AuthKeys as env:NAME references)' },
  init: { usage: 'init [FILE]', what: 'write a commented example manifest to start from (--format csv|yaml|xlsx)' },
};

const EXIT_TEXT = 'Exit codes: 0 ok; 1 rows invalid, blocked or failed (refresh: drift found); 2 usage, configuration, credentials or state problem; 130 interrupted.';

export const HELP = `cgw-batch: provision Alibaba Cloud VPN customer gateways in bulk from CSV, XLSX or YAML manifests

Usage:
${Object.values(SYNOPSIS)
  .map((s) => `  cgw-batch ${s.usage.padEnd(26)} ${s.what}`)
  .join('\n')}
  cgw-batch ${'emulator [options]'.padEnd(26)} run the local VPC API emulator (see README)

Each command takes only its own flags: cgw-batch <command> --help lists them.
${EXIT_TEXT}
AuthKeys: keep them out of the manifest with auth_key: env:NAME; they are never printed, logged or stored.
`;

export function commandHelp(command: Exclude<Command, 'emulator'>): string {
  const s = SYNOPSIS[command];
  const lines = TAKES[command]
    .filter((f) => FLAGS[f].help !== '')
    .map((f) => {
      const spec: FlagSpec = FLAGS[f];
      const name = `${spec.short ? `-${spec.short}, ` : ''}--${f}${spec.arg ? ` ${spec.arg}` : ''}`;
      return `  ${name.padEnd(28)} ${spec.help}`;
    });
  return `Usage: cgw-batch ${s.usage} [options]\n\n${s.what}\n\nOptions:\n${lines.join('\n')}\n\n${EXIT_TEXT}\n`;
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
  yes: boolean;
  skipInvalid: boolean;
  rate?: number;
  concurrency: number;
  maxFailures?: { count?: number; percent?: number };
  retryFailed: boolean;
  only?: { lines: Set<number>; keys: Set<string>; text: string };
  allowReplace: boolean;
  prune: boolean;
  forceUnlock: boolean;
  quiet: boolean;
  write: boolean;
  dryRun: boolean;
  /** Colour on stdout / stderr, decided once from the terminal, NO_COLOR, FORCE_COLOR and --no-color. */
  color: boolean;
  colorErr: boolean;
  progress: ProgressMode;
  /** Terminal width for redraws (80 when unknown). */
  columns: number;
  /** Whether stdin is a terminal a confirmation can be asked on. */
  canPrompt: boolean;
  /** Backoff of retried requests (env CGW_BATCH_RETRY_BASE_MS / CGW_BATCH_RETRY_CAP_MS; defaults 200 and 20000 ms). */
  retryBackoff: { baseMs: number; capMs: number };
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

/** Commands that read the journal, with the manifest when given; the journal located (run/locate.ts). */
export interface JournalOptions extends BaseOptions {
  command: 'status' | 'report';
  manifest?: string;
  statePath: string;
  reportDir: string;
  stateGiven: boolean;
  reportDirGiven: boolean;
}

/** status / report as parsed: without a manifest or --state the journal is the working directory's (run/locate.ts). */
export type UnlocatedJournalOptions = Omit<JournalOptions, 'statePath' | 'reportDir'> & { statePath?: string; reportDir?: string };

/** Commands that write a file of their own (a manifest). */
export interface FileOptions extends BaseOptions {
  command: 'export' | 'init';
}

export type Options = ManifestOptions | UnlocatedJournalOptions | FileOptions;

/** What the resolver needs to know about the terminal and the environment (cli.ts reads it off `process`). */
export interface Terminal {
  cwd: string;
  env: Record<string, string | undefined>;
  stdoutIsTTY?: boolean;
  stderrIsTTY?: boolean;
  stdinIsTTY?: boolean;
  columns?: number;
}

function positiveNumber(flag: string, v: string | undefined, integer = false): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0 || (integer && !Number.isInteger(n))) {
    throw new UsageError(`--${flag} needs a positive ${integer ? 'integer' : 'number'}, got '${v}'`);
  }
  return n;
}

/** A millisecond setting from the environment; a bad value is a usage error naming the variable. */
function envMs(env: Record<string, string | undefined>, name: string): number | undefined {
  const v = env[name];
  if (v === undefined || v === '') return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > 600_000) throw new UsageError(`${name} must be a whole number of milliseconds (0-600000), got '${v}'`);
  return n;
}

export function parseOnly(v: string): { lines: Set<number>; keys: Set<string>; text: string } {
  const lines = new Set<number>();
  const keys = new Set<string>();
  for (const part of v.split(',').map((s) => s.trim()).filter(Boolean)) {
    const range = /^(\d+)(?:-(\d+))?$/.exec(part);
    if (range) {
      const a = Number(range[1]);
      const b = Number(range[2] ?? range[1]);
      if (b < a || b - a > 1_000_000) throw new UsageError(`--only: bad line range '${part}'`);
      for (let i = a; i <= b; i++) lines.add(i);
    } else if (/^[a-z0-9-]+\/[^/\s]+$/i.test(part)) {
      keys.add(part);
    } else {
      throw new UsageError(`--only takes line numbers (4,7-9) or keys (cn-hangzhou/203.0.113.10), got '${part}'`);
    }
  }
  if (lines.size === 0 && keys.size === 0) throw new UsageError('--only needs at least one line number or key');
  return { lines, keys, text: v };
}

/** `--quota 55`, `--quota cn-hangzhou=55,cn-shanghai=100`, or both (`80,cn-hangzhou=55`: 80 for the other regions). */
export function parseQuota(v: string): QuotaGiven {
  const usage = `--quota takes N (every region) or REGION=N pairs (cn-hangzhou=55,cn-shanghai=100), N a whole number 1-1000000; got '${v}'`;
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
    if (n <= 0 || n > 100) throw new UsageError(`--max-failures percentage must be in (0, 100], got '${v}'`);
    return { percent: n };
  }
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`--max-failures count must be a positive integer, got '${v}'`);
  return { count: n };
}

/** `<manifest>.state.jsonl` -> `<manifest>.results`: reports live beside the journal they are made from. */
export function reportDirFor(statePath: string): string {
  const base = statePath.replace(/\.state\.jsonl$/, '').replace(/\.jsonl$/, '');
  return `${base}.results`;
}

/** The options of `command`, with the paths its kind of command always has. */
function withPaths(
  command: Exclude<Command, 'emulator'>,
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

/** The command's flags and positionals; a flag it does not take, or an AuthKey on the command line, is refused. */
function parseFlags(command: Exclude<Command, 'emulator'>, args: string[]): { values: FlagValues; positionals: string[] } | { help: string } {
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

export function resolveOptions(argv: string[], term: Terminal): ParsedArgs {
  const first = argv[0];
  if (first === undefined || first === '-h' || first === '--help' || first === 'help') return { kind: 'help', text: HELP };
  if (first === '--version' || first === '-v') return { kind: 'version' };
  if (!(COMMANDS as readonly string[]).includes(first)) {
    throw new UsageError(`unknown command '${first}'; commands: ${COMMANDS.join(', ')} (see cgw-batch --help)`);
  }
  const command = first as Command;
  if (command === 'emulator') return { kind: 'emulator', argv: argv.slice(1) };

  const parsed = parseFlags(command, argv.slice(1));
  if ('help' in parsed) return { kind: 'help', text: parsed.help };
  const v = parsed.values;
  const str = (k: Flag): string | undefined => (typeof v[k] === 'string' ? (v[k] as string) : undefined);
  const bool = (k: Flag): boolean => v[k] === true;

  const positional = parsed.positionals;
  const needsManifest = command === 'plan' || command === 'apply' || command === 'refresh' || command === 'import' || command === 'destroy';
  if (command === 'export') {
    if (positional.length > 0) throw new UsageError(`cgw-batch export takes no manifest; write to a file with -o FILE`);
  } else if (positional.length > 1) {
    throw new UsageError(`one ${command === 'init' ? 'file' : 'manifest'} at a time, got: ${positional.join(' ')}`);
  }
  const manifestArg = command === 'init' || command === 'export' ? undefined : positional[0];
  if (needsManifest && !manifestArg) throw new UsageError(`cgw-batch ${command} needs a manifest file: cgw-batch ${command} branches.csv`);

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
  const statePath = abs(str('state')) ?? (manifest ? `${manifest}.state.jsonl` : undefined);
  const reportDir = abs(str('report-dir')) ?? (statePath ? reportDirFor(statePath) : undefined);
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
    timeoutMs: positiveNumber('timeout', str('timeout'), true) ?? 10_000,
    offline: bool('offline'),
    ...(str('quota') !== undefined ? { quota: parseQuota(str('quota')!) } : {}),
    yes: bool('yes'),
    skipInvalid: bool('skip-invalid'),
    rate: positiveNumber('rate', str('rate')),
    concurrency: positiveNumber('concurrency', str('concurrency'), true) ?? 16,
    maxFailures: parseMaxFailures(str('max-failures')),
    retryFailed: bool('retry-failed'),
    only: only !== undefined ? parseOnly(only) : undefined,
    allowReplace: bool('allow-replace'),
    prune: bool('prune'),
    forceUnlock: bool('force-unlock'),
    quiet,
    write: bool('write'),
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
  };
  const paths = { manifest, statePath, reportDir, stateGiven: str('state') !== undefined, reportDirGiven: str('report-dir') !== undefined };
  return { kind: 'run', options: Object.freeze(withPaths(command, base, paths)) };
}
