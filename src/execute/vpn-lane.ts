// One serial lane per VPN gateway (a connection write at a time, each followed by waiting until the gateway is active
// again), and that wait: DescribeVpnGateway polled with backoff through the region's scheduler, bounded, cancellable.
import type { VpnGateway } from '../cloud/types.js';
import type { ExecContext, RowRun } from './context.js';
import { send } from './send.js';

/** Until a lane has seen one task end: the first poll, the growth of the interval, and its cap. */
const FIRST_POLL_MS = 250;
const GROWTH = 1.5;
const CAP_MS = 2000;
/** Once the lane knows how long a task takes: poll this much before the expected end, then this often. */
const EARLY_MS = 40;
const TAIL_MS = 100;

export type WaitResult =
  | { kind: 'active'; gateway: VpnGateway }
  | { kind: 'stopped'; reason: string }
  | { kind: 'failed'; code: string; message: string; errorClass: string };

/**
 * The writes to one VPN gateway, one at a time: the API refuses concurrent connection writes on a gateway (and a
 * write while its task runs), so the lane is a FIFO mutex taken for "write, then wait until active". A connection
 * takes it only once its customer gateways exist, so a slow customer gateway never holds up the others.
 */
export class VpnGatewayLane {
  total = 0;
  /** The gateway as last read (mode, status). */
  gateway: VpnGateway | undefined;
  /** The gateway was `active` when this lane last looked and nothing of ours changed it since. */
  knownActive = false;
  /** How long (ms) a task of this gateway took from our write's answer to `active`, as last seen. */
  taskMs: number | undefined;
  private held = false;
  private readonly queue: Array<(granted: boolean) => void> = [];
  private closed = false;

  constructor(
    readonly name: string,
    readonly region: string,
    readonly vpnGatewayId: string,
  ) {}

  get dualTunnel(): boolean {
    return this.gateway?.disasterRecoveryInternetIp !== undefined;
  }

  /** Runs `fn` holding the lane; undefined when the lane closed (the run stopped) before it was its turn. */
  async exclusive<T>(fn: () => Promise<T>): Promise<T | undefined> {
    if (!(await this.acquire())) return undefined;
    try {
      return await fn();
    } finally {
      this.release();
    }
  }

  private acquire(): Promise<boolean> {
    if (this.closed) return Promise.resolve(false);
    if (!this.held) {
      this.held = true;
      return Promise.resolve(true);
    }
    return new Promise((resolve) => this.queue.push(resolve));
  }

  private release(): void {
    const next = this.queue.shift();
    if (next) next(true);
    else this.held = false;
  }

  /** The run stopped: every connection still waiting for its turn leaves at once, unsent. */
  close(): void {
    this.closed = true;
    for (const w of this.queue.splice(0)) w(false);
  }
}

const STOP_WORDS: Record<string, string> = { interrupt: 'interrupted (Ctrl-C)' };

/**
 * Waits until the lane's gateway is `active`. After a write (`since` = when its answer came), the first poll goes when
 * the lane expects the task to end (or soon, until it knows), then polls back off up to 2 s; before a write it polls
 * at once. Bounded by ctx.vpnWaitMs from `since`; a stop of the run (Ctrl-C) ends it at once.
 */
export async function waitActive(ctx: ExecContext, rr: RowRun, lane: VpnGatewayLane, opts: { since: number; afterWrite: boolean }): Promise<WaitResult> {
  const deadline = opts.since + ctx.vpnWaitMs;
  const estimate = opts.afterWrite ? lane.taskMs : undefined;
  let sleep = !opts.afterWrite ? 0 : estimate !== undefined ? Math.max(0, estimate - (ctx.clock.now() - opts.since) - EARLY_MS) : FIRST_POLL_MS;
  let interval = estimate !== undefined ? TAIL_MS : FIRST_POLL_MS;
  let polls = 0;
  let lastBusyAt: number | undefined;
  for (;;) {
    if (sleep > 0 && !(await ctx.run.sleep(sleep))) return { kind: 'stopped', reason: STOP_WORDS[ctx.run.reason ?? 'interrupt'] ?? 'the run stopped' };
    const s = await send<VpnGateway & { requestId?: string }>(ctx, rr, {
      api: 'DescribeVpnGateway',
      read: true,
      // Before a write it may be the run's first request: it waits at the gate like one.
      gated: !opts.afterWrite,
      call: () => rr.client.describeVpnGateway(lane.region, lane.vpnGatewayId, { signal: ctx.run.signal }),
    });
    if (s.kind === 'stopped') return { kind: 'stopped', reason: s.reason };
    if (s.kind === 'failed') {
      const notFound = s.err.errorClass === 'not-found';
      return {
        kind: 'failed',
        code: s.err.code,
        message: notFound ? `the VPN gateway ${lane.vpnGatewayId} does not exist in ${lane.region}` : `could not read the VPN gateway ${lane.vpnGatewayId}: ${s.message ?? s.err.message}`,
        errorClass: s.err.errorClass,
      };
    }
    polls++;
    const g = s.value;
    lane.gateway = g;
    const now = ctx.clock.now();
    if (g.status === 'active') {
      lane.knownActive = true;
      if (opts.afterWrite) learn(lane, opts.since, now, lastBusyAt, polls);
      return { kind: 'active', gateway: g };
    }
    lane.knownActive = false;
    if (g.status === 'deleting') {
      return { kind: 'failed', code: 'Cgw.VpnGatewayDeleting', message: `the VPN gateway ${lane.vpnGatewayId} is being deleted`, errorClass: 'invalid' };
    }
    lastBusyAt = now;
    if (now >= deadline) {
      return {
        kind: 'failed',
        code: 'Cgw.VpnGatewayBusy',
        message: `the VPN gateway ${lane.vpnGatewayId} stayed ${g.status} for ${Math.round((now - opts.since) / 1000)} s (the most cgw-batch waits: CGW_BATCH_VPN_WAIT_MS=${ctx.vpnWaitMs}); run again once it is active`,
        errorClass: 'transient',
      };
    }
    sleep = Math.min(interval, Math.max(1, deadline - now));
    interval = Math.min(CAP_MS, interval * GROWTH);
  }
}

/**
 * What this wait says about the gateway's task time: found active at the first poll, the task may be shorter than
 * the lane thinks (try a little earlier next time); after a busy answer, it ended between that answer and this one.
 */
function learn(lane: VpnGatewayLane, since: number, now: number, lastBusyAt: number | undefined, polls: number): void {
  const upper = now - since;
  if (lastBusyAt === undefined || polls === 1) {
    lane.taskMs = Math.max(0, Math.min(lane.taskMs ?? upper, upper) - EARLY_MS);
    return;
  }
  lane.taskMs = Math.max(0, Math.round((lastBusyAt + now) / 2 - since));
}
