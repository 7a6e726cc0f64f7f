// Site connections read from the cloud for status --live and refresh: State and negotiation, the listing, PSK fingerprints;
// never written to the journal here.
import { toCloudError } from '../cloud/errors.js';
import { withReadRetry } from '../cloud/inventory.js';
import type { VpnConnection } from '../cloud/types.js';
import type { ReportRow } from '../report/truth.js';
import type { Session } from './session.js';

/** Requests on the wire per region at most (DescribeVpnConnection allows 600 a minute). */
const PER_REGION = 4;

/** status --live: what the cloud says of one connection now; `missing`: it is not there (deleted outside cgw-batch). */
export type LiveConnection = { state: string; negotiation: string } | { missing: true } | { error: string };

/** The rows' connections (those with an id the journal owns) as the cloud has them now, by connection id. */
export async function readLive(session: Session, rows: readonly ReportRow[]): Promise<Map<string, LiveConnection>> {
  const byRegion = new Map<string, string[]>();
  for (const r of rows) {
    const c = r.connection;
    if (!c?.id || c.status === 'deleted' || c.status === 'pending') continue;
    byRegion.set(r.ref.region, [...(byRegion.get(r.ref.region) ?? []), c.id]);
  }
  const out = new Map<string, LiveConnection>();
  await Promise.all(
    [...byRegion].map(async ([region, ids]) => {
      const client = session.conn.clientFor(region);
      const queue = [...ids];
      const worker = async (): Promise<void> => {
        for (let id = queue.shift(); id !== undefined; id = queue.shift()) {
          try {
            const c = await withReadRetry(() => client.describeVpnConnection(region, id));
            out.set(id, { state: c.state, negotiation: c.status });
          } catch (e) {
            const err = toCloudError(e);
            out.set(id, err.errorClass === 'not-found' ? { missing: true } : { error: `${err.code}: ${err.message}` });
          }
        }
      };
      await Promise.all(Array.from({ length: Math.min(PER_REGION, ids.length) }, worker));
    }),
  );
  return out;
}

/** Every connection of the regions as the cloud has it now, by id (DescribeVpnConnections, paged, read retries). */
export async function listConnections(session: Session, regions: Iterable<string>): Promise<Map<string, VpnConnection>> {
  const lists = await Promise.all([...new Set(regions)].map((r) => session.conn.clientFor(r).listVpnConnections(r, {})));
  return new Map(lists.flat().map((c) => [c.id, c]));
}

/**
 * The keyed fingerprints of a connection's PSKs (tunnel order): each key is read (the client's one accessor that returns
 * PSKs; the keys joined the Redactor on the way), fingerprinted at once and dropped.
 */
export async function pskFingerprints(session: Session, region: string, id: string, fingerprint: (secret: string) => string): Promise<string[]> {
  const keys = await withReadRetry(() => session.conn.clientFor(region).readVpnConnectionPsks(region, id));
  return keys.map((k) => fingerprint(k));
}
