// The customer-gateway quota of each region as far as the plan knows it. No API the tool can reach tells it (the
// VPC API has no quota call; Quota Center is another product's endpoint), so it is given (--quota), learned (a
// Resource.QuotaFull recorded the region's count in the journal: its real ceiling), or assumed (the documented
// default), and every number says which. Pure.
import type { PriorRow, QuotaGiven, QuotaUse } from '../types.js';

/** The documented default: 100 customer gateways per region. */
export const DEFAULT_QUOTA = 100;

export interface Learned {
  limit: number;
  /** When the create that learned it finished (ISO time). */
  at: string;
}

/** Each region's most recent ceiling from the journal: the rows whose create got Resource.QuotaFull recorded it. */
export function learnedQuotas(prior: ReadonlyMap<string, PriorRow>): Map<string, Learned> {
  const out = new Map<string, Learned>();
  for (const [key, p] of prior) {
    if (p.quotaLimit === undefined) continue;
    const region = key.slice(0, key.indexOf('/'));
    const at = p.finishedAt ?? '';
    const seen = out.get(region);
    if (!seen || at > seen.at) out.set(region, { limit: p.quotaLimit, at });
  }
  return out;
}

/**
 * A region's quota: given for it, given for all, learned (unless the region now holds more than that: the quota
 * was raised since), else `fallback` assumed.
 */
export function regionQuota(
  region: string,
  fallback: number,
  given: QuotaGiven | undefined,
  learned: ReadonlyMap<string, Learned> | undefined,
  existing: number | undefined,
): Pick<QuotaUse, 'quota' | 'basis' | 'learnedAt'> {
  const mine = given?.regions[region];
  if (mine !== undefined) return { quota: mine, basis: 'given' };
  if (given?.all !== undefined) return { quota: given.all, basis: 'given' };
  const l = learned?.get(region);
  if (l && (existing === undefined || existing <= l.limit)) return { quota: l.limit, basis: 'learned', ...(l.at ? { learnedAt: l.at } : {}) };
  return { quota: fallback, basis: 'assumed' };
}

/** How a message names the number: `100 (assumed)`, `55 (given with --quota)`, `3 (learned from ... on 2026-03-01)`. */
export function quotaText(q: Pick<QuotaUse, 'quota' | 'basis' | 'learnedAt'>): string {
  if (q.basis === 'given') return `${q.quota} (given with --quota)`;
  if (q.basis === 'learned') return `${q.quota} (learned from Resource.QuotaFull${q.learnedAt ? ` on ${q.learnedAt.slice(0, 10)}` : ''})`;
  return `${q.quota} (assumed: the documented default)`;
}
