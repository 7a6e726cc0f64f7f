// A site row's IPsec connection: create (exactly once, through the journaled ClientToken of its generation and the
// tool's tag), resume, adopt, update, replace and delete, each write on its VPN gateway's lane and followed by the wait.
import type { CloudError } from '../cloud/errors.js';
import type { CreateVpnConnectionInput, ModifyVpnConnectionInput, VpnConnection } from '../cloud/types.js';
import { connectionSpecHash, pskMark, SITE_TAG_KEY, siteTagValue } from '../plan/site-identity.js';
import type { ConnectionFields, ConnectionPatch, IkeParams, IpsecParams, PlannedResource, PlannedRow, ResourceResult, ResultStatus, SiteSpec, Tag } from '../types.js';
import { allRequestIds, rowRun, type ExecContext, type RowRun } from './context.js';
import type { Lane } from './lane.js';
import { send, type Sent, type Verdict } from './send.js';
import { waitActive, type VpnGatewayLane, type WaitResult } from './vpn-lane.js';


/** Answers that mean "the gateway is busy with a task": wait for it, then send the same request again. */
const BUSY = new Set(['VpnGateway.Configuring', 'VpnTask.CONFLICT', 'VpnConnection.Configuring', 'VpnGateway.task.conflict']);
/** Busy answers one write may meet before its part fails (each is followed by a bounded wait). */
const MAX_BUSY_WAITS = 30;

/** What a connection operation works with: the row, its connection's plan, the lane, and its own run of requests. */
export interface ConnectionJob {
  row: PlannedRow;
  part: PlannedResource;
  /** The row's journal key: the connection lives in its `connection` part. */
  key: string;
  region: string;
  rr: RowRun;
  lane: VpnGatewayLane;
}

/**
 * The connection's own run of requests: its attempts and request ids apart from the gateway's, its events on its lane.
 * `key`: the journal row its part lives in (the row's own, or the one a changed IP leaves).
 */
export function connectionRun(ctx: ExecContext, row: PlannedRow, part: PlannedResource, regionLane: Lane, lane: VpnGatewayLane, key = row.ref.key): RowRun {
  const view: PlannedRow = { ...row, action: part.action, reason: part.reason, existingId: part.existingId, changes: part.changes, generation: part.generation };
  const prior = ctx.journal.get(key)?.connection;
  return { ...rowRun(ctx, view, regionLane, { eventLane: lane.name, eventRef: row.ref }), priorAttempts: prior?.attempts ?? 0, priorRequestIds: [...(prior?.requestIds ?? [])] };
}

/** The tool's tag on every connection it creates: `cgw-batch:site` = `<journal id>:<row key>`. It settles an unknown outcome. */
export function siteTag(ctx: ExecContext, key: string): Tag {
  return { key: SITE_TAG_KEY, value: siteTagValue(ctx.journalId, key) };
}

const record = (ctx: ExecContext, key: string, patch: ConnectionPatch): Promise<unknown> => ctx.journal.record(key, { connection: patch });
const prior = (ctx: ExecContext, key: string): ConnectionFields | undefined => ctx.journal.get(key)?.connection;

function counts(ctx: ExecContext, job: ConnectionJob): ConnectionPatch {
  return {
    attempts: job.rr.priorAttempts + job.rr.attempts,
    requestIds: allRequestIds(job.rr),
    finishedAt: new Date(ctx.clock.now()).toISOString(),
    durationMs: ctx.clock.now() - job.rr.started,
  };
}

function finished(ctx: ExecContext, job: ConnectionJob, status: ConnectionFields['status']): ConnectionPatch {
  return { status, errorCode: undefined, errorMessage: undefined, errorClass: undefined, ...counts(ctx, job) };
}

function failure(ctx: ExecContext, job: ConnectionJob, err: { code: string; message: string; errorClass?: string }): ConnectionPatch {
  return { errorCode: err.code, errorMessage: err.message, errorClass: err.errorClass, ...counts(ctx, job) };
}

/** The part's result value for this run. */
export function partResult(job: { part: PlannedResource }, status: ResultStatus, extra: Partial<ResourceResult> = {}): ResourceResult {
  return { status, action: job.part.action, ...extra };
}

