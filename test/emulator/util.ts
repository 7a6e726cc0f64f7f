// Shared test plumbing: start an emulator, build pop-core / PopVpcClient / vpc20160428 clients, send raw signed requests.
import { request as httpRequest } from 'node:http';
import { randomUUID } from 'node:crypto';
import RPCClient from '@alicloud/pop-core';
import * as VpcNs from '@alicloud/vpc20160428';
import * as OpenApi from '@alicloud/openapi-core';
import { PopVpcClient, type Credentials } from '../../src/cloud/pop-client.js';
import { DEFAULT_ACCOUNT, startEmulator, type Emulator, type EmulatorOptions } from '../../src/emulator/index.js';
import { percentEncode, v1Sign, v1StringToSign } from '../../src/emulator/auth.js';

export const REGION = 'cn-hangzhou';
export const CREDS: Credentials = { accessKeyId: DEFAULT_ACCOUNT.accessKeyId, accessKeySecret: DEFAULT_ACCOUNT.accessKeySecret };

/** Emulator with rate limits off by default, so tests only meet throttling when they ask for it. */
export function emulator(opts: EmulatorOptions = {}): Promise<Emulator> {
  return startEmulator({ rateLimits: false, seed: 1, ...opts });
}

export function pop(emu: Emulator, creds: Credentials = CREDS, timeoutMs = 2000): PopVpcClient {
  return new PopVpcClient({ endpoint: emu.url, credentials: creds, timeoutMs });
}

/** Raw pop-core client (POST), for calls where the wrapper would hide what we want to see. */
export function rpc(emu: Emulator, creds: Credentials = CREDS, timeoutMs = 2000): any {
  const Ctor = RPCClient as unknown as new (config: object) => any;
  return new Ctor({
    endpoint: emu.url,
    apiVersion: '2016-04-28',
    accessKeyId: creds.accessKeyId,
    accessKeySecret: creds.accessKeySecret,
    securityToken: creds.securityToken,
    opts: { method: 'POST', timeout: timeoutMs },
  });
}

/** The official V3 client's module, whichever way the CJS interop hands it to us (tsx vs compiled ESM). */
export const Vpc: any = (() => {
  const ns: any = VpcNs;
  const mod = ns.default && typeof ns.default === 'object' ? ns.default : ns;
  return { Client: typeof mod.default === 'function' ? mod.default : ns.default, models: mod };
})();

/** @alicloud/vpc20160428 with its default config (V3 ACS3-HMAC-SHA256 signing). */
export function vpc3(emu: Emulator, creds: Credentials = CREDS): any {
  const oa: any = OpenApi;
  const util = oa.$OpenApiUtil ?? oa.default?.$OpenApiUtil;
  const config = new util.Config({
    accessKeyId: creds.accessKeyId,
    accessKeySecret: creds.accessKeySecret,
    securityToken: creds.securityToken,
    endpoint: `127.0.0.1:${emu.port}`,
    protocol: 'http',
    regionId: REGION,
    readTimeout: 2000,
    connectTimeout: 2000,
  });
  return new Vpc.Client(config);
}

export function model(name: string, fields: Record<string, unknown>): any {
  const C = Vpc.models[name];
  if (typeof C !== 'function') throw new Error(`no model ${name}`);
  return new C(fields);
}

/** Awaits a rejection and returns the thrown value (assert.rejects cannot hand it back). */
export async function caught(p: Promise<unknown>): Promise<any> {
  try {
    await p;
  } catch (e) {
    return e;
  }
  throw new Error('expected a rejection');
}

export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
  json?: any;
}

/** One raw HTTP request (no keep-alive), for protocol-level tests. */
export function raw(
  emu: Emulator,
  opts: { method?: string; path?: string; body?: string | Buffer; headers?: Record<string, string> },
): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      { host: emu.host, port: emu.port, method: opts.method ?? 'GET', path: opts.path ?? '/', headers: { connection: 'close', ...(opts.headers ?? {}) }, agent: false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const body = Buffer.concat(chunks).toString('utf8');
          let json: any;
          try {
            json = JSON.parse(body);
          } catch {
            json = undefined;
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body, json });
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    if (opts.body !== undefined) req.write(opts.body);
    req.end();
  });
}

export function isoNow(ms = Date.now()): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** Builds a v1-signed query string the way pop-core would (for GET tests and hand-made edge cases). */
export function signedQuery(params: Record<string, string>, opts: { method?: string; secret?: string } = {}): string {
  const all = new Map<string, string>(
    Object.entries({
      Format: 'JSON',
      Version: '2016-04-28',
      AccessKeyId: CREDS.accessKeyId,
      SignatureMethod: 'HMAC-SHA1',
      SignatureVersion: '1.0',
      SignatureNonce: randomUUID(),
      Timestamp: isoNow(),
      ...params,
    }),
  );
  const sig = v1Sign(opts.secret ?? CREDS.accessKeySecret, v1StringToSign(opts.method ?? 'GET', all));
  return [...all.entries(), ['Signature', sig] as const].map(([k, v]) => `${percentEncode(k)}=${percentEncode(v)}`).join('&');
}

/** One admin API call with the emulator's token, as an embedding process or the bench makes it. */
export function admin(emu: Emulator, method: 'GET' | 'POST', path: string, body?: unknown, headers: Record<string, string> = {}): Promise<RawResponse> {
  return raw(emu, {
    method,
    path,
    body: body === undefined ? undefined : JSON.stringify(body),
    headers: { authorization: `Bearer ${emu.adminToken}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
  });
}

/** A clock the test moves by hand: VPN tasks end when the test says so, never by sleeping. */
export function manualClock(start = Date.now()): { now: () => number; advance: (ms: number) => void } {
  let t = start;
  return { now: () => t, advance: (ms: number) => void (t += ms) };
}

/** A single-tunnel and a dual-tunnel VPN gateway in REGION (IPs in 47.96/16, away from the tests' customer gateways). */
export const SINGLE_GW = 'vpn-single0000000000000';
export const DUAL_GW = 'vpn-dual00000000000000';
export const VPN_FIXTURES = [
  { RegionId: REGION, VpnGatewayId: SINGLE_GW, InternetIp: '47.96.0.1' },
  { RegionId: REGION, VpnGatewayId: DUAL_GW, InternetIp: '47.96.0.2', DisasterRecoveryInternetIp: '47.96.0.3' },
];

/** pop-core (v1, POST) with the raw parameter names, answering the parsed body or throwing the SDK's error. */
export async function call(emu: Emulator, action: string, params: Record<string, unknown>, creds: Credentials = CREDS): Promise<any> {
  const out = await rpc(emu, creds).request(action, { RegionId: REGION, ...params }, { method: 'POST' });
  // pop-core's JSON parser hands back null-prototype objects; plain ones compare with deepEqual.
  return JSON.parse(JSON.stringify(out));
}
