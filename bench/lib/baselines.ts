// The peers we compare against, scripted as their users run them today: a sequential pop-core loop and Terraform's provider.
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import RPCClient from '@alicloud/pop-core';

export interface BaselineRow {
  region: string;
  ip: string;
  name: string;
  asn: string;
  description: string;
}

export interface BaselineResult {
  wallMs: number;
  done: Array<{ t: number; status: string }>;
  failed: number;
  created: number;
  requests: number;
  /** Rows whose create the script reported as failed (IP taken): with a fresh token per attempt that is often its own earlier attempt. */
  failedIps: string[];
}

function client(endpoint: string, ak: string, secret: string): any {
  const Ctor = RPCClient as unknown as new (c: object) => any;
  return new Ctor({ endpoint, apiVersion: '2016-04-28', accessKeyId: ak, accessKeySecret: secret, opts: { timeout: 10_000 } });
}

function params(r: BaselineRow, token: string) {
  return { RegionId: r.region, IpAddress: r.ip, Name: r.name, Asn: r.asn, Description: r.description, ClientToken: token };
}

/** Baseline A: `for row in csv: aliyun vpc CreateCustomerGateway ...` — sequential, no retries. */
export async function sequentialLoop(endpoint: string, ak: string, secret: string, rows: BaselineRow[]): Promise<BaselineResult> {
  const c = client(endpoint, ak, secret);
  const start = performance.now();
  const done: BaselineResult['done'] = [];
  let failed = 0;
  let requests = 0;
  const failedIps: string[] = [];
  for (const r of rows) {
    requests++;
    try {
      await c.request('CreateCustomerGateway', params(r, randomUUID()), { method: 'POST' });
      done.push({ t: performance.now() - start, status: 'created' });
    } catch {
      failed++;
      failedIps.push(r.ip);
      done.push({ t: performance.now() - start, status: 'failed' });
    }
  }
  return { wallMs: performance.now() - start, done, failed, created: rows.length - failed, requests, failedIps };
}

/** At most `n` of the functions run at once, the rest wait in order (what Terraform's -parallelism=10 does). */
export function limiter(n: number): <T>(fn: () => Promise<T>) => Promise<T> {
  let active = 0;
  const waiting: Array<() => void> = [];
  return async (fn) => {
    // A finished function hands its slot straight to the next in line.
    if (active >= n) await new Promise<void>((go) => waiting.push(go));
    else active++;
    try {
      return await fn();
    } finally {
      const next = waiting.shift();
      if (next) next();
      else active--;
    }
  };
}

const TF_RETRYABLE = /^(Throttling|OperationConflict|ServiceUnavailable|InternalError)/;

/**
 * Baseline B: the Terraform alicloud provider's behaviour — one global parallelism of 10, a fresh ClientToken
 * on every attempt, flat 3 s then 5 s sleeps on throttling/conflict/5xx/timeouts, give up after 5 minutes.
 */
export async function terraformLike(endpoint: string, ak: string, secret: string, rows: BaselineRow[]): Promise<BaselineResult> {
  const c = client(endpoint, ak, secret);
  const limit = limiter(10);
  const start = performance.now();
  const done: BaselineResult['done'] = [];
  let failed = 0;
  let requests = 0;
  const failedIps: string[] = [];
  await Promise.all(
    rows.map((r) =>
      limit(async () => {
        const deadline = performance.now() + 5 * 60_000;
        for (let attempt = 1; ; attempt++) {
          requests++;
          try {
            // The provider builds TF-<Action>-<unix>-<uuid> and regenerates it after every attempt.
            await c.request('CreateCustomerGateway', params(r, `TF-CreateCustomerGateway-${Date.now()}-${randomUUID()}`.slice(0, 64)), { method: 'POST' });
            done.push({ t: performance.now() - start, status: 'created' });
            return;
          } catch (e) {
            const o = e as { code?: unknown; name?: unknown };
            const code = typeof o.code === 'string' ? o.code : '';
            const retryable = TF_RETRYABLE.test(code) || o.name === 'RequestTimeoutError' || o.name === 'SyntaxError' || code === 'ECONNRESET';
            if (!retryable || performance.now() > deadline) {
              failed++;
              failedIps.push(r.ip);
              done.push({ t: performance.now() - start, status: 'failed' });
              return;
            }
            await sleep(attempt === 1 ? 3000 : 5000);
          }
        }
      }),
    ),
  );
  return { wallMs: performance.now() - start, done, failed, created: rows.length - failed, requests, failedIps };
}
