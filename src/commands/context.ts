// Shared command plumbing: output streams, the connection (real or sandbox), and load -> plan as one step.
import { existsSync, mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { connect, resolveCredentials, type Connection } from '../cloud/connect.js';
import { fetchInventory, fetchRegions } from '../cloud/inventory.js';
import type { CustomerGateway } from '../cloud/types.js';
import { DEFAULT_ACCOUNT, startEmulator, type Emulator } from '../emulator/index.js';
import { AuthError } from '../errors.js';
import { redactedWriter, type Io } from '../io.js';
import { loadManifest } from '../load/index.js';
import type { Options } from '../options.js';
import { planManifest } from '../plan/plan.js';
import { Redactor, fingerprint } from '../secrets.js';
import { checkAccount, defaultStatePath, readJournal, toPriorRows } from '../state/journal.js';
import type { Manifest, Plan, PriorRow } from '../types.js';
import { shouldColor } from '../ui/color.js';

export interface Context {
  io: Io;
  options: Options;
  redactor: Redactor;
  out: { write(s: string): void; isTTY?: boolean };
  err: { write(s: string): void; isTTY?: boolean };
  color: boolean;
  colorErr: boolean;
}

export function makeContext(io: Io, options: Options, redactor: Redactor): Context {
  const env = options.noColor ? { ...io.env, NO_COLOR: '1' } : io.env;
  return {
    io,
    options,
    redactor,
    out: redactedWriter(io.stdout, redactor),
    err: redactedWriter(io.stderr, redactor),
    color: shouldColor(io.stdout, env),
    colorErr: shouldColor(io.stderr, env),
  };
}

export function manifestPath(ctx: Context): string | undefined {
  return ctx.options.manifest ? resolve(ctx.io.cwd, ctx.options.manifest) : undefined;
}

export function statePath(ctx: Context): string {
  if (ctx.options.state) return resolve(ctx.io.cwd, ctx.options.state);
  const m = manifestPath(ctx);
  if (!m) throw new Error('statePath needs a manifest or --state');
  return defaultStatePath(m);
}

export function reportDir(ctx: Context, manifest: string): string {
  return ctx.options.reportDir ? resolve(ctx.io.cwd, ctx.options.reportDir) : join(dirname(manifest), `${manifest.split('/').pop()}.results`);
}

export interface Session {
  conn: Connection;
  sandbox?: Emulator;
  close(): Promise<void>;
}

/**
 * Opens the connection. `--sandbox` starts the embedded emulator in this process with a persistent data file.
 * Returns undefined when no credentials are configured and `required` is false (plan then runs offline).
 */
export async function openSession(ctx: Context, required: boolean): Promise<Session | undefined> {
  const o = ctx.options;
  if (o.sandbox) {
    const home = ctx.io.env.HOME ?? ctx.io.cwd;
    const dataFile = o.sandboxData ? resolve(ctx.io.cwd, o.sandboxData) : join(home, '.cgw-batch', 'sandbox.json');
    mkdirSync(dirname(dataFile), { recursive: true, mode: 0o700 });
    const emu = await startEmulator({ dataFile, port: 0 });
    ctx.err.write(
      `SANDBOX: talking to the embedded emulator at ${emu.url} (data: ${dataFile}); nothing is created in Alibaba Cloud\n`,
    );
    const conn = connect({
      credentials: { accessKeyId: DEFAULT_ACCOUNT.accessKeyId, accessKeySecret: DEFAULT_ACCOUNT.accessKeySecret },
      endpoint: emu.url,
      timeoutMs: o.timeoutMs,
      // The port changes on every start; the journal must see the same sandbox as the same endpoint.
      label: `sandbox:${dataFile}`,
    });
    ctx.redactor.add(DEFAULT_ACCOUNT.accessKeySecret);
    return { conn, sandbox: emu, close: () => emu.close() };
  }
  let credentials;
  try {
    credentials = await resolveCredentials({ env: ctx.io.env, profile: o.profile });
  } catch (e) {
    if (!required && e instanceof AuthError && !o.profile) return undefined;
    throw e;
  }
  ctx.redactor.add(credentials.accessKeySecret);
  ctx.redactor.add(credentials.securityToken);
  const conn = connect({ credentials, endpoint: o.endpoint, timeoutMs: o.timeoutMs });
  return { conn, close: async () => {} };
}

export interface Planned {
  manifest: Manifest;
  plan: Plan;
  prior: Map<string, PriorRow>;
  statePath: string;
  fingerprintKey?: string;
  inventory?: Map<string, CustomerGateway[]>;
}

/** load -> (inventory, regions, prior journal) -> pure plan. The same code for `plan` and `apply`. */
export async function loadAndPlan(ctx: Context, session: Session | undefined): Promise<Planned> {
  const path = manifestPath(ctx)!;
  const manifest = await loadManifest(path, { env: ctx.io.env, redactor: ctx.redactor });
  const sp = statePath(ctx);
  const journal = existsSync(sp) ? await readJournal(sp) : undefined;
  for (const w of journal?.warnings ?? []) ctx.err.write(`warning: ${w}\n`);
  if (journal && session) checkAccount(sp, journal.header, session.conn.endpoint, session.conn.accessKeyId);
  const prior = journal ? toPriorRows(journal.rows) : new Map<string, PriorRow>();
  const fpKey = journal?.header.fingerprintKey;

  const online = session !== undefined && !ctx.options.offline;
  let inventory: Map<string, CustomerGateway[]> | undefined;
  let regions: Set<string> | undefined;
  if (online) {
    const wanted = [...new Set(manifest.rows.map((r) => (r.fields.region ?? '').trim()).filter(Boolean))];
    const first = wanted[0] ?? 'cn-hangzhou';
    regions = new Set((await fetchRegions(session.conn.clientFor(first))).map((r) => r.regionId));
    const known = wanted.filter((r) => regions!.has(r));
    inventory = await fetchInventory(known, (r) => session.conn.clientFor(r));
  }
  const plan = planManifest(manifest, {
    online,
    inventory,
    regions,
    quota: ctx.options.quota,
    prior,
    fingerprint: fpKey ? (k: string) => fingerprint(fpKey, k) : undefined,
  });
  return { manifest, plan, prior, statePath: sp, fingerprintKey: fpKey, inventory };
}
