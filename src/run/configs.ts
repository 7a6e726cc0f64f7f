// `configs`: each site row's connection (from the journal's connection part) read through the cloud client, the PSK
// from its secret accessor at render time, rendered for the row's device type and written 0600 into 0700 folders.
// Stdout: one relative path per file written; stderr: what could not be written and why. No secret in either.
import { existsSync } from 'node:fs';
import { relative, join } from 'node:path';
import { CloudError } from '../cloud/errors.js';
import type { CallOptions, CustomerGateway, VpcClient, VpnGateway } from '../cloud/types.js';
import { DEVICE_TYPES, isDeviceType, renderSite } from '../device/render.js';
import type { ConfigFile, DeviceIssue, DeviceType } from '../device/types.js';
import { EXIT, UsageError } from '../errors.js';
import type { JournalOptions } from '../options.js';
import { closestName } from '../plan/suggest-name.js';
import type { PlannedRow } from '../types.js';
import type { Context } from './context.js';
import { journalRef, readJournalRun } from './journal-run.js';
import { planOfJournal } from './plan-from.js';
import { requireJournal, selector } from './select.js';
import { openSession } from './session.js';
import { customerGatewayIds, siteInputOf } from './site-input.js';
import { writeConfigFiles } from './write-configs.js';

interface Target {
  row: PlannedRow;
  device: DeviceType;
  connectionId: string;
}

const TYPES = DEVICE_TYPES.map((d) => d.type);

/** How a row is named in messages: file:line (the file relative to the working directory when under it) and key. */
function label(row: PlannedRow): string {
  return `${row.ref.file}:${row.ref.line} (${row.ref.key})`;
}

/** The site's folder under --out: the row key with its `/` (and anything unsafe) made a `_`. */
function siteFolder(key: string): string {
  const name = key.replace(/[^A-Za-z0-9._-]/g, '_').replace(/^[._-]+/, '');
  return name === '' ? 'site' : name.slice(0, 120);
}

const sleep = (ms: number, signal: AbortSignal): Promise<void> =>
  new Promise((resolve) => {
    const t = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => {
      clearTimeout(t);
      resolve();
    }, { once: true });
  });

/** A read, retried while the API says "later" (throttled, busy, transient), with the run's backoff; bounded. */
async function read<T>(ctx: Context<JournalOptions>, signal: AbortSignal, call: (opts: CallOptions) => Promise<T>): Promise<T> {
  const { baseMs, capMs } = ctx.options.retryBackoff;
  for (let attempt = 0; ; attempt++) {
    try {
      return await call({ signal });
    } catch (e) {
      if (!(e instanceof CloudError) || !e.retryable || attempt >= 6 || signal.aborted) throw e;
      await sleep(Math.min(capMs, Math.max(e.retryAfterMs ?? 0, baseMs * 2 ** attempt)), signal);
    }
  }
}

/** Which site rows get a config, and what is said about the others (site rows only; --only applies). */
function targetsOf(ctx: Context<JournalOptions>, rows: PlannedRow[], connections: (key: string) => { id?: string; status?: string } | undefined) {
  const o = ctx.options;
  const select = selector(ctx);
  const targets: Target[] = [];
  const skipped: string[] = [];
  for (const row of rows) {
    if (row.orphan || row.ref.line <= 0 || (select && !select(row.ref))) continue;
    const site = row.row?.site;
    if (!site) continue;
    const type = o.device ?? site.device;
    if (type === undefined) {
      skipped.push(`${label(row)}: no device type: add a device column to the manifest or pass --device TYPE`);
      continue;
    }
    if (!isDeviceType(type)) {
      const guess = closestName(type, TYPES);
      skipped.push(`${label(row)}: device "${type.slice(0, 40)}" is not a device type${guess ? ` (did you mean ${guess}?)` : ''}; types: ${TYPES.join(', ')}`);
      continue;
    }
    const c = connections(row.ref.key);
    if (!c?.id) {
      skipped.push(`${label(row)}: no IPsec connection has been created for this site yet${c?.status ? ` (the journal says ${c.status})` : ''}; run apply first`);
      continue;
    }
    targets.push({ row, device: type, connectionId: c.id });
  }
  return { targets, skipped };
}

function issueLine(row: PlannedRow, device: DeviceType, i: DeviceIssue): string {
  return `${label(row)} [${device}]: ${i.code} ${i.parameter}: ${i.message}`;
}

/**
 * Writes every selected site's config. 0: all written; 1: some site could not be (no connection yet, a parameter the
 * device cannot express, the connection gone), the others still written; Ctrl-C: 130.
 */
