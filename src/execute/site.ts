// A site row: a delete or replace of its connection first (its gateways stay in use until then), then its customer
// gateway(s) on the region's lane, then its connection on its VPN gateway's serial lane; one result with every part.
import { splitKey } from '../keys.js';
import { EXECUTABLE, MAYBE_CREATED, type PlannedResource, type PlannedRow, type ResourceResult, type RowResult } from '../types.js';
import { result, rowRun, type ExecContext } from './context.js';
import {
  connectionRun,
  createConnection,
  deleteConnection,
  deleteMade,
  notStartedPart,
  partResult,
  readState,
  recordExisting,
  updateConnection,
  type ConnectionJob,
} from './connection.js';
import type { Lane } from './lane.js';
import type { VpnGatewayLane } from './vpn-lane.js';

/** What the executor shares with its site rows: the lanes, and the barrier between connection deletes and gateway deletes. */
export interface SiteRuntime {
  laneFor(region: string): Lane;
  vpnLane(region: string, vpnGatewayId: string): VpnGatewayLane;
  /** Runs a row's customer-gateway action (create, update, delete, ...) as for any row; `skip` reports the journal's state. */
  runGateway(row: PlannedRow, part?: { siteKey?: string; eventRef?: PlannedRow['ref'] }): Promise<RowResult>;
  /** The row's connection delete (if any) is over: the gateway deletes waiting for it may go. */
  connectionDeleted(key: string): void;
}

const CREATES = new Set(['create', 'retry', 'resume', 'adopt', 'update', 'replace']);
const USABLE = new Set(['created', 'adopted', 'updated']);

/** True when the row is a site row (it has a part besides its own customer gateway). */
export function isSite(row: PlannedRow): boolean {
  return row.connection !== undefined || row.gateway2 !== undefined;
}

/** The journal row a row's connection lives in now: its own, or the one its changed IP leaves (replacesKey). */
export function connectionKey(row: PlannedRow): string {
  return row.connection?.replacesKey ?? row.ref.key;
}

/** The VPN gateway a row's connection lives on now (the journal's), and the one the row asks for. */
export function connectionGateways(ctx: ExecContext, row: PlannedRow): { old?: string; wanted?: string } {
  const j = ctx.journal.get(connectionKey(row))?.connection;
  return { old: j?.vpnGatewayId || undefined, wanted: row.row?.site?.vpnGatewayId };
}

/** The VPN gateway lane that counts (and reports) the row's connection: where its write goes; a delete's where it is. */
export function countingGateway(ctx: ExecContext, row: PlannedRow): string | undefined {
  if (!row.connection || !EXECUTABLE.has(row.connection.action)) return undefined;
  const g = connectionGateways(ctx, row);
  return row.connection.action === 'delete' ? (g.old ?? g.wanted) : (g.wanted ?? g.old);
}

/** The second customer gateway as a row of its own (journal key `region/ip_2`), with the site row's attributes. */
export function secondGatewayRow(row: PlannedRow, g2: PlannedResource): PlannedRow {
  const { region, ip } = splitKey(g2.key);
  const ref = { key: g2.key, file: row.ref.file, line: row.ref.line, region, ip };
  return {
    ref,
    action: g2.action,
    reason: g2.reason,
    issues: [],
    inRun: row.inRun,
    ...(row.row ? { row: { ref, spec: { ...row.row.spec, ip }, echo: row.row.echo } } : {}),
    ...(g2.existingId !== undefined ? { existingId: g2.existingId } : {}),
    ...(g2.changes ? { changes: g2.changes } : {}),
    ...(g2.generation !== undefined ? { generation: g2.generation } : {}),
    ...(g2.needs ? { needs: g2.needs } : {}),
    ...(g2.adopted !== undefined ? { adopted: g2.adopted } : {}),
    // ip_2 changed: the old gateway is deleted under the journal row it lives in, not the new IP's.
    ...(g2.replacesKey !== undefined ? { replacesKey: g2.replacesKey } : {}),
  };
}

