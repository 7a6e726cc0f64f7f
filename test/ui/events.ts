// A scripted RunEvent stream for progress tests: two announced lanes, a retry, a failure, and one unannounced lane.
import type { RunEvent } from '../../src/types.js';
import { result } from '../report/build.js';

export const MARKER = 'SECRET-MARKER-1234';

export function script(): RunEvent[] {
  const ev: RunEvent[] = [
    { type: 'run:start', runId: 'run-1', lanes: [{ lane: 'acct/cn-hangzhou', region: 'cn-hangzhou', total: 3 }, { lane: 'acct/cn-shanghai', region: 'cn-shanghai', total: 1 }] },
  ];
  for (let i = 2; i <= 4; i++) ev.push({ type: 'row:start', lane: 'acct/cn-hangzhou', key: `cn-hangzhou/10.0.0.${i}`, line: i, attempt: 1 });
  ev.push({ type: 'row:retry', lane: 'acct/cn-hangzhou', key: 'cn-hangzhou/10.0.0.3', line: 3, attempt: 1, code: 'Throttling.User', delayMs: 250 });
  ev.push({ type: 'lane:rate', lane: 'acct/cn-hangzhou', ratePerSec: 2, inFlight: 3 });
  ev.push({ type: 'row:done', lane: 'acct/cn-hangzhou', result: result({ line: 2 }) });
  ev.push({
    type: 'row:done',
    lane: 'acct/cn-hangzhou',
    result: result({ line: 3, status: 'failed', errorCode: 'IllegalParam.AuthKey', errorMessage: `AuthKey ${MARKER} rejected\n\u001b[2Jstack` }),
  });
  // A lane nobody announced: the UI must cope.
  ev.push({ type: 'row:start', lane: 'acct/eu-central-1', key: 'eu-central-1/10.1.0.1', line: 9, attempt: 1 });
  ev.push({ type: 'row:done', lane: 'acct/eu-central-1', result: result({ line: 9, region: 'eu-central-1', ip: '10.1.0.1' }) });
  ev.push({ type: 'row:done', lane: 'acct/cn-hangzhou', result: result({ line: 4 }) });
  ev.push({ type: 'row:start', lane: 'acct/cn-shanghai', key: 'cn-shanghai/10.2.0.1', line: 5, attempt: 1 });
  ev.push({ type: 'run:stopping', reason: 'interrupt', message: 'Interrupted: finishing 1 in-flight request' });
  return ev;
}

export const runDone: RunEvent = { type: 'run:done', interrupted: true, counts: { created: 3, failed: 1 }, durationMs: 1234 };

export function sink(): { write(s: string): void; text(): string } {
  const chunks: string[] = [];
  return { write: (s) => void chunks.push(s), text: () => chunks.join('') };
}
