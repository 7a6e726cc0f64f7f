// A create answered with something that is no refusal (the cloud layer marks it an unknown outcome): the executor lists
// the region and records the row's gateway when it is there; when it is not (yet), the row stays maybe-created and
// the next run's listing settles it. Never a plain "failed" that forgets a gateway.
import '../helpers/env.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CloudError } from '../../src/cloud/errors.js';
import { executePlan } from '../../src/execute/execute.js';
import { FakeVpc } from '../helpers/fake-vpc.js';
import { MemoryJournal } from '../helpers/memory-journal.js';
import { REGION, creates, opts, planAndRun } from './fixture.js';

/** The server commits the create, then answers 200 {"Code":"InvalidParameter"} (src/cloud marks that an unknown outcome). */
function committedThenError(fake: FakeVpc): void {
  const create = fake.createCustomerGateway.bind(fake);
  fake.createCustomerGateway = async (input) => {
    await create(input);
    throw new CloudError({ code: 'InvalidParameter', message: 'bad (answered HTTP 200 with an error code)', status: 200, requestId: 'RID-200', errorClass: 'invalid', outcomeUnknown: true });
  };
}

test('committed, then an error answer: the listing finds the row\'s gateway and the row is created with it', async () => {
  const fake = new FakeVpc();
  committedThenError(fake);
  const journal = new MemoryJournal();
  const r = await executePlan(opts({ fake, journal, rows: creates(1) }));
  const row = r.results[0]!;
  assert.equal(row.status, 'created', JSON.stringify(row));
  assert.equal(row.gatewayId, fake.gateways[0]!.id);
  assert.match(row.note ?? '', /carried out although its answer was an error/);
  assert.equal(fake.calls.length, 1, 'not sent again');
  assert.equal(fake.listCalls, 1, 'one listing');
  assert.equal(journal.get(`${REGION}/203.0.113.1`)?.gatewayId, fake.gateways[0]!.id);
});

test('committed, then an error answer, and the listing does not show it yet: unknown, and the next run records it (no duplicate)', async () => {
  const fake = new FakeVpc();
  committedThenError(fake);
  const describe = fake.describeCustomerGateways.bind(fake);
  let lag = true;
  fake.describeCustomerGateways = async (input) => {
    const page = await describe(input);
    return lag ? { ...page, items: [], totalCount: 0 } : page;
  };
  const journal = new MemoryJournal();
  const first = await planAndRun(fake, journal, [{ ip: '203.0.113.1', name: 'HQ' }]);
  const r1 = first.exec.results[0]!;
  assert.equal(r1.status, 'unknown', JSON.stringify(r1));
  assert.equal(r1.errorCode, 'InvalidParameter');
  assert.match(r1.errorMessage ?? '', /does not show the gateway \(yet\)/);
  assert.equal(journal.get(`${REGION}/203.0.113.1`)?.status, 'unknown');
  lag = false;
  const calls = fake.calls.length;
  const second = await planAndRun(fake, journal, [{ ip: '203.0.113.1', name: 'HQ' }]);
  assert.deepEqual(second.plan.rows.map((r) => [r.action, r.existingId]), [['resume', fake.gateways[0]!.id]]);
  assert.equal(second.exec.results[0]!.status, 'created');
  assert.equal(fake.calls.length, calls, 'recorded without another create');
  assert.equal(fake.gateways.length, 1);
});

test('a documented refusal (4xx, documented code) is still a plain failure: no listing, nothing maybe-created', async () => {
  const fake = new FakeVpc(() => 'InvalidName');
  const r = await executePlan(opts({ fake, rows: creates(1) }));
  assert.equal(r.results[0]!.status, 'failed');
  assert.equal(fake.listCalls, 0);
});