/** The part never got to send (its customer gateway failed, or the run stopped first): the journal stays as it was. */
export function notStartedPart(ctx: ExecContext, key: string, part: PlannedResource, reason: string): ResourceResult {
  const p = prior(ctx, key);
  return {
    status: p?.status ?? 'pending',
    action: part.action,
    ...(p?.connectionId !== undefined ? { id: p.connectionId } : {}),
    errorCode: 'NotStarted',
    errorMessage: `not started: ${reason}`,
  };
}

/** The stop words send() reports: a stop after a request went out leaves the part in the journal as the outcome says. */
async function stoppedPart(ctx: ExecContext, job: ConnectionJob, s: Extract<Sent<unknown>, { kind: 'stopped' }>, create: boolean): Promise<ResourceResult> {
  if (!s.sent) return notStartedPart(ctx, job.key, job.part, s.reason);
  const unknown = create && job.rr.maybeCreated;
  const p = prior(ctx, job.key);
  const status: ConnectionFields['status'] = create ? (unknown ? 'unknown' : 'pending') : (p?.status ?? 'created');
  const message = unknown
    ? `stopped before the outcome was known (${s.reason}); the next run lists the VPN gateway's connections first`
    : create
      ? `stopped before a retry (${s.reason}); no connection was created`
      : `stopped before the change was confirmed (${s.reason}); the next run finishes it`;
  await record(ctx, job.key, { status, ...failure(ctx, job, { code: 'Interrupted', message, errorClass: 'interrupted' }) });
  return partResult(job, status, { ...(p?.connectionId !== undefined ? { id: p.connectionId } : {}), errorCode: 'Interrupted', errorMessage: message, errorClass: 'interrupted' });
}

/**
 * The handler every connection write shares for "the gateway is busy": wait until it is active (bounded), then the
 * same request goes again (same ClientToken). Too many, or a wait that fails, fails the write.
 */
function busyHandler(ctx: ExecContext, job: ConnectionJob): (err: CloudError) => Promise<Verdict<never> | 'not-busy'> {
  let waits = 0;
  return async (err) => {
    if (!BUSY.has(err.code)) return 'not-busy';
    job.lane.knownActive = false;
    if (++waits > MAX_BUSY_WAITS) return { kind: 'fail', message: `the VPN gateway ${job.lane.vpnGatewayId} stayed busy through ${MAX_BUSY_WAITS} waits (${err.code})` };
    const w = await waitActive(ctx, job.rr, job.lane, { since: ctx.clock.now(), afterWrite: false });
    if (w.kind === 'failed') return { kind: 'fail', message: w.message, errorClass: w.errorClass };
    // Stopped: the send loop sees the stop before sending again.
    return { kind: 'again' };
  };
}

/**
 * The customer gateway of each tunnel: a dual-tunnel gateway without `ip_2` has both tunnels on the one gateway. The
 * journal records them so (the planner compares them, and the connection's hash includes them).
 */
function perTunnel(lane: VpnGatewayLane, cgwIds: string[]): string[] {
  return lane.dualTunnel && cgwIds.length === 1 ? [cgwIds[0]!, cgwIds[0]!] : cgwIds;
}

/** Before the lane's first write (or after someone else's task): wait until the gateway is active. */
async function ready(ctx: ExecContext, job: ConnectionJob): Promise<WaitResult | undefined> {
  if (job.lane.knownActive && job.lane.gateway) return undefined;
  return waitActive(ctx, job.rr, job.lane, { since: ctx.clock.now(), afterWrite: false });
}

/** The lane's gateway could not be waited for before a write: the part fails (or stops) without a request. */
async function notReady(ctx: ExecContext, job: ConnectionJob, w: Exclude<WaitResult, { kind: 'active' }>, id?: string): Promise<ResourceResult> {
  if (w.kind === 'stopped') return notStartedPart(ctx, job.key, job.part, w.reason);
  const p = prior(ctx, job.key);
  await record(ctx, job.key, failure(ctx, job, { code: w.code, message: w.message, errorClass: w.errorClass }));
  return partResult(job, 'failed', { ...((id ?? p?.connectionId) !== undefined ? { id: id ?? p?.connectionId } : {}), errorCode: w.code, errorMessage: w.message, errorClass: w.errorClass });
}

