// What every action handler gets and shares: the context, the ClientToken replay rules, region and flag lookups.
import { err } from './api-error.js';
import { hashParams, type AccountFlags, type RegionState, type Store } from './store.js';
import type { Params } from './validate.js';
import type { NegotiationStatus } from './vpn-model.js';

export interface ActionSettings {
  quota: number;
  tokenRetentionMs: number;
  duplicateIpCheckBeforeToken: boolean;
  /** How long a VPN gateway stays `updating` after each connection write. */
  vpnTaskMs: number;
  /** IPsec connections per VPN gateway. */
  vpnConnectionQuota: number;
}

/** What the status source is asked about one connection (and, for dual-tunnel connections, one tunnel). */
export interface NegotiationQuery {
  accountId: string;
  regionId: string;
  vpnConnectionId: string;
  vpnGatewayId: string;
  tunnelId?: string;
  role?: 'master' | 'slave';
  /** The connection's State (`provisioning`, `updating`, `active`). */
  state: string;
  /** The VPN gateway's IP this connection or tunnel negotiates from. */
  gatewayIp: string;
  customerGatewayId: string;
  customerGatewayIp?: string;
}

/** Answers a negotiation status, or undefined to leave it to the stored one (default `ike_sa_not_established`). */
export type NegotiationSource = (q: NegotiationQuery) => NegotiationStatus | undefined;

export interface ActionContext {
  accountId: string;
  regionId: string;
  params: Params;
  store: Store;
  settings: ActionSettings;
  now: number;
  newGatewayId: () => string;
  /** A fresh id `<prefix>` + `length` lowercase letters and digits, unique across the store. */
  newId: (prefix: string, length: number) => string;
  /** The 16-character PSK the service generates when none is given. */
  newPsk: () => string;
  negotiation: NegotiationSource;
}

export type Body = Record<string, unknown>;

export interface ActionDef {
  /** Parameters checked with Missing<Name> before anything else (RegionId is handled by the server). */
  required: string[];
  /** Whether RegionId is required (DescribeRegions takes it optionally). */
  regionRequired: boolean;
  /** The SubUser code this action documents: some spell it right, others `Forbbiden`, the tag APIs only `Forbidden`. */
  subUserCode?: 'Forbidden.SubUser' | 'Forbbiden.SubUser' | 'Forbidden';
  /** Changes state: commit-drop and commit-500 apply, and tokens are swept after it. */
  mutates?: boolean;
  run: (ctx: ActionContext) => Body;
}

export const cgwNotFound = () =>
  err(404, 'InvalidCustomerGatewayInstanceId.NotFound', 'The specified customer gateway instance id does not exist.');

export function flags(ctx: ActionContext): AccountFlags {
  return ctx.store.account(ctx.accountId).flags;
}

export function region(ctx: ActionContext): RegionState {
  return ctx.store.region(ctx.accountId, ctx.regionId);
}

/** A stable default resource group per account, shaped like real ids (`rg-acfm` + 14 chars). */
export function defaultResourceGroup(accountId: string): string {
  return 'rg-acfm' + hashParams(['rg', accountId]).slice(0, 14);
}

export function tokenOf(ctx: ActionContext): string | undefined {
  const t = ctx.params.get('ClientToken');
  if (t === undefined || t === '') return undefined;
  if (t.length > 64 || !/^[\x20-\x7e]+$/.test(t)) throw err(400, 'InvalidClientToken.Malformed', 'The specified ClientToken is not valid.');
  return t;
}

/** Same token + same normalised params -> the stored response; same token + other params -> mismatch. */
export function replay(ctx: ActionContext, action: string, token: string | undefined, paramsHash: string): Body | undefined {
  if (token === undefined) return undefined;
  const r = region(ctx);
  const rec = r.tokens.get(`${action}\n${token}`);
  if (!rec) return undefined;
  if (ctx.now - rec.at > ctx.settings.tokenRetentionMs) {
    r.tokens.delete(`${action}\n${token}`);
    return undefined;
  }
  if (rec.paramsHash !== paramsHash)
    throw err(
      400,
      'IdempotentParameterMismatch',
      'The request uses the same client token as a previous, but non-identical request. Do not reuse a client token with different requests, unless the requests are identical.',
    );
  return structuredClone(rec.response);
}

export function remember(ctx: ActionContext, action: string, token: string | undefined, paramsHash: string, response: Body): void {
  if (token === undefined) return;
  region(ctx).tokens.set(`${action}\n${token}`, { action, paramsHash, response: structuredClone(response), at: ctx.now });
}
