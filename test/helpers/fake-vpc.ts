// An in-memory VpcClient with ClientToken semantics and scripted failures, for executor unit tests.
import { CloudError, classifyCode } from '../../src/cloud/errors.js';
import type { CreateGatewayInput, CustomerGateway, ModifyGatewayInput, VpcClient } from '../../src/cloud/types.js';
import type { Tag } from '../../src/types.js';

export type Script = (input: CreateGatewayInput, call: number) => 'ok' | 'commit-drop' | string | undefined;

export class FakeVpc implements Partial<VpcClient> {
  readonly endpoint = 'fake://';
  readonly accessKeyId = 'AK';
  gateways: CustomerGateway[] = [];
  tokens = new Map<string, { id: string; params: string }>();
  calls: CreateGatewayInput[] = [];
  listCalls = 0;
  private n = 0;
  private made = 0;
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
    // A counter, not the list length: ids must stay unique after deletes.
    const id = `cgw-${String(++this.made).padStart(21, '0')}`;
    this.gateways.push({ id, regionId: input.regionId, ip: input.ipAddress, name: input.name, asn: input.asn, createTime: 1, tags: input.tags ?? [] });
    if (input.clientToken) this.tokens.set(input.clientToken, { id, params });
    if (verdict === 'commit-drop') throw new CloudError({ code: 'ECONNRESET', message: 'reset', errorClass: 'transient', outcomeUnknown: true });
    return { id, requestId: `RID-${call}`, createTime: 1 };
  }

  /** Every day-2 call in order, e.g. `Modify cgw-1 name,authKey`, `Delete cgw-1`; `failDay2` scripts their errors. */
  day2: string[] = [];
  failDay2: (call: string, n: number) => string | undefined = () => undefined;
  private day2Call(call: string): void {
    this.day2.push(call);
    const code = this.failDay2(call, this.day2.length);
    if (code) throw this.err(code);
  }
  private find(regionId: string, id: string): CustomerGateway {
    const g = this.gateways.find((x) => x.id === id && x.regionId === regionId);
    if (!g) throw this.err('InvalidCustomerGatewayInstanceId.NotFound');
    return g;
  }

  async modifyCustomerGatewayAttribute(input: ModifyGatewayInput) {
    const fields = (['name', 'description', 'authKey'] as const).filter((k) => input[k] !== undefined);
    this.day2Call(`Modify ${input.id} ${fields.join(',')}`);
    const g = this.find(input.regionId, input.id);
    if (input.name !== undefined) g.name = input.name;
    if (input.description !== undefined) g.description = input.description;
    if (input.authKey !== undefined) g.authKey = input.authKey;
    return { requestId: `RID-${++this.n}` };
  }

  async deleteCustomerGateway(input: { regionId: string; id: string }) {
    this.day2Call(`Delete ${input.id}`);
    this.find(input.regionId, input.id);
    this.gateways = this.gateways.filter((g) => g.id !== input.id);
    return { requestId: `RID-${++this.n}` };
  }

  async tagResources(input: { regionId: string; resourceIds: string[]; tags: Tag[] }) {
    this.day2Call(`Tag ${input.resourceIds.join(',')} ${input.tags.map((t) => `${t.key}=${t.value}`).join(',')}`);
    const g = this.find(input.regionId, input.resourceIds[0]!);
    for (const t of input.tags) g.tags = [...g.tags.filter((x) => x.key !== t.key), t];
    return { requestId: `RID-${++this.n}` };
  }

  async untagResources(input: { regionId: string; resourceIds: string[]; tagKeys?: string[] }) {
    this.day2Call(`UnTag ${input.resourceIds.join(',')} ${(input.tagKeys ?? []).join(',')}`);
    const g = this.find(input.regionId, input.resourceIds[0]!);
    g.tags = g.tags.filter((t) => !(input.tagKeys ?? []).includes(t.key));
    return { requestId: `RID-${++this.n}` };
  }

  async listCustomerGateways(regionId: string) {
    this.listCalls++;
    return this.gateways.filter((g) => g.regionId === regionId);
  }

  /** One page, as the executor's reconciliation asks for them (a listing counts once, at its first page). */
  async describeCustomerGateways(input: { regionId: string; pageNumber?: number; pageSize?: number }) {
    const page = input.pageNumber ?? 1;
    const size = input.pageSize ?? 50;
    if (page === 1) this.listCalls++;
    const all = this.gateways.filter((g) => g.regionId === input.regionId);
    return { items: all.slice((page - 1) * size, page * size), totalCount: all.length, pageNumber: page, pageSize: size, requestId: `RID-${++this.n}` };
  }
}

export function asClient(f: FakeVpc): VpcClient {
  return f as unknown as VpcClient;
}
