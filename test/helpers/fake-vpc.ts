// An in-memory VpcClient with ClientToken semantics and scripted failures, for executor unit tests.
import { CloudError, classifyCode } from '../../src/cloud/errors.js';
import type { CreateGatewayInput, CustomerGateway, VpcClient } from '../../src/cloud/types.js';

export type Script = (input: CreateGatewayInput, call: number) => 'ok' | 'commit-drop' | string | undefined;

export class FakeVpc implements Partial<VpcClient> {
  readonly endpoint = 'fake://';
  readonly accessKeyId = 'AK';
  gateways: CustomerGateway[] = [];
  tokens = new Map<string, { id: string; params: string }>();
  calls: CreateGatewayInput[] = [];
  listCalls = 0;
  private n = 0;
  constructor(private readonly script: Script = () => 'ok') {}

  private err(code: string): CloudError {
    const status = code === 'OperationConflict' ? 409 : code === 'ServiceUnavailable' ? 503 : code === 'InternalError' ? 500 : 400;
    return new CloudError({ code, message: `${code} (fake)`, status, requestId: `RID-${this.n}`, errorClass: classifyCode(code, status), retryAfterMs: code.startsWith('Throttling') ? 50 : undefined, outcomeUnknown: status >= 500 });
  }

  async createCustomerGateway(input: CreateGatewayInput) {
    this.calls.push(input);
    const call = ++this.n;
    const verdict = this.script(input, call) ?? 'ok';
    if (verdict !== 'ok' && verdict !== 'commit-drop') throw this.err(verdict);
    const params = JSON.stringify({ ...input, clientToken: undefined });
    const known = input.clientToken ? this.tokens.get(input.clientToken) : undefined;
    if (known) {
      if (known.params !== params) throw this.err('IdempotentParameterMismatch');
      if (verdict === 'commit-drop') throw new CloudError({ code: 'ECONNRESET', message: 'reset', errorClass: 'transient', outcomeUnknown: true });
      return { id: known.id, requestId: `RID-${call}`, createTime: 1 };
    }
    if (this.gateways.some((g) => g.ip === input.ipAddress && g.regionId === input.regionId)) throw this.err('InvalidIpAddress.AlreadyExist');
    const id = `cgw-${String(this.gateways.length + 1).padStart(21, '0')}`;
    this.gateways.push({ id, regionId: input.regionId, ip: input.ipAddress, name: input.name, asn: input.asn, createTime: 1, tags: input.tags ?? [] });
    if (input.clientToken) this.tokens.set(input.clientToken, { id, params });
    if (verdict === 'commit-drop') throw new CloudError({ code: 'ECONNRESET', message: 'reset', errorClass: 'transient', outcomeUnknown: true });
    return { id, requestId: `RID-${call}`, createTime: 1 };
  }

  async listCustomerGateways(regionId: string) {
    this.listCalls++;
    return this.gateways.filter((g) => g.regionId === regionId);
  }
}

export function asClient(f: FakeVpc): VpcClient {
  return f as unknown as VpcClient;
}
