// Seeded PRNG and the fault picker: one independent stream per action so one action's traffic never shifts another's draws.
import { createHash, randomInt } from 'node:crypto';
import { mulberry32 } from '../random.js';

export { mulberry32 };

/**
 * `commit-drop`, `commit-500` and `commit-200` apply to mutating actions only: the change is made, then the answer is
 * lost (reset), is a 500 (terraform-provider-alicloud #4808), or is HTTP 200 with an error body (`InvalidParameter`).
 * New kinds go last: the order decides how one draw is shared.
 */
export const FAULT_KINDS = ['conflict', 'unavailable', 'internal', 'html', 'empty', 'reset', 'hang', 'commit-drop', 'throttle', 'commit-500', 'commit-200'] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];
export type FaultConfig = Partial<Record<FaultKind, number>>;

/** Derives a 32-bit sub-seed from the run seed and a stream name, so streams are independent and stable. */
export function subSeed(seed: number, stream: string): number {
  return createHash('sha256').update(`${seed}\0${stream}`).digest().readUInt32LE(0);
}

/** A family of named PRNG streams under one seed; an absent seed means a random one (still internally consistent). */
export class RandomStreams {
  readonly seed: number;
  private readonly streams = new Map<string, () => number>();

  constructor(seed?: number) {
    this.seed = seed ?? randomInt(0, 2 ** 31);
  }

  stream(name: string): () => number {
    let s = this.streams.get(name);
    if (!s) {
      s = mulberry32(subSeed(this.seed, name));
      this.streams.set(name, s);
    }
    return s;
  }
}

/**
 * One draw per request on the action's own stream; the kinds share the unit interval in FAULT_KINDS order,
 * so `{reset: 0.1, hang: 0.1}` gives each 10 % and never both.
 */
export function pickFault(rand: () => number, faults: FaultConfig | undefined): FaultKind | undefined {
  if (!faults) return undefined;
  let any = false;
  for (const k of FAULT_KINDS) if ((faults[k] ?? 0) > 0) any = true;
  if (!any) return undefined;
  const u = rand();
  let acc = 0;
  for (const k of FAULT_KINDS) {
    const p = faults[k] ?? 0;
    if (!(p > 0)) continue;
    acc += Math.min(1, p);
    if (u < acc) return k;
  }
  return undefined;
}