/** A customer gateway's result as a part of the row. */
function asPart(r: RowResult): ResourceResult {
  return {
    status: r.status,
    action: r.action,
    ...(r.gatewayId !== undefined ? { id: r.gatewayId } : {}),
    ...(r.errorCode !== undefined ? { errorCode: r.errorCode } : {}),
    ...(r.errorMessage !== undefined ? { errorMessage: r.errorMessage } : {}),
    ...(r.errorClass !== undefined ? { errorClass: r.errorClass } : {}),
    ...(r.note !== undefined ? { note: r.note } : {}),
  };
}

/** A gateway part the connection can be built on: it exists, and its part of this run did not fail. */
function usable(r: RowResult): boolean {
  return r.gatewayId !== undefined && USABLE.has(r.status) && (r.errorCode === undefined || r.errorCode === 'Interrupted');
}

/** The connection's part as the journal has it (skip, blocked, invalid: nothing is sent). */
function journalPart(ctx: ExecContext, key: string, part: PlannedResource): ResourceResult {
  const j = ctx.journal.get(key)?.connection;
  return {
    status: j?.status ?? 'pending',
    action: part.action,
    ...((j?.connectionId ?? part.existingId) !== undefined ? { id: j?.connectionId ?? part.existingId } : {}),
    ...(j?.state !== undefined ? { state: j.state } : {}),
    ...(j?.negotiation !== undefined ? { negotiation: j.negotiation } : {}),
    note: part.reason,
  };
}

function job(ctx: ExecContext, rt: SiteRuntime, row: PlannedRow, part: PlannedResource, vpnGatewayId: string, key = row.ref.key): ConnectionJob {
  const lane = rt.vpnLane(row.ref.region, vpnGatewayId);
  return { row, part, key, region: row.ref.region, lane, rr: connectionRun(ctx, row, part, rt.laneFor(row.ref.region), lane, key) };
}

