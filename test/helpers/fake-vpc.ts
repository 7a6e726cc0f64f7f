// An in-memory VpcClient with ClientToken semantics and scripted failures, for executor unit tests: customer gateways,
// and VPN gateways with their IPsec connections (a task per write on a clock, busy answers, the client's PSK rule).
import type { Clock } from '../../src/clock.js';
import { CloudError, classifyCode } from '../../src/cloud/errors.js';
import type {
  CreateGatewayInput,
  CreateVpnConnectionInput,
  CustomerGateway,
  ModifyGatewayInput,
  ModifyVpnConnectionInput,
  VpcClient,
  VpnConnection,
  VpnGateway,
} from '../../src/cloud/types.js';
import type { Tag } from '../../src/types.js';

/** A connection as the fake keeps it: the client's value plus what the client never returns (its PSKs). */
interface FakeConnection {
  value: VpnConnection;
  psks: string[];
  /** Gone once the gateway's task ends (a delete in progress). */
  deleting: boolean;
}

/** What a VPN write meets: ok, the change made and the answer lost (reset or 500), or an error code. */
export type VpnScript = (action: 'Create' | 'Modify' | 'Delete', call: number) => 'ok' | 'commit-drop' | 'commit-500' | string | undefined;

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

  async describeCustomerGateway(regionId: string, id: string) {
    return this.find(regionId, id);
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


/** A VpcClient double with VPN gateways: each connection write starts a task of `taskMs` on `clock`. */
export class FakeVpn extends FakeVpc {
  vpnGateways = new Map<string, VpnGateway & { busyUntil: number }>();
  connections = new Map<string, FakeConnection>();
  vpnTokens = new Map<string, { id: string; params: string }>();
  /** Every VPN call in order: `Create vpn-1`, `DescribeGw vpn-1 updating`, `Delete vco-1`, ... */
  vpnCalls: string[] = [];
  /** What the client's secret sink would receive (every PSK sent or seen). */
  sink: string[] = [];
  vpnScript: VpnScript = () => 'ok';
  taskMs = 2000;
  private vpnN = 0;
  private vcoMade = 0;
  private writes = 0;

  constructor(
    readonly clock: Clock,
    script?: Script,
  ) {
    super(script);
  }

  addVpnGateway(g: Partial<VpnGateway> & { id: string }): void {
    this.vpnGateways.set(g.id, { regionId: 'cn-hangzhou', internetIp: '47.96.0.1', ipsecVpn: 'enable', enableBgp: true, status: 'active', ...g, busyUntil: 0 });
  }

  private vErr(code: string, status = 400): CloudError {
    return new CloudError({ code, message: `${code} (fake)`, status, requestId: `VR-${this.vpnN}`, errorClass: classifyCode(code, status), outcomeUnknown: status >= 500 || classifyCode(code, status) === 'transient' });
  }

  /** Ends the tasks whose time has come: connections being deleted disappear, created ones are active. */
  private settle(): void {
    const now = this.clock.now();
    for (const [id, c] of this.connections) {
      const g = this.vpnGateways.get(c.value.vpnGatewayId);
      if (g && now < g.busyUntil) continue;
      if (c.deleting) this.connections.delete(id);
      else c.value.state = 'active';
    }
  }

  private gateway(regionId: string, id: string) {
    const g = this.vpnGateways.get(id);
    if (!g || g.regionId !== regionId) throw this.vErr('InvalidVpnGatewayInstanceId.NotFound', 404);
    return g;
  }

  private busy(g: { busyUntil: number; status: string }): boolean {
    return this.clock.now() < g.busyUntil || g.status !== 'active';
  }

  /** The script's verdict for a write, counted per call; throws its error code before anything is done. */
  private verdict(action: 'Create' | 'Modify' | 'Delete'): string {
    const v = this.vpnScript(action, ++this.writes) ?? 'ok';
    if (v !== 'ok' && v !== 'commit-drop' && v !== 'commit-500') throw this.vErr(v, v === 'InternalError' ? 500 : 400);
    return v;
  }

  private lost(v: string): void {
    if (v === 'commit-drop') throw new CloudError({ code: 'ECONNRESET', message: 'the connection failed (ECONNRESET)', errorClass: 'transient', outcomeUnknown: true });
    if (v === 'commit-500') throw this.vErr('InternalError', 500);
  }

  async describeVpnGateway(regionId: string, id: string): Promise<VpnGateway> {
    this.settle();
    const g = this.gateway(regionId, id);
    const status = this.clock.now() < g.busyUntil ? 'updating' : g.status;
    this.vpnCalls.push(`DescribeGw ${id} ${status}`);
    const { busyUntil: _b, ...v } = g;
    return { ...v, status };
  }

  async listVpnGateways(regionId: string): Promise<VpnGateway[]> {
    return Promise.all([...this.vpnGateways.values()].filter((g) => g.regionId === regionId).map((g) => this.describeVpnGateway(regionId, g.id)));
  }

  async createVpnConnection(input: CreateVpnConnectionInput) {
    this.settle();
    this.vpnN++;
    const v = this.verdict('Create');
    for (const t of input.tunnels) if (t.psk) this.sink.push(t.psk);
    const params = JSON.stringify({ ...input, clientToken: undefined });
    const known = input.clientToken ? this.vpnTokens.get(input.clientToken) : undefined;
    if (known) {
      if (known.params !== params) throw this.vErr('IdempotentParameterMismatch');
      this.vpnCalls.push(`Create ${input.vpnGatewayId} replay ${known.id}`);
      this.lost(v);
      return { id: known.id, requestId: `VR-${this.vpnN}` };
    }
    const g = this.gateway(input.regionId, input.vpnGatewayId);
    for (const t of input.tunnels) if (!this.gateways.some((x) => x.id === t.customerGatewayId)) throw this.vErr('InvalidCustomerGatewayInstanceId.NotFound', 404);
    if (this.busy(g)) {
      this.vpnCalls.push(`Create ${input.vpnGatewayId} busy`);
      throw this.vErr('VpnGateway.Configuring');
    }
    const id = `vco-${String(++this.vcoMade).padStart(8, '0')}`;
    const dual = input.tunnels.length > 1;
    const psks = input.tunnels.map((t) => t.psk ?? `generated-${id}`);
    for (const p of psks) this.sink.push(p);
    this.connections.set(id, {
      psks,
      deleting: false,
      value: {
        id,
        regionId: input.regionId,
        vpnGatewayId: input.vpnGatewayId,
        ...(dual ? {} : { customerGatewayId: input.tunnels[0]!.customerGatewayId }),
        ...(input.name !== undefined ? { name: input.name } : {}),
        localSubnet: [...input.localSubnet],
        remoteSubnet: [...input.remoteSubnet],
        effectImmediately: input.effectImmediately ?? false,
        state: 'provisioning',
        status: 'ike_sa_not_established',
        tunnels: input.tunnels.map(({ psk: _p, ...t }, i) => ({ ...t, ...(dual ? { tunnelId: `tun-${id}-${i + 1}` } : {}) })),
        dualTunnel: dual,
        tags: [...(input.tags ?? [])],
        createTime: this.clock.now(),
      },
    });
    if (input.clientToken) this.vpnTokens.set(input.clientToken, { id, params });
    g.busyUntil = this.clock.now() + this.taskMs;
    this.vpnCalls.push(`Create ${input.vpnGatewayId} ${id}`);
    this.lost(v);
    return { id, requestId: `VR-${this.vpnN}` };
  }

  private conn(regionId: string, id: string): FakeConnection {
    this.settle();
    const c = this.connections.get(id);
    if (!c || c.value.regionId !== regionId) throw this.vErr('InvalidVpnConnectionInstanceId.NotFound', 404);
    return c;
  }

  async describeVpnConnection(regionId: string, id: string): Promise<VpnConnection> {
    const c = this.conn(regionId, id);
    for (const p of c.psks) this.sink.push(p);
    this.vpnCalls.push(`DescribeVco ${id}`);
    return structuredClone(c.value);
  }

  async readVpnConnectionPsks(regionId: string, id: string): Promise<string[]> {
    const c = this.conn(regionId, id);
    this.vpnCalls.push(`ReadPsks ${id}`);
    return [...c.psks];
  }

  async listVpnConnections(regionId: string, filter: { vpnGatewayId?: string; customerGatewayId?: string; tags?: Tag[] }): Promise<VpnConnection[]> {
    this.settle();
    this.vpnCalls.push(`ListVco ${filter.vpnGatewayId ?? '*'} ${filter.customerGatewayId ?? '*'}`);
    return [...this.connections.values()]
      .map((c) => c.value)
      .filter(
        (c) =>
          c.regionId === regionId &&
          (filter.vpnGatewayId === undefined || c.vpnGatewayId === filter.vpnGatewayId) &&
          (filter.customerGatewayId === undefined || c.tunnels.some((t) => t.customerGatewayId === filter.customerGatewayId)) &&
          (filter.tags ?? []).every((w) => c.tags.some((t) => t.key === w.key && t.value === w.value)),
      )
      .map((c) => structuredClone(c));
  }

  async modifyVpnConnectionAttribute(input: ModifyVpnConnectionInput) {
    this.vpnN++;
    const v = this.verdict('Modify');
    const c = this.conn(input.regionId, input.id);
    const g = this.gateway(input.regionId, c.value.vpnGatewayId);
    if (this.busy(g)) {
      this.vpnCalls.push(`Modify ${input.id} busy`);
      throw this.vErr('VpnGateway.Configuring');
    }
    const parts = Object.keys(input).filter((k) => !['regionId', 'id', 'clientToken', 'tunnels'].includes(k));
    if (input.localSubnet) c.value.localSubnet = [...input.localSubnet];
    if (input.remoteSubnet) c.value.remoteSubnet = [...input.remoteSubnet];
    if (input.name !== undefined) c.value.name = input.name;
    if (input.effectImmediately !== undefined) c.value.effectImmediately = input.effectImmediately;
    (input.tunnels ?? []).forEach((e, i) => {
      const at = e.tunnelId !== undefined ? c.value.tunnels.findIndex((t) => t.tunnelId === e.tunnelId) : i;
      const t = c.value.tunnels[at];
      if (!t) throw this.vErr('IllegalParam.TunnelId');
      if (e.psk !== undefined) {
        c.psks[at] = e.psk;
        this.sink.push(e.psk);
        parts.push(`psk${at + 1}`);
      }
      if (e.ike) {
        t.ike = { ...t.ike, ...e.ike };
        parts.push(`ike${at + 1}:${Object.keys(e.ike).join('+')}`);
      }
      if (e.ipsec) {
        t.ipsec = { ...t.ipsec, ...e.ipsec };
        parts.push(`ipsec${at + 1}:${Object.keys(e.ipsec).join('+')}`);
      }
      if (e.bgp) t.bgp = { ...e.bgp };
    });
    c.value.state = 'updating';
    g.busyUntil = this.clock.now() + this.taskMs;
    this.vpnCalls.push(`Modify ${input.id} ${parts.join(',')}`);
    this.lost(v);
    return { requestId: `VR-${this.vpnN}` };
  }

  async deleteVpnConnection(input: { regionId: string; id: string; clientToken?: string }) {
    this.vpnN++;
    const v = this.verdict('Delete');
    const c = this.conn(input.regionId, input.id);
    const g = this.gateway(input.regionId, c.value.vpnGatewayId);
    if (c.deleting) {
      this.vpnCalls.push(`Delete ${input.id} replay`);
      return { requestId: `VR-${this.vpnN}` };
    }
    if (this.busy(g)) {
      this.vpnCalls.push(`Delete ${input.id} busy`);
      throw this.vErr('VpnGateway.Configuring');
    }
    c.deleting = true;
    c.value.state = 'updating';
    g.busyUntil = this.clock.now() + this.taskMs;
    this.vpnCalls.push(`Delete ${input.id}`);
    this.lost(v);
    return { requestId: `VR-${this.vpnN}` };
  }

  /** A customer gateway still used by a connection cannot be deleted (the API's DependencyViolation.VpnConnection). */
  override async deleteCustomerGateway(input: { regionId: string; id: string }) {
    this.settle();
    if ([...this.connections.values()].some((c) => c.value.tunnels.some((t) => t.customerGatewayId === input.id))) {
      this.day2.push(`Delete ${input.id} in use`);
      throw this.vErr('DependencyViolation.VpnConnection');
    }
    return super.deleteCustomerGateway(input);
  }

  /** Connections by gateway and customer gateway, for assertions (tags and PSKs kept out). */
  summary(): string[] {
    this.settle();
    return [...this.connections.values()].map((c) => `${c.value.id} ${c.value.vpnGatewayId} ${c.value.tunnels.map((t) => t.customerGatewayId).join('+')} ${c.value.state}`);
  }
}

export function asClient(f: FakeVpc): VpcClient {
  return f as unknown as VpcClient;
}