export async function writeSiteConfigs(ctx: Context<JournalOptions>): Promise<number> {
  const o = ctx.options;
  if (o.device !== undefined && !isDeviceType(o.device)) {
    const guess = closestName(o.device, TYPES);
    throw new UsageError(`--device ${o.device.slice(0, 40)} is not a device type${guess ? ` (did you mean ${guess}?)` : ''}; types: ${TYPES.join(', ')}`);
  }
  const outDir = o.outDir ?? '';
  if (o.manifest === undefined || !existsSync(o.manifest)) throw new UsageError(`cannot read the manifest ${o.manifest ?? ''}: no such file`);
  const run = await readJournalRun(ctx);
  const journal = requireJournal(ctx, run.read);
  const { plan } = await planOfJournal(ctx, journal);
  const { targets, skipped } = targetsOf(ctx, plan.rows, (key) => {
    const c = journal.rows.get(key)?.connection;
    return c ? { ...(c.connectionId ? { id: c.connectionId } : {}), status: c.status } : undefined;
  });
  for (const s of skipped) ctx.err.write(`configs: ${s}\n`);
  if (targets.length === 0) {
    ctx.err.write(skipped.length > 0 ? 'configs: no site config written\n' : 'configs: no site rows (rows with vpn_gateway_id) selected: nothing to write\n');
    return skipped.length > 0 ? EXIT.rowsFailed : EXIT.ok;
  }
  const abort = new AbortController();
  const off = ctx.io.onSignal(() => abort.abort());
  const session = await openSession(ctx, journalRef(run));
  let written = 0;
  let failed = skipped.length;
  const gateways = new Map<string, Promise<VpnGateway>>();
  try {
    for (const t of targets) {
      if (abort.signal.aborted) break;
      const region = t.row.ref.region;
      const client: VpcClient = session.conn.clientFor(region);
      let files: ConfigFile[];
      try {
        const conn = await read(ctx, abort.signal, (opts) => client.describeVpnConnection(region, t.connectionId, opts));
        // The one way a PSK leaves the client; it joined the redactor there, and goes nowhere but the file.
        const psks = await read(ctx, abort.signal, (opts) => client.readVpnConnectionPsks(region, t.connectionId, opts));
        const gwKey = `${region}/${conn.vpnGatewayId}`;
        if (!gateways.has(gwKey)) gateways.set(gwKey, read(ctx, abort.signal, (opts) => client.describeVpnGateway(region, conn.vpnGatewayId, opts)));
        const gw = await gateways.get(gwKey)!;
        const cgws: CustomerGateway[] = [];
        for (const id of customerGatewayIds(conn)) {
          const g = await read(ctx, abort.signal, (opts) => client.describeCustomerGateway(region, id, opts));
          ctx.redactor.add(g.authKey);
          cgws.push(g);
        }
        const r = renderSite(siteInputOf(t.row.ref.key, conn, gw, cgws, psks), t.device, { redactPsk: o.redactPsk });
        if (!r.ok) {
          for (const i of r.issues) ctx.err.write(`configs: ${issueLine(t.row, t.device, i)}\n`);
          failed++;
          continue;
        }
        for (const w of r.warnings) ctx.err.write(`configs: warning: ${issueLine(t.row, t.device, w)}\n`);
        files = r.files;
      } catch (e) {
        if (abort.signal.aborted) break;
        if (e instanceof CloudError && e.errorClass === 'not-found') {
          ctx.err.write(`configs: ${label(t.row)}: ${e.code}: the connection ${t.connectionId} (or its gateway) no longer exists; run refresh to see what changed\n`);
          failed++;
          continue;
        }
        throw e;
      }
      const dir = join(outDir, siteFolder(t.row.ref.key), t.device);
      const w = writeConfigFiles(dir, files);
      if (!w.ok) {
        ctx.err.write(`configs: ${label(t.row)}: ${relative(ctx.io.cwd, w.path) || w.path} ${w.message}\n`);
        failed++;
        continue;
      }
      for (const p of w.paths) ctx.out.write(`${relative(ctx.io.cwd, p)}\n`);
      written++;
    }
  } finally {
    off();
    await session.close();
  }
  if (abort.signal.aborted) {
    ctx.err.write(`configs: interrupted; ${written} site(s) written\n`);
    return EXIT.interrupted;
  }
  ctx.err.write(`configs: ${written} site(s) written${failed > 0 ? `, ${failed} not` : ''}${o.redactPsk ? ' (keys redacted)' : ''}\n`);
  return failed > 0 ? EXIT.rowsFailed : EXIT.ok;
}