/** After a write: the wait that frees the lane for the next. A failed wait is the part's error; a stop is not. */
async function settleTask(ctx: ExecContext, job: ConnectionJob, since: number): Promise<{ code: string; message: string; errorClass: string } | undefined> {
  job.lane.knownActive = false;
  const w = await waitActive(ctx, job.rr, job.lane, { since, afterWrite: true });
  return w.kind === 'failed' ? { code: w.code, message: w.message, errorClass: w.errorClass } : undefined;
}

// ---- the connection the row asks for ---------------------------------------------------------------------------

/** The PSK each tunnel is sent with: a reference's value, fresh keys for `generate` (made once per create), or none. */
function psksFor(ctx: ExecContext, site: SiteSpec, tunnels: number): string[] | undefined {
  if (!site.psk) return undefined;
  if (site.psk.kind === 'ref') return Array.from({ length: tunnels }, () => (site.psk as { value: string }).value);
  return Array.from({ length: tunnels }, () => ctx.newPsk());
}

/** CreateVpnConnection's input for the row: one tunnel, or master (ip) and slave (ip_2, else the same gateway). */
export function createInput(site: SiteSpec, region: string, cgwIds: string[], dual: boolean, psks: string[] | undefined, tags: Tag[], clientToken: string): CreateVpnConnectionInput {
  const p = site.profile;
  const tunnel = (i: number) => ({
    customerGatewayId: cgwIds[i] ?? cgwIds[0]!,
    ike: p.ike,
    ipsec: p.ipsec,
    enableDpd: p.enableDpd,
    enableNatTraversal: p.enableNatTraversal,
    ...((i === 0 ? site.bgp : site.bgp2) ? { bgp: (i === 0 ? site.bgp : site.bgp2)! } : {}),
    ...(psks?.[i] !== undefined ? { psk: psks[i] } : {}),
  });
  return {
    regionId: region,
    vpnGatewayId: site.vpnGatewayId,
    localSubnet: site.localSubnet,
    remoteSubnet: site.remoteSubnet,
    ...(site.name !== undefined ? { name: site.name } : {}),
    ...(site.effectImmediately !== undefined ? { effectImmediately: site.effectImmediately } : {}),
    tunnels: dual ? [{ ...tunnel(0), role: 'master' as const }, { ...tunnel(1), role: 'slave' as const }] : [tunnel(0)],
    tags,
    clientToken,
  };
}

/** The connections of the row's (gateway, customer gateway) that carry the tool's tag for this row. */
async function listMine(ctx: ExecContext, job: ConnectionJob, cgwId: string): Promise<{ kind: 'ok'; mine: VpnConnection[] } | { kind: 'failed'; message: string } | { kind: 'stopped'; reason: string }> {
  const tag = siteTag(ctx, job.key);
  const s = await send<{ list: VpnConnection[]; requestId?: string }>(ctx, job.rr, {
    api: 'DescribeVpnConnections',
    read: true,
    call: async () => ({ list: await job.rr.client.listVpnConnections(job.region, { vpnGatewayId: job.lane.vpnGatewayId, customerGatewayId: cgwId }, { signal: ctx.run.signal, clock: ctx.clock }) }),
  });
  if (s.kind === 'stopped') return s;
  if (s.kind === 'failed') return { kind: 'failed', message: s.message ?? s.err.message };
  return { kind: 'ok', mine: s.value.list.filter((c) => c.tags.some((t) => t.key === tag.key && t.value === tag.value)) };
}

function twoFound(job: ConnectionJob, mine: VpnConnection[]): { code: string; message: string; errorClass: string } {
  return {
    code: 'Cgw.DuplicateConnection',
    message: `two connections carry this row's tag on ${job.lane.vpnGatewayId}: ${mine.map((c) => c.id).join(' and ')}; delete the one you do not want (cgw-batch will not guess), then run again`,
    errorClass: 'conflict',
  };
}

