// `status --live`: each site connection's State and negotiation Status read from the cloud (DescribeVpnConnection,
// regions in parallel, a few at a time per region, read retries), never written to the journal.
import { toCloudError } from '../cloud/errors.js';
import { withReadRetry } from '../cloud/inventory.js';
import type { ReportRow } from '../report/truth.js';
import type { Session } from './session.js';

/** Requests on the wire per region at most (DescribeVpnConnection allows 600 a minute). */
const PER_REGION = 4;

/** What the cloud says of one connection now; `missing`: it is not there (deleted outside cgw-batch). */
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
