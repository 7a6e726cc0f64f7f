// The destroy plan: what the journal owns (or may have created), checked against the listing. Pure.
import type { CustomerGateway } from '../cloud/types.js';
import { splitKey } from '../keys.js';
import { MAYBE_CREATED, OWNED, type Plan, type PlanFlags, type PlannedRow, type PriorRow, type RowRef } from '../types.js';
import { sameIdentity } from './identity.js';
import { destroyConnection, foldSecondGateways, resourceSummary, type VpnInventory } from './site.js';
import { summarize } from './summary.js';

export interface DestroyContext {
  /** The manifest path the journal belongs to (reports and messages name it). */
  file: string;
  manifestHash: string;
  prior: ReadonlyMap<string, PriorRow>;
  /** region -> every existing gateway; regions of the journal's rows. */
  inventory: ReadonlyMap<string, CustomerGateway[]>;
  select?: (ref: RowRef) => boolean;
  flags: PlanFlags;
  target?: Plan['target'];
  /** Site journals: region -> VPN gateways and connections (absent: connections are deleted by id, NotFound = done). */
  vpn?: ReadonlyMap<string, VpnInventory>;
  /** The journal's id (the tool's tag on connections names it). */
  journalId?: string;
}

/**
 * One row per journal row: owned gateways are deleted (also when already gone: NotFound counts as done), creates
 * whose answer was lost are deleted when the listing shows the gateway they made, everything else is skipped.
 * Gateways the journal does not own are never in this plan.
 */
export function planDestroy(ctx: DestroyContext): Plan {
  const select = ctx.select ?? (() => true);
  const rows: PlannedRow[] = [];
  const entries = [...ctx.prior.values()].sort((a, b) => a.line - b.line || (a.key < b.key ? -1 : 1));
  for (const p of entries) {
    const { region, ip } = splitKey(p.key);
    const ref: RowRef = { key: p.key, file: ctx.file, line: p.line, region, ip };
    const r: PlannedRow = { ref, action: 'skip', reason: '', issues: [], inRun: select(ref) };
    const listed = ctx.inventory.get(region);
    const adopted = p.adopted === true || p.status === 'adopted';
    if (OWNED.has(p.status) && p.gatewayId) {
      r.existingId = p.gatewayId;
      r.adopted = adopted;
      r.action = 'delete';
      const gone = listed !== undefined && !listed.some((g) => g.id === p.gatewayId);
      const origin = adopted ? 'adopted (it existed before cgw-batch)' : 'created by cgw-batch';
      r.reason = gone ? `${p.gatewayId} (${origin}) is already gone: recorded as deleted` : `${p.gatewayId}, ${origin}`;
    } else if (MAYBE_CREATED.has(p.status)) {
      const gw = listed?.find((g) => g.ip === ip);
      if (gw && sameIdentity(p, gw)) {
        r.action = 'delete';
        r.existingId = gw.id;
        r.reason = `${gw.id}, made by a create whose answer was lost`;
      } else {
        r.reason = gw ? `an earlier create's outcome was unknown; ${gw.id} at this IP is not the row's (name or ASN differ): left alone` : 'an earlier create whose answer was lost made no gateway (not in the listing)';
      }
    } else {
      r.reason = p.status === 'deleted' ? 'already deleted' : 'no gateway was created for this row';
    }
    // A site's connection goes first (a customer gateway in use cannot be deleted); a second gateway says whose it is.
    destroyConnection(r, p, ctx.vpn, ctx.journalId);
    rows.push(r);
  }
  foldSecondGateways(rows, ctx.prior);
  // A second gateway that stays a row of its own (its site's row is not in the journal) says whose it was.
  for (const r of rows) {
    const siteKey = ctx.prior.get(r.ref.key)?.siteKey;
    if (siteKey) r.reason = `second customer gateway of ${siteKey}: ${r.reason}`;
  }
  const { summary, byRegion } = summarize(rows);
  const resources = resourceSummary(rows);
  return {
    version: 2,
    command: 'destroy',
    manifest: { file: ctx.file, hash: ctx.manifestHash, format: 'journal' },
    ...(ctx.target ? { target: ctx.target } : {}),
    rows,
    issues: [],
    summary,
    byRegion,
    quota: [],
    online: true,
    flags: ctx.flags,
    ...(resources ? { resources } : {}),
  };
}