export async function runSiteRow(ctx: ExecContext, rt: SiteRuntime, row: PlannedRow): Promise<RowResult> {
  const key = row.ref.key;
  const conn = row.connection;
  const site = row.row?.site;
  const gws = connectionGateways(ctx, row);
  const counting = countingGateway(ctx, row);
  let connection: ResourceResult | undefined;
  let deleted: ResourceResult | undefined;
  let ran: ConnectionJob | undefined;

  // 1. The connection goes first when it is deleted (destroy, prune) or replaced: it holds its customer gateways.
  try {
    if (conn && (conn.action === 'delete' || conn.action === 'replace')) {
      const from = connectionKey(row);
      const pc = ctx.journal.get(from)?.connection;
      const id = conn.existingId ?? (pc && !MAYBE_CREATED.has(pc.status) ? pc.connectionId : undefined);
      const on = gws.old ?? gws.wanted;
      if (on !== undefined && (id !== undefined || (pc && MAYBE_CREATED.has(pc.status)))) {
        const j = job(ctx, rt, row, conn, on, from);
        ran = j;
        // Without an id: an earlier create's outcome is unknown; the listing says whether it made one.
        const cgw = pc?.customerGatewayIds?.[0] ?? row.existingId ?? ctx.journal.get(from)?.gatewayId;
        deleted = (await j.lane.exclusive(() => (id !== undefined ? deleteConnection(ctx, j, id) : deleteMade(ctx, j, cgw)))) ?? notStartedPart(ctx, from, conn, 'the run stopped');
      } else {
        deleted = partResult({ part: conn }, 'deleted', { note: 'no connection to delete' });
      }
      if (conn.action === 'delete') connection = deleted;
    }
  } finally {
    rt.connectionDeleted(key);
  }

  // 2. The customer gateway(s), side by side on the region's lane. A gateway whose connection could not be deleted
  // is not deleted either (the API would refuse it: DependencyViolation.VpnConnection).
  const held = deleted !== undefined && deleted.status !== 'deleted';
  const gatewayPart = (prow: PlannedRow, siteKey?: string): Promise<RowResult> => {
    if (held && (prow.action === 'delete' || prow.action === 'replace')) {
      const message = `not started: its IPsec connection could not be deleted first (${deleted?.errorCode ?? 'not deleted'})`;
      const rr = rowRun(ctx, prow, rt.laneFor(prow.ref.region));
      const j = ctx.journal.get(prow.ref.key);
      return Promise.resolve(result(ctx, rr, j?.status ?? 'created', { ...(j?.gatewayId ? { gatewayId: j.gatewayId } : {}), errorCode: 'NotStarted', errorMessage: message, note: message }));
    }
    return rt.runGateway(prow, { ...(siteKey !== undefined ? { siteKey } : {}), eventRef: row.ref });
  };
  const [gw, gw2] = await Promise.all([gatewayPart(row), row.gateway2 ? gatewayPart(secondGatewayRow(row, row.gateway2), key) : Promise.resolve(undefined)]);

  // 3. The connection the row asks for, once its customer gateway(s) exist.
  if (conn && !connection) {
    if (!CREATES.has(conn.action)) {
      connection = journalPart(ctx, key, conn);
    } else if (conn.action === 'replace' && deleted?.status !== 'deleted') {
      connection = { ...(deleted ?? partResult({ part: conn }, 'failed')), action: 'replace' };
    } else if (!site) {
      connection = partResult({ part: conn }, 'pending', { errorCode: 'NotExecutable', errorMessage: `action ${conn.action} of a connection needs the row's site columns` });
    } else if (!usable(gw) || (gw2 !== undefined && !usable(gw2))) {
      const bad = !usable(gw) ? gw : gw2!;
      connection = notStartedPart(ctx, key, conn, `its customer gateway ${bad.ref.ip} is not there (${bad.errorCode ?? bad.status})`);
    } else {
      const cgwIds = [gw.gatewayId!, ...(gw2 ? [gw2.gatewayId!] : [])];
      const j = job(ctx, rt, row, conn, site.vpnGatewayId);
      ran = j;
      connection =
        (await j.lane.exclusive(async () => {
          switch (conn.action) {
            case 'resume':
              return conn.existingId !== undefined ? recordExisting(ctx, j, site, cgwIds) : createConnection(ctx, j, site, cgwIds, conn.generation ?? ctx.journal.get(key)?.connection?.generation ?? 1, true);
            case 'adopt': {
              const r = await recordExisting(ctx, j, site, cgwIds);
              return (conn.changes ?? []).length > 0 ? updateConnection(ctx, j, site, cgwIds) : r;
            }
            case 'update':
              return updateConnection(ctx, j, site, cgwIds);
            default:
              // create, retry, and the create half of a replace: the plan's generation.
              return createConnection(ctx, j, site, cgwIds, conn.generation ?? 1, false);
          }
        })) ?? notStartedPart(ctx, key, conn, 'the run stopped');
      // State and negotiation status, read after the lane is free: never holding up the next site's write.
      if (connection.id !== undefined && connection.errorCode === undefined && USABLE.has(connection.status) && !ctx.run.stopped) {
        const s = await readState(ctx, j, connection.id);
        connection = { ...connection, ...s };
      }
    }
  }
  // Every connection its lane counted reports there, also one that never got to its lane (its gateway failed).
  const lane = counting !== undefined ? rt.vpnLane(row.ref.region, counting) : ran?.lane;
  if (lane && connection) ctx.emit({ type: 'part:done', lane: lane.name, ref: row.ref, part: 'connection', result: connection });
  return { ...gw, ...(gw2 ? { gateway2: asPart(gw2) } : {}), ...(connection ? { connection } : {}) };
}

/** Whether the executor has anything to do for the row: its gateway's action, or one of its parts'. */
export function hasWork(row: PlannedRow): boolean {
  return EXECUTABLE.has(row.action) || (row.gateway2 !== undefined && EXECUTABLE.has(row.gateway2.action)) || (row.connection !== undefined && EXECUTABLE.has(row.connection.action));
}