/** A connection found by the listing (an earlier attempt's): recorded as created, then the gateway waited for. */
async function recordFound(ctx: ExecContext, job: ConnectionJob, c: VpnConnection): Promise<ResourceResult> {
  await record(ctx, job.key, { connectionId: c.id, state: c.state, ...finished(ctx, job, 'created') });
  const err = c.state === 'active' && job.lane.knownActive ? undefined : await settleTask(ctx, job, ctx.clock.now());
  if (err) {
    await record(ctx, job.key, failure(ctx, job, err));
    return partResult(job, 'created', { id: c.id, errorCode: err.code, errorMessage: err.message, errorClass: err.errorClass });
  }
  return partResult(job, 'created', { id: c.id, state: c.state });
}

/**
 * Creates the row's connection with the ClientToken of `generation`, the intent journaled before the first send and
 * the tool's tag on it. An answer that leaves the outcome open (timeout, reset, 5xx, a 200 without an id) is settled
 * by listing the gateway's connections on the customer gateway: this row's one is recorded, none means the same
 * token goes again, two stop the row. `resume` lists first, so a key made by `generate` is only ever sent when no
 * connection exists.
 */
export async function createConnection(ctx: ExecContext, job: ConnectionJob, site: SiteSpec, cgwIds: string[], generation: number, resume: boolean): Promise<ResourceResult> {
  const row = job.row;
  const token = ctx.makeToken(ctx.journalId, row.ref.region, row.ref.ip, generation, 'vco');
  if (resume) {
    const found = await listMine(ctx, job, cgwIds[0]!);
    if (found.kind === 'stopped') return notStartedPart(ctx, job.key, job.part, found.reason);
    if (found.kind === 'failed') {
      const err = { code: 'Cgw.ListFailed', message: `could not list the connections of ${job.lane.vpnGatewayId} to settle an earlier create: ${found.message}`, errorClass: 'transient' };
      await record(ctx, job.key, failure(ctx, job, err));
      return partResult(job, prior(ctx, job.key)?.status ?? 'unknown', { errorCode: err.code, errorMessage: err.message, errorClass: err.errorClass });
    }
    if (found.mine.length > 1) {
      const err = twoFound(job, found.mine);
      await record(ctx, job.key, { status: 'unknown', ...failure(ctx, job, err) });
      return partResult(job, 'unknown', { errorCode: err.code, errorMessage: err.message, errorClass: err.errorClass });
    }
    if (found.mine.length === 1) return recordFound(ctx, job, found.mine[0]!);
  }
  const w = await ready(ctx, job);
  if (w && w.kind !== 'active') return notReady(ctx, job, w);
  const dual = job.lane.dualTunnel;
  cgwIds = perTunnel(job.lane, cgwIds);
  const psks = psksFor(ctx, site, dual ? 2 : 1);
  const input = createInput(site, row.ref.region, cgwIds, dual, psks, [siteTag(ctx, job.key)], token);
  const before = prior(ctx, job.key);
  const startedAt = new Date(ctx.clock.now()).toISOString();
  const busy = busyHandler(ctx, job);
  let settledBy: VpnConnection | undefined;

  const sent = await send<{ id: string; requestId?: string }>(ctx, job.rr, {
    api: 'CreateVpnConnection',
    tracksOutcome: true,
    beforeFirstSend: () =>
      record(ctx, job.key, {
        status: 'in-flight',
        token,
        generation,
        vpnGatewayId: site.vpnGatewayId,
        customerGatewayIds: cgwIds,
        specHash: connectionSpecHash(site, cgwIds, pskMark(site.psk, ctx.fingerprint)),
        pskFingerprints: psks?.map((k) => ctx.fingerprint(k)),
        operation: job.part.action === 'replace' ? 'replace' : 'create',
        connectionId: undefined,
        adopted: undefined,
        state: undefined,
        negotiation: undefined,
        attempts: job.rr.priorAttempts,
        requestIds: [...(before?.requestIds ?? [])],
        startedAt,
        errorCode: undefined,
        errorMessage: undefined,
        errorClass: undefined,
      }),
    call: () => job.rr.client.createVpnConnection(input),
    onError: async (err) => {
      const b = await busy(err);
      if (b !== 'not-busy') return b;
      if (err.errorClass === 'mismatch') {
        return { kind: 'fail', message: 'the ClientToken was already used with other parameters: an earlier attempt created a connection before the row changed; the next run lists the gateway and settles it' };
      }
      if (!err.outcomeUnknown) return undefined;
      // Maybe created: this row's tagged connection on (gateway, customer gateway) says.
      const found = await listMine(ctx, job, cgwIds[0]!);
      if (found.kind !== 'ok') return undefined;
      if (found.mine.length > 1) {
        const e = twoFound(job, found.mine);
        return { kind: 'fail', message: e.message, errorClass: e.errorClass };
      }
      if (found.mine.length === 1) {
        settledBy = found.mine[0]!;
        return { kind: 'ok', value: { id: settledBy.id } };
      }
      return undefined;
    },
  });

  if (sent.kind === 'ok') {
    const answeredAt = ctx.clock.now();
    await record(ctx, job.key, { connectionId: sent.value.id, state: settledBy?.state ?? 'provisioning', ...finished(ctx, job, 'created') });
    const err = await settleTask(ctx, job, answeredAt);
    const note = settledBy ? `found ${sent.value.id}, made by an earlier attempt whose answer was lost` : undefined;
    if (err) {
      await record(ctx, job.key, failure(ctx, job, err));
      return partResult(job, 'created', { id: sent.value.id, errorCode: err.code, errorMessage: err.message, errorClass: err.errorClass });
    }
    return partResult(job, 'created', { id: sent.value.id, ...(note ? { note } : {}) });
  }
  if (sent.kind === 'stopped') return stoppedPart(ctx, job, sent, true);
  const err = { code: sent.err.code, message: sent.message ?? sent.err.message, errorClass: sent.errorClass ?? sent.err.errorClass };
  // A create whose last answers leave the outcome open is never "failed": the next run lists first.
  const status = job.rr.maybeCreated ? 'unknown' : 'failed';
  await record(ctx, job.key, { status, ...failure(ctx, job, err) });
  return partResult(job, status, { errorCode: err.code, errorMessage: err.message, errorClass: err.errorClass });
}

