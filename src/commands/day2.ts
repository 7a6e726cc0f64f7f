// Day-2 commands: `refresh` (drift between journal and cloud), `import` (adopt by region + IP), `destroy` (delete what the journal owns).
import { existsSync } from 'node:fs';
import { fetchInventory } from '../cloud/inventory.js';
import type { CustomerGateway } from '../cloud/types.js';
import { EXIT, StateError, UsageError } from '../errors.js';
import type { ExecRow } from '../execute/execute.js';
import { identityDiff } from '../execute/match.js';
import { currentOf, describeChanges, driftOf } from '../plan/drift.js';
import { planToJson, renderPlanText } from '../report/plan-output.js';
import { fingerprint } from '../secrets.js';
import { checkAccount, Journal, readJournal, toPriorRows, type JournalRow } from '../state/journal.js';
import { OWNED, type FieldChange, type PlannedRow, type RowResult } from '../types.js';
import { confirm } from '../ui/prompt.js';
import { resultFor, selected } from './apply.js';
import { loadAndPlan, manifestPath, openSession, reportDir, statePath, type Context, type Session } from './context.js';
import { finishRun, runExecutor } from './run.js';


export async function runDay2(ctx: Context): Promise<number> {
  switch (ctx.options.command) {
    case 'refresh':
      return runRefresh(ctx);
    case 'import':
      return runImport(ctx);
    case 'destroy':
      return runDestroy(ctx);
    default:
      throw new UsageError(`unknown command ${ctx.options.command}`);
  }
}

async function requireJournal(ctx: Context) {
  const sp = statePath(ctx);
  const j = existsSync(sp) ? await readJournal(sp) : undefined;
  if (!j) throw new StateError(`no journal at ${sp}: nothing has been applied with this manifest yet (or pass --state FILE)`);
  for (const w of j.warnings) ctx.err.write(`warning: ${w}\n`);
  return { sp, j };
}

async function requireSession(ctx: Context): Promise<Session> {
  const session = await openSession(ctx, true);
  if (!session) throw new UsageError(`${ctx.options.command} needs credentials or --sandbox`);
  return session;
}

/** Every gateway of the given regions, keyed by id. */
async function inventoryById(session: Session, regions: Iterable<string>): Promise<Map<string, CustomerGateway>> {
  const inv = await fetchInventory([...new Set(regions)], (r) => session.conn.clientFor(r));
  const out = new Map<string, CustomerGateway>();
  for (const list of inv.values()) for (const g of list) out.set(g.id, g);
  return out;
}

function pickRows(ctx: Context, rows: Iterable<JournalRow>): JournalRow[] {
  const only = ctx.options.only;
  return [...rows].filter((r) => !only || only.lines.has(r.line) || only.keys.has(r.key)).sort((a, b) => a.line - b.line || (a.key < b.key ? -1 : 1));
}

// ---------------------------------------------------------------------------------------------------------------
// refresh

export interface DriftRow {
  key: string;
  line: number;
  gatewayId: string;
  drift: 'none' | 'deleted' | 'changed';
  changes: FieldChange[];
}

