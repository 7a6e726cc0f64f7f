// `cgw-batch emulator --oss`: flags -> OssEmulatorOptions, start, print URL, bucket, key and the --state flags to use, stop on a signal.
import { parseArgs } from 'node:util';
import { DEFAULT_OSS_ACCOUNT, OSS_FAULT_KINDS, startOssEmulator, type OssEmulatorOptions, type OssFaultKind } from './server.js';

/** The process boundary the emulator commands get (the same shape as emulator/cli.ts's). */
interface EmulatorIo {
  stdout: (s: string) => void;
  stderr: (s: string) => void;
  onSignal: (handler: () => void) => void;
}

export const OSS_EMULATOR_USAGE = `usage: cgw-batch emulator --oss [options]

Runs a local Alibaba Cloud OSS emulator (the object operations a shared --state oss://... journal uses:
AppendObject with positions, PutObject with forbid-overwrite, GET with ranges, HEAD, DELETE, ListObjectsV2;
V4 and V1 signatures, crc64). Data lives in memory until the emulator stops.

  --host HOST              listen address (default 127.0.0.1)
  --port N                 port, 0 = any free port (default 0)
  --bucket NAME            a bucket to serve (repeatable; default cgw-state)
  --region REGION          the region signatures must name (default cn-hangzhou)
  --access-key AK:SECRET   an access key to accept (repeatable; default: the built-in sandbox key)
  --faults kind=p,...      fault probabilities 0..1: ${OSS_FAULT_KINDS.join(', ')}
  --seed N                 seed for faults (reproducible runs)
  -h, --help               show this help
`;

class UsageError extends Error {}

export function parseOssEmulatorArgs(argv: string[]): OssEmulatorOptions | 'help' {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        host: { type: 'string' },
        port: { type: 'string' },
        bucket: { type: 'string', multiple: true },
        region: { type: 'string' },
        'access-key': { type: 'string', multiple: true },
        faults: { type: 'string' },
        seed: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (e) {
    throw new UsageError(e instanceof Error ? e.message : 'invalid arguments');
  }
  if (values.help) return 'help';
  const o: OssEmulatorOptions = {};
  if (values.host !== undefined) {
    if (values.host === '') throw new UsageError('--host must not be empty');
    o.host = values.host;
  }
  if (values.port !== undefined) {
    if (!/^\d+$/.test(values.port) || Number(values.port) > 65535) throw new UsageError('--port must be a whole number between 0 and 65535');
    o.port = Number(values.port);
  }
  if (values.bucket) {
    for (const b of values.bucket) if (!/^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$/.test(b)) throw new UsageError('--bucket: 3-63 lowercase letters, digits and hyphens, not starting or ending with a hyphen');
    o.buckets = values.bucket;
  }
  if (values.region !== undefined) {
    if (!/^[a-z0-9-]{2,40}$/.test(values.region)) throw new UsageError('--region must look like cn-hangzhou');
    o.region = values.region;
  }
  if (values['access-key']) {
    o.accounts = values['access-key'].map((s) => {
      const i = s.indexOf(':');
      if (i <= 0 || i === s.length - 1) throw new UsageError('--access-key must be AK:SECRET');
      return { accessKeyId: s.slice(0, i), accessKeySecret: s.slice(i + 1) };
    });
  }
  if (values.faults !== undefined) {
    const f: Partial<Record<OssFaultKind, number>> = {};
    for (const part of values.faults.split(',').filter((x) => x !== '')) {
      const m = /^([a-z-]+)=(\d*\.?\d+)$/.exec(part);
      const kind = m?.[1] as OssFaultKind | undefined;
      if (!m || !kind || !(OSS_FAULT_KINDS as readonly string[]).includes(kind)) throw new UsageError(`--faults: expected kind=probability with kind one of ${OSS_FAULT_KINDS.join(', ')}`);
      const p = Number(m[2]);
      if (!(p >= 0 && p <= 1)) throw new UsageError(`--faults: probability for ${kind} must be between 0 and 1`);
      f[kind] = p;
    }
    o.faults = f;
  }
  if (values.seed !== undefined) {
    if (!/^\d+$/.test(values.seed) || Number(values.seed) > 2 ** 32 - 1) throw new UsageError('--seed must be a whole number');
    o.seed = Number(values.seed);
  }
  return o;
}

export async function runOssEmulatorCommand(argv: string[], io: EmulatorIo): Promise<number> {
  let opts: OssEmulatorOptions | 'help';
  try {
    opts = parseOssEmulatorArgs(argv);
  } catch (e) {
    io.stderr(`cgw-batch emulator --oss: ${e instanceof Error ? e.message : String(e)}\n${OSS_EMULATOR_USAGE}`);
    return 2;
  }
  if (opts === 'help') {
    io.stdout(OSS_EMULATOR_USAGE);
    return 0;
  }
  let emu;
  try {
    emu = await startOssEmulator(opts);
  } catch (e) {
    io.stderr(`cgw-batch emulator --oss: cannot start: ${e instanceof Error ? e.message : String(e)}\n`);
    return 2;
  }
  const running = emu;
  const buckets = opts.buckets ?? ['cgw-state'];
  io.stdout(`oss emulator listening on ${running.url} (region ${running.region})\n`);
  io.stdout(`bucket: ${buckets.join(', ')}\n`);
  // Only the built-in sandbox secret is public; a secret given with --access-key is never echoed.
  for (const a of opts.accounts ?? [DEFAULT_OSS_ACCOUNT]) {
    const shown = a.accessKeySecret === DEFAULT_OSS_ACCOUNT.accessKeySecret ? a.accessKeySecret : '(as given with --access-key)';
    io.stdout(`access key: ${a.accessKeyId} secret: ${shown}\n`);
  }
  io.stdout(`state: --state oss://${buckets[0]}/estates --state-endpoint ${running.url}\n`);
  await new Promise<void>((resolve) => {
    let stopping = false;
    io.onSignal(() => {
      if (stopping) return;
      stopping = true;
      running.close().then(resolve, resolve);
    });
  });
  return 0;
}