/** adopt (found by the plan) or resume whose connection the plan found: recorded without a request. */
export async function recordExisting(ctx: ExecContext, job: ConnectionJob, site: SiteSpec | undefined, cgwIds: string[]): Promise<ResourceResult> {
  const id = job.part.existingId!;
  // The gateway's mode decides how the customer gateways are recorded (one per tunnel).
  const w = job.lane.gateway ? undefined : await ready(ctx, job);
  if (w && w.kind === 'stopped') return notStartedPart(ctx, job.key, job.part, w.reason);
  cgwIds = perTunnel(job.lane, cgwIds);
  const generation = job.part.generation ?? prior(ctx, job.key)?.generation ?? 1;
  const adopt = job.part.action === 'adopt';
  const pending = (job.part.changes ?? []).length > 0;
  // The keys it has, as keyed fingerprints only: the next plan compares the row's key with them (never a value).
  const read = await send<{ fps: string[]; requestId?: string }>(ctx, job.rr, {
    api: 'DescribeVpnConnection',
    read: true,
    call: async () => ({ fps: (await job.rr.client.readVpnConnectionPsks(job.region, id, { signal: ctx.run.signal })).map((k) => ctx.fingerprint(k)) }),
  });
  if (read.kind === 'stopped') return notStartedPart(ctx, job.key, job.part, read.reason);
  await record(ctx, job.key, {
    ...(read.kind === 'ok' ? { pskFingerprints: read.value.fps } : {}),
    token: ctx.makeToken(ctx.journalId, job.row.ref.region, job.row.ref.ip, generation, 'vco'),
    generation,
    connectionId: id,
    vpnGatewayId: job.lane.vpnGatewayId,
    customerGatewayIds: cgwIds,
    // Still to update: its hash must not say "as asked".
    specHash: site && !pending ? connectionSpecHash(site, cgwIds, pskMark(site.psk, ctx.fingerprint)) : undefined,
    operation: adopt ? 'adopt' : 'create',
    ...(adopt ? { adopted: true } : {}),
    ...finished(ctx, job, adopt ? 'adopted' : 'created'),
  });
  return partResult(job, adopt ? 'adopted' : 'created', { id });
}

// ---- update ----------------------------------------------------------------------------------------------------