async function runRefresh(ctx: Context): Promise<number> {
  const { sp, j } = await requireJournal(ctx);
  const session = await requireSession(ctx);
  try {
    checkAccount(sp, j.header, session.conn.endpoint, session.conn.accessKeyId);
    const fp = (k: string) => fingerprint(j.header.fingerprintKey, k);
    const owned = pickRows(ctx, j.rows.values()).filter((r) => OWNED.has(r.status) && r.gatewayId);
    const cloud = await inventoryById(session, owned.map((r) => r.region));
    const prior = toPriorRows(j.rows);
    const drift: DriftRow[] = owned.map((r) => {
      const gw = cloud.get(r.gatewayId!);
      if (!gw) return { key: r.key, line: r.line, gatewayId: r.gatewayId!, drift: 'deleted', changes: [] };
      const changes = driftOf(prior.get(r.key)!, gw, fp);
      return { key: r.key, line: r.line, gatewayId: r.gatewayId!, drift: changes.length ? 'changed' : 'none', changes };
    });
    const found = drift.filter((d) => d.drift !== 'none');

    if (ctx.options.write && found.length > 0) {
      const journal = await Journal.open(sp, {
        manifest: { path: manifestPath(ctx)!, hash: j.header.manifest.hash },
        endpoint: session.conn.endpoint,
        accessKeyId: session.conn.accessKeyId,
        forceUnlock: ctx.options.forceUnlock,
        onWarning: (m) => ctx.err.write(`warning: ${m}\n`),
      });
      try {
        for (const d of found) {
          const gw = cloud.get(d.gatewayId);
          if (!gw) {
            await journal.record(d.key, { status: 'deleted', errorCode: 'Cgw.Drift', errorMessage: 'deleted outside cgw-batch (found by refresh)', finishedAt: new Date().toISOString() });
            continue;
          }
          // Record the cloud's values for what the journal tracks; tags someone else added stay out of the journal.
          const cur = currentOf(prior.get(d.key)!, gw, [], fp);
          await journal.record(d.key, {
            name: cur.name,
            description: cur.description,
            asn: cur.asn,
            tags: cur.tags,
            authKeyFingerprint: cur.authKeyFingerprint,
            specHash: undefined,
          });
        }
      } finally {
        await journal.close();
      }
    }

    if (ctx.options.format === 'json') {
      ctx.out.write(
        JSON.stringify({
          type: 'refresh',
          state: sp,
          written: ctx.options.write && found.length > 0,
          summary: { checked: drift.length, deleted: found.filter((d) => d.drift === 'deleted').length, changed: found.filter((d) => d.drift === 'changed').length },
          rows: drift,
        }) + '\n',
      );
    } else {
      for (const d of found) {
        const what = d.drift === 'deleted' ? 'deleted outside cgw-batch' : `changed outside cgw-batch: ${describeChanges(d.changes)}`;
        ctx.out.write(`line ${d.line}  ${d.key}  ${d.gatewayId}  ${what}\n`);
      }
      ctx.out.write(
        `refresh: ${drift.length} gateway(s) checked, ${found.filter((d) => d.drift === 'deleted').length} deleted outside the tool, ` +
          `${found.filter((d) => d.drift === 'changed').length} changed` +
          (found.length === 0 ? ' — no drift\n' : ctx.options.write ? '; the journal now records what the cloud has\n' : '; run with --write to record it in the journal, or apply to converge\n'),
      );
    }
    return found.length > 0 ? EXIT.rowsFailed : EXIT.ok;
  } finally {
    await session.close();
  }
}

// ---------------------------------------------------------------------------------------------------------------
// import

async function runImport(ctx: Context): Promise<number> {
  const session = await requireSession(ctx);
  try {
    if (ctx.options.offline) throw new UsageError('import compares the manifest with the cloud; it cannot run with --offline');
    const { plan, manifest, statePath: sp } = await loadAndPlan(ctx, session);
    const rows = plan.rows.filter((r) => r.action !== 'orphan' && selected(ctx, r));
    if (ctx.options.format === 'json') ctx.out.write(JSON.stringify({ type: 'plan', ...planToJson(plan) }) + '\n');
    else ctx.out.write(renderPlanText(plan, { color: ctx.color }));

    // Rows that were not adopted get a result that says why; nothing is ever created by import.
    const notAdopted = (r: PlannedRow): RowResult => {
      if (r.action === 'invalid') {
        const first = r.issues.find((i) => i.severity === 'error');
        return resultFor(r, 'failed', { errorCode: first?.code, errorMessage: `not imported: ${first?.message ?? 'invalid row'}`, errorClass: 'invalid' });
      }
      if (r.action === 'create') {
        return resultFor(r, 'skipped', { errorCode: 'Cgw.NoMatch', errorMessage: `no gateway with IP ${r.ip} in ${r.region}; nothing created (apply creates it)` });
      }
      return resultFor(r, 'skipped', { gatewayId: r.existingId, errorMessage: 'already managed by this journal' });
    };
    const adopt = rows.filter((r) => r.action === 'adopt' && r.row && r.existingId);
    const exec: ExecRow[] = adopt.map((r) => ({
      key: r.key, file: r.file, line: r.line, region: r.region, ip: r.ip, spec: r.row!.spec, echo: r.row!.echo, action: 'adopt', existingId: r.existingId!,
    }));
    if (exec.length === 0) {
      const results = rows.map(notAdopted);
      ctx.err.write(`import: no gateway in the cloud matches a manifest row that this journal does not already manage; nothing recorded\n`);
      for (const r of results.filter((x) => x.status === 'failed')) ctx.err.write(`${r.file}:${r.line}: ${r.errorCode}: ${r.errorMessage}\n`);
      return results.some((r) => r.status === 'failed') ? EXIT.rowsFailed : EXIT.ok;
    }
    const run = await runExecutor(ctx, session, {
      command: 'import',
      statePath: sp,
      manifest: { path: manifest.file, hash: manifest.hash },
      rows: exec,
      assemble: (executed) => {
        const byKey = new Map(executed.map((x) => [x.key, x]));
        return rows.map((r) => byKey.get(r.key) ?? notAdopted(r));
      },
    });
    // No-match rows are information (apply creates them); conflicts and invalid rows fail the import.
    return await finishRun(ctx, run, { command: 'import', reportDir: reportDir(ctx, manifest.file), manifest: manifest.file, columns: manifest.columns, statePath: sp });
  } finally {
    await session.close();
  }
}

