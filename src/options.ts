// One options resolver: argv + env -> a frozen, typed Options object. Help text lives here too.
import { parseArgs } from 'node:util';
import { UsageError } from './errors.js';

export const COMMANDS = ['plan', 'apply', 'status', 'report', 'refresh', 'import', 'destroy', 'emulator'] as const;
export type Command = (typeof COMMANDS)[number];

export const HELP = `cgw-batch: provision Alibaba Cloud VPN customer gateways in bulk from CSV/YAML manifests

Usage:
  cgw-batch plan <manifest> [options]      validate every row (offline and against the live inventory); writes nothing
  cgw-batch apply <manifest> [options]     plan, confirm, then create exactly once per row; resumable
  cgw-batch status [<manifest>] [--state FILE] [--format json]   show the journal of earlier applies
  cgw-batch report [<manifest>] [--state FILE] [--report-dir DIR] regenerate results.csv/json and junit.xml
  cgw-batch refresh <manifest> [--write]   compare the journal with the cloud (drift; exit 1 when found)
  cgw-batch import <manifest>              adopt existing gateways that match rows by region + IP; creates nothing
  cgw-batch destroy <manifest> [--only ..] delete the gateways this journal created or adopted (--dry-run, --yes)
  cgw-batch emulator [options]             run the local VPC API emulator (see README)

Connection:
  --sandbox              use the embedded emulator (persistent data in ~/.cgw-batch/sandbox.json); nothing reaches Alibaba Cloud
  --sandbox-data FILE    data file for --sandbox
  --endpoint URL         VPC endpoint for every region (default https://vpc.<region>.aliyuncs.com)
  --profile NAME         aliyun CLI profile (~/.aliyun/config.json); default: env ALIBABA_CLOUD_ACCESS_KEY_ID/_SECRET, then the SDK chain
  --timeout MS           per-request timeout (default 10000)

Plan:
  --offline              skip the inventory, region and quota checks against the API
  --quota N              customer gateways allowed per region (default 100)
  --format text|json     output format (json: one document for plan/status; NDJSON events for apply)

Apply (and import / destroy):
  --yes                  do not ask for confirmation (required without a terminal)
  --skip-invalid         proceed with the valid rows when some rows are invalid
  --rate N               API write requests per second per region (default: adaptive from 2/s)
  --concurrency N        rows in flight per region (default 16)
  --max-failures N|N%    stop launching rows after this many failures (default: continue)
  --retry-failed         retry rows that failed terminally in an earlier run
  --only LINES|KEYS      only these rows: 4,7-9 or cn-hangzhou/203.0.113.10,...
  --allow-replace        allow delete + create for rows whose IP or ASN changed
  --prune                delete gateways whose rows were removed from the manifest
  --state FILE           journal file (default <manifest>.state.jsonl beside the manifest)
  --force-unlock         take the journal's lock even if another run seems to hold it
  --report-dir DIR       where results.csv, results.json and junit.xml go (default <manifest>.results/)
  --quiet                no progress output
  --write                (refresh) record the drift found in the journal
  --dry-run              (destroy) list what would be deleted

Other:
  --no-color             no ANSI colours (also NO_COLOR)
  -h, --help             this help
  --version              print the version

Exit codes: 0 ok; 1 some rows invalid or failed (refresh: drift found); 2 usage, configuration, credentials or state problem; 130 interrupted.
AuthKeys: keep them out of the manifest with auth_key: env:NAME; they are never printed, logged or stored.
`;

export interface Options {
  command: Command;
  manifest?: string;
  format: 'text' | 'json';
  sandbox: boolean;
  sandboxData?: string;
  endpoint?: string;
  profile?: string;
  timeoutMs: number;
  offline: boolean;
  quota: number;
  yes: boolean;
  skipInvalid: boolean;
  rate?: number;
  concurrency: number;
  maxFailures?: { count?: number; percent?: number };
  retryFailed: boolean;
  only?: { lines: Set<number>; keys: Set<string> };
  allowReplace: boolean;
  prune: boolean;
  state?: string;
  forceUnlock: boolean;
  reportDir?: string;
  quiet: boolean;
  write: boolean;
  dryRun: boolean;
  noColor: boolean;
}

function positiveNumber(flag: string, v: string | undefined, integer = false): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0 || (integer && !Number.isInteger(n))) {
    throw new UsageError(`${flag} needs a positive ${integer ? 'integer' : 'number'}, got '${v}'`);
  }
  return n;
}