const IKE_FIELDS: Record<string, keyof IkeParams> = {
  ike_version: 'version',
  ike_mode: 'mode',
  ike_enc_alg: 'encAlg',
  ike_auth_alg: 'authAlg',
  ike_pfs: 'pfs',
  ike_lifetime: 'lifetime',
  local_id: 'localId',
  remote_id: 'remoteId',
};
const IPSEC_FIELDS: Record<string, keyof IpsecParams> = { ipsec_enc_alg: 'encAlg', ipsec_auth_alg: 'authAlg', ipsec_pfs: 'pfs', ipsec_lifetime: 'lifetime' };

type TunnelEdit = NonNullable<ModifyVpnConnectionInput['tunnels']>[number];

/**
 * ModifyVpnConnectionAttribute with only what the plan says changed. A field the executor does not know (a profile
 * renamed as a whole, say) sends the whole profile: more than needed, never less.
 */
export function modifyInput(site: SiteSpec, fields: readonly string[], region: string, id: string, tunnelIds: Array<string | undefined>, clientToken: string): ModifyVpnConnectionInput {
  const out: ModifyVpnConnectionInput = { regionId: region, id, clientToken };
  const p = site.profile;
  const edits: TunnelEdit[] = tunnelIds.map((tunnelId) => (tunnelId !== undefined ? { tunnelId } : {}));
  const each = (f: (t: TunnelEdit, i: number) => void): void => edits.forEach(f);
  let whole = false;
  for (const raw of fields) {
    // A tunnel's own field: `_2` is the second tunnel's, the bare name the first's (the plan names each).
    const second = raw.endsWith('_2') && raw !== 'ip_2';
    const field = second ? raw.slice(0, -2) : raw;
    const mine = (f: (t: TunnelEdit) => void) => {
      const t = edits[second ? 1 : 0];
      if (t) f(t);
    };
    if (field === 'local_subnet') out.localSubnet = site.localSubnet;
    else if (field === 'remote_subnet') out.remoteSubnet = site.remoteSubnet;
    else if (field === 'connection_name' || field === 'name') {
      if (site.name !== undefined) out.name = site.name;
    } else if (field === 'effect_immediately') out.effectImmediately = site.effectImmediately ?? false;
    else if (field === 'psk') {
      if (site.psk?.kind === 'ref') {
        const value = site.psk.value;
        each((t) => (t.psk = value));
      }
    } else if (field in IKE_FIELDS) {
      const k = IKE_FIELDS[field]!;
      mine((t) => (t.ike = { ...t.ike, [k]: p.ike[k] }));
    } else if (field in IPSEC_FIELDS) {
      const k = IPSEC_FIELDS[field]!;
      mine((t) => (t.ipsec = { ...t.ipsec, [k]: p.ipsec[k] }));
    } else if (field === 'enable_dpd') mine((t) => (t.enableDpd = p.enableDpd));
    else if (field === 'enable_nat_traversal') mine((t) => (t.enableNatTraversal = p.enableNatTraversal));
    else if (field === 'tunnel_cidr' || field === 'local_bgp_ip') {
      const b = second ? site.bgp2 : site.bgp;
      if (b) mine((t) => (t.bgp = b));
    } else whole = true;
  }
  if (whole) {
    each((t) => {
      t.ike = { ...p.ike };
      t.ipsec = { ...p.ipsec };
      t.enableDpd = p.enableDpd;
      t.enableNatTraversal = p.enableNatTraversal;
    });
  }
  const touched = edits.filter((t) => Object.keys(t).some((k) => k !== 'tunnelId'));
  if (touched.length > 0) out.tunnels = touched;
  return out;
}