// ---------------------------------------------------------------------------------------------------------------
// destroy

interface Target {
  row: JournalRow;
  gatewayId: string;
  /** False when the listing shows it already gone (the delete then just records it). */
  exists: boolean;
}

async function runDestroy(ctx: Context): Promise<number> {
  const o = ctx.options;
  const { sp, j } = await requireJournal(ctx);
  const session = await requireSession(ctx);
  try {
    checkAccount(sp, j.header, session.conn.endpoint, session.conn.accessKeyId);
    const picked = pickRows(ctx, j.rows.values());
    // Creates with an unknown outcome may have made a gateway: look for it by IP (same name and ASN) before deciding.
    const uncertain = picked.filter((r) => r.status === 'in-flight' && !r.gatewayId);
    const owned = picked.filter((r) => OWNED.has(r.status) && r.gatewayId);
    const cloud = await inventoryById(session, [...owned, ...uncertain].map((r) => r.region));
    const targets: Target[] = owned.map((r) => ({ row: r, gatewayId: r.gatewayId!, exists: cloud.has(r.gatewayId!) }));
    for (const r of uncertain) {
      const gw = [...cloud.values()].find((g) => g.regionId === r.region && g.ip === r.ip);
      if (gw && identityDiff({ region: r.region, ip: r.ip, name: r.name, asn: r.asn, tags: [] }, gw).length === 0) {
        targets.push({ row: r, gatewayId: gw.id, exists: true });
      }
    }
    targets.sort((a, b) => a.row.line - b.row.line);

    const list = targets.map((t) => ({
      line: t.row.line,
      key: t.row.key,
      gatewayId: t.gatewayId,
      name: t.row.name,
      state: t.exists ? 'delete' : 'already gone',
    }));
    if (o.format === 'json') ctx.out.write(JSON.stringify({ type: 'destroy-plan', state: sp, dryRun: o.dryRun, rows: list }) + '\n');
    else {
      ctx.out.write(`destroy: ${targets.length} gateway(s) recorded in ${sp}${o.only ? ' (selected with --only)' : ''}\n`);
      for (const x of list) ctx.out.write(`  line ${x.line}  ${x.key}  ${x.gatewayId}${x.name ? `  ${x.name}` : ''}  ${x.state}\n`);
    }
    if (targets.length === 0) {
      if (o.format !== 'json') ctx.out.write('nothing to delete.\n');
      return EXIT.ok;
    }
    if (o.dryRun) {
      if (o.format !== 'json') ctx.out.write('dry run: nothing deleted.\n');
      return EXIT.ok;
    }
    if (!o.yes) {
      if (!ctx.io.stdin.isTTY) throw new UsageError('destroy needs --yes when there is no terminal to confirm on (CI, pipes)');
      const ok = await confirm(`Delete these ${targets.length} customer gateway(s)? This cannot be undone. [y/N] `, {
        input: ctx.io.stdin,
        output: ctx.io.stderr,
      });
      if (!ok) {
        ctx.err.write('nothing deleted.\n');
        return EXIT.ok;
      }
    }
    const file = j.header.manifest.path;
    const rows: ExecRow[] = targets.map((t) => ({
      key: t.row.key,
      file,
      line: t.row.line,
      region: t.row.region,
      ip: t.row.ip,
      spec: { region: t.row.region, ip: t.row.ip, tags: [] },
      echo: t.row.echo ?? {},
      action: 'delete',
      existingId: t.gatewayId,
    }));
    const manifest = manifestPath(ctx)!;
    const run = await runExecutor(ctx, session, { command: 'destroy', statePath: sp, manifest: { path: manifest, hash: j.header.manifest.hash }, rows });
    const columns: string[] = [];
    for (const r of run.results) for (const c of Object.keys(r.echo)) if (!columns.includes(c)) columns.push(c);
    return await finishRun(ctx, run, { command: 'destroy', reportDir: reportDir(ctx, manifest), manifest, columns, statePath: sp });
  } finally {
    await session.close();
  }
}