export function parseOnly(v: string): { lines: Set<number>; keys: Set<string> } {
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
  return { lines, keys };
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

export type ParsedArgs = { kind: 'help' } | { kind: 'version' } | { kind: 'emulator'; argv: string[] } | { kind: 'run'; options: Options };

export function resolveOptions(argv: string[]): ParsedArgs {
  const first = argv[0];
  if (first === undefined || first === '-h' || first === '--help' || first === 'help') return { kind: 'help' };
  if (first === '--version' || first === '-v') return { kind: 'version' };
  if (!(COMMANDS as readonly string[]).includes(first)) {
    throw new UsageError(`unknown command '${first}'; commands: ${COMMANDS.join(', ')} (see cgw-batch --help)`);
  }
  const command = first as Command;
  if (command === 'emulator') return { kind: 'emulator', argv: argv.slice(1) };

  let parsed;
  try {
    parsed = parseArgs({
      args: argv.slice(1),
      allowPositionals: true,
      strict: true,
      options: {
        help: { type: 'boolean', short: 'h' },
        format: { type: 'string' },
        sandbox: { type: 'boolean' },
        'sandbox-data': { type: 'string' },
        endpoint: { type: 'string' },
        profile: { type: 'string' },
        timeout: { type: 'string' },
        offline: { type: 'boolean' },
        quota: { type: 'string' },
        yes: { type: 'boolean', short: 'y' },
        'skip-invalid': { type: 'boolean' },
        rate: { type: 'string' },
        concurrency: { type: 'string' },
        'max-failures': { type: 'string' },
        'retry-failed': { type: 'boolean' },
        only: { type: 'string' },
        'allow-replace': { type: 'boolean' },
        prune: { type: 'boolean' },
        state: { type: 'string' },
        'force-unlock': { type: 'boolean' },
        'report-dir': { type: 'string' },
        quiet: { type: 'boolean', short: 'q' },
        write: { type: 'boolean' },
        'dry-run': { type: 'boolean' },
        'no-color': { type: 'boolean' },
        // Refused on purpose: secrets on the command line end up in shell history and `ps`.
        'auth-key': { type: 'string' },
      },
    });
  } catch (e) {
    throw new UsageError(`${(e as Error).message.replace(/\. To specify.*$/s, '')} (see cgw-batch --help)`);
  }
  const v = parsed.values;
  if (v.help) return { kind: 'help' };
  if (v['auth-key'] !== undefined) {
    throw new UsageError(
      '--auth-key is not accepted: a key on the command line is visible in shell history and `ps`. ' +
        'Put `auth_key: env:NAME` in the manifest and export NAME, or keep it in a chmod 600 manifest.',
    );
  }
  if (parsed.positionals.length > 1) throw new UsageError(`one manifest at a time, got: ${parsed.positionals.join(' ')}`);
  const manifest = parsed.positionals[0];
  const needsManifest = command === 'plan' || command === 'apply' || command === 'refresh' || command === 'import' || command === 'destroy';
  if (needsManifest && !manifest) throw new UsageError(`cgw-batch ${command} needs a manifest file: cgw-batch ${command} branches.csv`);
  if ((command === 'status' || command === 'report') && !manifest && !v.state) {
    throw new UsageError(`cgw-batch ${command} needs the manifest or --state FILE`);
  }
  const format = v.format ?? 'text';
  if (format !== 'text' && format !== 'json') throw new UsageError(`--format must be text or json, got '${format}'`);
  if (v.sandbox && v.endpoint) throw new UsageError('--sandbox and --endpoint cannot be used together');
  if (v.endpoint && !/^https?:\/\/[^\s/]+/.test(v.endpoint)) throw new UsageError(`--endpoint must be an http(s) URL, got '${v.endpoint}'`);

  const options: Options = {
    command,
    manifest,
    format,
    sandbox: v.sandbox ?? false,
    sandboxData: v['sandbox-data'],
    endpoint: v.endpoint,
    profile: v.profile,
    timeoutMs: positiveNumber('--timeout', v.timeout, true) ?? 10_000,
    offline: v.offline ?? false,
    quota: positiveNumber('--quota', v.quota, true) ?? 100,
    yes: v.yes ?? false,
    skipInvalid: v['skip-invalid'] ?? false,
    rate: positiveNumber('--rate', v.rate),
    concurrency: positiveNumber('--concurrency', v.concurrency, true) ?? 16,
    maxFailures: parseMaxFailures(v['max-failures']),
    retryFailed: v['retry-failed'] ?? false,
    only: v.only !== undefined ? parseOnly(v.only) : undefined,
    allowReplace: v['allow-replace'] ?? false,
    prune: v.prune ?? false,
    state: v.state,
    forceUnlock: v['force-unlock'] ?? false,
    reportDir: v['report-dir'],
    quiet: v.quiet ?? false,
    write: v.write ?? false,
    dryRun: v['dry-run'] ?? false,
    noColor: v['no-color'] ?? false,
  };
  return { kind: 'run', options: Object.freeze(options) };
}