/** Update: only what changed (the PSK compared by keyed fingerprint by the plan), then the wait. */
export async function updateConnection(ctx: ExecContext, job: ConnectionJob, site: SiteSpec, cgwIds: string[]): Promise<ResourceResult> {
  const id = job.part.existingId ?? prior(ctx, job.key)?.connectionId;
  if (!id) return partResult(job, 'failed', { errorCode: 'NotExecutable', errorMessage: 'no connection to update' });
  const w = await ready(ctx, job);
  if (w && w.kind !== 'active') return notReady(ctx, job, w, id);
  cgwIds = perTunnel(job.lane, cgwIds);
  const fields = (job.part.changes ?? []).map((c) => c.field);
  // Dual tunnel edits name their tunnels: read their ids (master first, as the API lists them).
  let tunnelIds: Array<string | undefined> = [undefined];
  if (job.lane.dualTunnel) {
    const d = await send<{ c: VpnConnection; requestId?: string }>(ctx, job.rr, { api: 'DescribeVpnConnection', read: true, call: async () => ({ c: await job.rr.client.describeVpnConnection(job.region, id, { signal: ctx.run.signal }) }) });
    if (d.kind === 'stopped') return notStartedPart(ctx, job.key, job.part, d.reason);
    if (d.kind === 'failed') return failedPart(ctx, job, id, { code: d.err.code, message: d.message ?? d.err.message, errorClass: d.err.errorClass });
    tunnelIds = d.value.c.tunnels.map((t) => t.tunnelId);
  }
  const specHash = connectionSpecHash(site, cgwIds, pskMark(site.psk, ctx.fingerprint));
  const generation = prior(ctx, job.key)?.generation ?? 1;
  const token = ctx.makeToken(ctx.journalId, job.row.ref.region, `${job.row.ref.ip}/modify/${specHash}`, generation, 'vco');
  const input = modifyInput(site, fields, job.region, id, tunnelIds, token);
  const busy = busyHandler(ctx, job);
  await record(ctx, job.key, { operation: 'update', startedAt: new Date(ctx.clock.now()).toISOString() });
  const sent = await send(ctx, job.rr, {
    api: 'ModifyVpnConnectionAttribute',
    call: () => job.rr.client.modifyVpnConnectionAttribute(input),
    onError: async (err) => {
      const b = await busy(err);
      if (b !== 'not-busy') return b;
      if (err.errorClass === 'not-found') return { kind: 'fail', message: `${id} no longer exists (deleted outside cgw-batch); the next plan creates it again` };
      return undefined;
    },
  });
  if (sent.kind === 'stopped') return stoppedPart(ctx, job, sent, false);
  if (sent.kind === 'failed') return failedPart(ctx, job, id, { code: sent.err.code, message: `ModifyVpnConnectionAttribute failed: ${sent.message ?? sent.err.message}`, errorClass: sent.errorClass ?? sent.err.errorClass });
  const answeredAt = ctx.clock.now();
  const before = prior(ctx, job.key);
  const status = before?.status === 'adopted' ? 'adopted' : 'updated';
  const psks = site.psk?.kind === 'ref' ? tunnelIds.map(() => ctx.fingerprint((site.psk as { value: string }).value)) : before?.pskFingerprints;
  await record(ctx, job.key, { specHash, customerGatewayIds: cgwIds, pskFingerprints: psks, ...finished(ctx, job, status) });
  const err = await settleTask(ctx, job, answeredAt);
  if (err) {
    await record(ctx, job.key, failure(ctx, job, err));
    return partResult(job, status, { id, errorCode: err.code, errorMessage: err.message, errorClass: err.errorClass });
  }
  return partResult(job, status, { id });
}

/** A failed change of an existing connection: it stays owned (status unchanged), the error recorded. */
async function failedPart(ctx: ExecContext, job: ConnectionJob, id: string, err: { code: string; message: string; errorClass?: string }): Promise<ResourceResult> {
  await record(ctx, job.key, failure(ctx, job, err));
  return partResult(job, 'failed', { id, errorCode: err.code, errorMessage: err.message, ...(err.errorClass ? { errorClass: err.errorClass } : {}) });
}

// ---- delete ----------------------------------------------------------------------------------------------------

/**
 * Deletes `id` (destroy, prune, or the first half of a replace), then waits until the gateway is active again: only
 * then is the connection gone and its customer gateway free. NotFound counts as done. The intent is journaled first
 * and the part stays owned until the delete is confirmed, so a crash here leaves a part the next run deletes again.
 */
