// Negotiation statuses from a responder's real SAs (pure): list-sas read into IKE_SAs and CHILD_SAs, and the phase-2
// failures seen in its log, mapped onto the IPsec connections (and tunnels) the SAs belong to.
import type { ViciMessage } from './vici.js';
import type { ResponderPeer } from './ipsec-plan.js';
import type { NegotiationStatus } from './vpn-model.js';

/** One IKE_SA of list-sas: the config it belongs to (the peer's name), its state and its CHILD_SAs. */
export interface IkeSa {
  name: string;
  uniqueId: string;
  state: string;
  children: Array<{ name: string; state: string }>;
}

/** The `list-sa` events of one `list-sas` command, read into IkeSas (anything unexpected is skipped). */
export function readSas(events: ViciMessage[]): IkeSa[] {
  const out: IkeSa[] = [];
  for (const ev of events) {
    for (const [name, sa] of Object.entries(ev)) {
      if (typeof sa !== 'object' || Array.isArray(sa)) continue;
      const children: IkeSa['children'] = [];
      const childSas = sa['child-sas'];
      if (childSas && typeof childSas === 'object' && !Array.isArray(childSas)) {
        for (const c of Object.values(childSas)) {
          if (typeof c !== 'object' || Array.isArray(c)) continue;
          children.push({ name: String(c['name'] ?? ''), state: String(c['state'] ?? '') });
        }
      }
      out.push({ name, uniqueId: String(sa['uniqueid'] ?? ''), state: String(sa['state'] ?? ''), children });
    }
  }
  return out;
}

/** Log lines that say a CHILD_SA was refused (proposal, selectors) or failed: phase 2 did not come up. */
const PHASE2_FAILURE =
  /NO_PROPOSAL_CHOSEN|TS_UNACCEPTABLE|no acceptable proposal|no proposal chosen|traffic selectors .* unacceptable|no matching CHILD_SA config|failed to establish CHILD_SA|unable to install/i;

export function isPhase2Failure(message: string): boolean {
  return PHASE2_FAILURE.test(message);
}

/**
 * The status of every tunnel the peers hold (key: `vco-…` or `vco-…/tun-…`):
 * - `ipsec_sa_established`: an IKE_SA of its peer is ESTABLISHED and every one of its CHILD_SAs is INSTALLED;
 * - `ipsec_sa_not_established`: the IKE_SA is up but its CHILD_SAs are not all installed and phase 2 failed (some are
 *   installed and others not, or a refusal was logged for the IKE_SA);
 * - `ike_sa_established`: the IKE_SA is up and no CHILD_SA of this tunnel has been negotiated (yet);
 * - `ike_sa_not_established`: no IKE_SA of its peer is ESTABLISHED.
 * `phase2Failed` names the IKE_SAs (unique ids) whose log said a CHILD_SA was refused.
 */
export function tunnelStatuses(peers: ResponderPeer[], sas: IkeSa[], phase2Failed: ReadonlySet<string>): Map<string, NegotiationStatus> {
  const out = new Map<string, NegotiationStatus>();
  for (const p of peers) {
    const up = sas.filter((sa) => sa.name === p.name && sa.state === 'ESTABLISHED');
    const installed = new Set(up.flatMap((sa) => sa.children.filter((c) => c.state === 'INSTALLED').map((c) => c.name)));
    const failed = up.some((sa) => phase2Failed.has(sa.uniqueId));
    const byKey = new Map<string, string[]>();
    for (const c of p.children) byKey.set(c.key, [...(byKey.get(c.key) ?? []), c.name]);
    for (const [key, names] of byKey) {
      let s: NegotiationStatus;
      if (up.length === 0) s = 'ike_sa_not_established';
      else {
        const have = names.filter((n) => installed.has(n)).length;
        if (have === names.length) s = 'ipsec_sa_established';
        else if (have > 0 || failed) s = 'ipsec_sa_not_established';
        else s = 'ike_sa_established';
      }
      out.set(key, s);
    }
  }
  return out;
}
