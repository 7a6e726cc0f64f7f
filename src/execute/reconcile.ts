// The listing that reconciles a create (InvalidIpAddress.AlreadyExist): every page of the region's gateways, each page
// one call through send() on the lane's DescribeCustomerGateways scheduler, so it is paced, retried and counted like
// every other request of the run (requests, throttled answers, the retry budget).
import { CloudError } from '../cloud/errors.js';
import { PAGE_SIZE } from '../cloud/inventory.js';
import type { CustomerGateway } from '../cloud/types.js';
import type { ExecContext, RowRun } from './context.js';
import { send } from './send.js';

/** A server that never ends its listing must not loop us forever: 10,000 pages are 500,000 gateways. */
const MAX_PAGES = 10_000;

/**
 * The region's gateways, keyed by id (one created meanwhile may shift a page boundary). Throws the CloudError that
 * ended the listing; a run that stops meanwhile ends it too.
 */
export async function listForReconcile(ctx: ExecContext, rr: RowRun): Promise<CustomerGateway[]> {
  const region = rr.row.ref.region;
  const all = new Map<string, CustomerGateway>();
  for (let page = 1; page <= MAX_PAGES; page++) {
    const s = await send(ctx, rr, {
      api: 'DescribeCustomerGateways',
      read: true,
      call: () => rr.client.describeCustomerGateways({ regionId: region, pageNumber: page, pageSize: PAGE_SIZE }, { signal: ctx.run.signal }),
    });
    if (s.kind === 'stopped') throw new CloudError({ code: 'RequestAborted', message: `the listing of ${region} stopped: ${s.reason}`, errorClass: 'transient' });
    if (s.kind === 'failed') throw s.err;
    for (const g of s.value.items) all.set(g.id, g);
    if (s.value.items.length < PAGE_SIZE || page * PAGE_SIZE >= s.value.totalCount) break;
  }
  return [...all.values()];
}