export async function deleteConnection(ctx: ExecContext, job: ConnectionJob, id: string): Promise<ResourceResult> {
  const w = await ready(ctx, job);
  if (w && w.kind !== 'active') return notReady(ctx, job, w, id);
  const generation = prior(ctx, job.key)?.generation ?? 1;
  const token = ctx.makeToken(ctx.journalId, job.row.ref.region, `${job.row.ref.ip}/delete/${id}`, generation, 'vco');
  const busy = busyHandler(ctx, job);
  let gone = false;
  const sent = await send<{ requestId?: string }>(ctx, job.rr, {
    api: 'DeleteVpnConnection',
    beforeFirstSend: () => record(ctx, job.key, { operation: 'delete', connectionId: id, startedAt: new Date(ctx.clock.now()).toISOString() }),
    call: () => job.rr.client.deleteVpnConnection({ regionId: job.region, id, clientToken: token }),
    onError: async (err): Promise<Verdict<{ requestId?: string }>> => {
      const b = await busy(err);
      if (b !== 'not-busy') return b;
      if (err.code === 'InvalidVpnConnectionInstanceId.NotFound') {
        gone = true;
        return { kind: 'ok', value: {} };
      }
      return undefined;
    },
  });
  if (sent.kind === 'stopped') return stoppedPart(ctx, job, sent, false);
  if (sent.kind === 'failed') return failedPart(ctx, job, id, { code: sent.err.code, message: `DeleteVpnConnection failed: ${sent.message ?? sent.err.message}`, errorClass: sent.errorClass ?? sent.err.errorClass });
  if (!gone) {
    const err = await settleTask(ctx, job, ctx.clock.now());
    if (err) return failedPart(ctx, job, id, { code: err.code, message: `${id} is being deleted, but ${err.message}`, errorClass: err.errorClass });
  }
  await record(ctx, job.key, { connectionId: id, state: undefined, negotiation: undefined, ...finished(ctx, job, 'deleted') });
  return partResult(job, 'deleted', { id });
}

/**
 * destroy / prune of a connection whose create had an unknown outcome: the listing (this row's tag on the journal's
 * gateway and customer gateway) says whether it made one; that one is deleted, none is recorded as gone, two stop.
 */
export async function deleteMade(ctx: ExecContext, job: ConnectionJob, cgwId: string | undefined): Promise<ResourceResult> {
  if (cgwId === undefined) {
    await record(ctx, job.key, { connectionId: undefined, ...finished(ctx, job, 'deleted') });
    return partResult(job, 'deleted', { note: 'no customer gateway: an earlier create could not have made a connection' });
  }
  const found = await listMine(ctx, job, cgwId);
  if (found.kind === 'stopped') return notStartedPart(ctx, job.key, job.part, found.reason);
  if (found.kind === 'failed') {
    const err = { code: 'Cgw.ListFailed', message: `could not list the connections of ${job.lane.vpnGatewayId}: ${found.message}`, errorClass: 'transient' };
    await record(ctx, job.key, failure(ctx, job, err));
    return partResult(job, prior(ctx, job.key)?.status ?? 'unknown', { errorCode: err.code, errorMessage: err.message, errorClass: err.errorClass });
  }
  if (found.mine.length > 1) {
    const err = twoFound(job, found.mine);
    await record(ctx, job.key, failure(ctx, job, err));
    return partResult(job, prior(ctx, job.key)?.status ?? 'unknown', { errorCode: err.code, errorMessage: err.message, errorClass: err.errorClass });
  }
  if (found.mine.length === 0) {
    await record(ctx, job.key, { connectionId: undefined, ...finished(ctx, job, 'deleted') });
    return partResult(job, 'deleted', { note: 'the earlier create whose answer was lost made no connection' });
  }
  return deleteConnection(ctx, job, found.mine[0]!.id);
}

/** The connection's State and negotiation Status, read once after the lane is free (never holding it up). */
export async function readState(ctx: ExecContext, job: ConnectionJob, id: string): Promise<{ state?: string; negotiation?: string }> {
  const s = await send<{ c: VpnConnection; requestId?: string }>(ctx, job.rr, { api: 'DescribeVpnConnection', read: true, call: async () => ({ c: await job.rr.client.describeVpnConnection(job.region, id, { signal: ctx.run.signal }) }) });
  if (s.kind !== 'ok') return {};
  await record(ctx, job.key, { state: s.value.c.state, negotiation: s.value.c.status });
  return { state: s.value.c.state, negotiation: s.value.c.status };
}
