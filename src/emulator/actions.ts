// The customer-gateway, tag and region actions, and the registry of every action (VPN ones in vpn-actions.ts).
import { err, missing } from './api-error.js';
import {
  cgwNotFound,
  defaultResourceGroup,
  flags,
  region,
  remember,
  replay,
  tokenOf,
  type ActionContext,
  type ActionDef,
  type Body,
} from './action-kit.js';
import { REGIONS, regionEndpoint } from './regions.js';
import { hashParams, type GatewayRecord } from './store.js';
import { connectionsUsing, startGatewayTasks, VPN_ACTIONS } from './vpn-actions.js';
import {
  collectList,
  collectTags,
  intParam,
  matchesTags,
  validateCreate,
  validateModify,
  validateTagFilters,
  validateTagResourcesTags,
  type TagKV,
} from './validate.js';

function gatewayView(g: GatewayRecord): Body {
  const out: Body = {
    CustomerGatewayId: g.CustomerGatewayId,
    Name: g.Name,
    Description: g.Description,
    IpAddress: g.IpAddress,
  };
  // No ASN set: the field is left out (the real value for that case is undocumented; clients treat absent and 0 alike).
  if (g.Asn !== undefined) out.Asn = g.Asn;
  if (g.AuthKey !== undefined) out.AuthKey = g.AuthKey;
  out.CreateTime = g.CreateTime;
  out.ResourceGroupId = g.ResourceGroupId;
  out.Tags = { Tag: g.Tags.map((t) => ({ Key: t.Key, Value: t.Value })) };
  return out;
}

function createCustomerGateway(ctx: ActionContext): Body {
  const f = flags(ctx);
  if (f.noRamPermission)
    throw err(400, 'OperationFailed.NoRamPermission', 'Vpn Service has no permission to operate your IDaaS instances.');
  const input = validateCreate(ctx.params);
  const token = tokenOf(ctx);
  const rg = input.ResourceGroupId ?? defaultResourceGroup(ctx.accountId);
  const paramsHash = hashParams({ ...input, ResourceGroupId: rg });
  const r = region(ctx);
  const dupIp = () => {
    for (const g of r.gateways.values())
      if (g.IpAddress === input.IpAddress) throw err(400, 'InvalidIpAddress.AlreadyExist', 'Specified IpAddress is already exist.');
  };
  if (ctx.settings.duplicateIpCheckBeforeToken) dupIp();
  const replayed = replay(ctx, 'CreateCustomerGateway', token, paramsHash);
  if (replayed) return replayed;
  if (!ctx.settings.duplicateIpCheckBeforeToken) dupIp();
  if (r.gateways.size >= ctx.settings.quota) throw err(400, 'Resource.QuotaFull', 'The quota of resource is full');
  if (f.userGatewayQuotaFull)
    throw err(400, 'CreateVpnUserGatewayQuotaFull.QuotaFull', 'The number of created VPN customer gateways exceeds the quota.');
  const g: GatewayRecord = {
    CustomerGatewayId: ctx.newGatewayId(),
    IpAddress: input.IpAddress,
    Name: input.Name,
    Description: input.Description,
    CreateTime: ctx.now,
    ResourceGroupId: rg,
    Tags: input.Tags,
    ClientTokens: token === undefined ? [] : [token],
  };
  if (input.Asn !== undefined) g.Asn = input.Asn;
  if (input.AuthKey !== undefined) g.AuthKey = input.AuthKey;
  r.gateways.set(g.CustomerGatewayId, g);
  const response = writeView(g);
  remember(ctx, 'CreateCustomerGateway', token, paramsHash, response);
  ctx.store.changed();
  return response;
}

/** What Create and Modify answer (Modify adds ResourceGroupId); no AuthKey, unlike the Describe views. */
function writeView(g: GatewayRecord): Body {
  return { CustomerGatewayId: g.CustomerGatewayId, IpAddress: g.IpAddress, Name: g.Name, Description: g.Description, CreateTime: g.CreateTime };
}


function describeCustomerGateways(ctx: ActionContext): Body {
  // Out-of-range paging is refused (InvalidParameter 400) rather than clamped: a client bug should be loud.
  const pageNumber = intParam(ctx.params, 'PageNumber', 1, 1_000_000_000) ?? 1;
  const pageSize = intParam(ctx.params, 'PageSize', 1, 50) ?? 10;
  const filters = validateTagFilters(ctx.params);
  const id = ctx.params.get('CustomerGatewayId') || undefined;
  const rg = ctx.params.get('ResourceGroupId') || undefined;
  const all = [...region(ctx).gateways.values()].filter(
    (g) =>
      (id === undefined || g.CustomerGatewayId === id) &&
      (rg === undefined || g.ResourceGroupId === rg) &&
      matchesTags(g, filters),
  );
  const page = all.slice((pageNumber - 1) * pageSize, pageNumber * pageSize);
  return {
    PageNumber: pageNumber,
    PageSize: pageSize,
    TotalCount: all.length,
    CustomerGateways: { CustomerGateway: page.map(gatewayView) },
  };
}

function describeCustomerGateway(ctx: ActionContext): Body {
  const g = region(ctx).gateways.get(ctx.params.get('CustomerGatewayId') ?? '');
  if (!g) throw cgwNotFound();
  return gatewayView(g);
}

function modifyCustomerGatewayAttribute(ctx: ActionContext): Body {
  const id = ctx.params.get('CustomerGatewayId') ?? '';
  const input = validateModify(ctx.params);
  const token = tokenOf(ctx);
  const paramsHash = hashParams({ id, ...input });
  const replayed = replay(ctx, 'ModifyCustomerGatewayAttribute', token, paramsHash);
  if (replayed) return replayed;
  const g = region(ctx).gateways.get(id);
  if (!g) throw cgwNotFound();
  const f = flags(ctx);
  if (f.financialLocked)
    throw err(400, 'OperationDenied.VpnFinancialLocked', 'The operation is not allowed because the VPN gateway has overdue payments.');
  if (f.vpnConfiguring)
    throw err(400, 'OperationDenied.VpnConfiguring', 'The operation is not allowed because the VPN gateway is being configured.');
  if (input.AuthKey !== undefined && g.Asn === undefined)
    throw err(
      400,
      'OperationDenied.MissingAsn',
      'The ASN of the customer gateway is mandatory when a BGP authentication key is specified.',
    );
  // With an AuthKey the change is asynchronous: every VPN gateway with a connection on this customer gateway
  // reconfigures (vpc-api.md §6), and none may be busy already.
  const gatewayIds = input.AuthKey !== undefined ? [...new Set(connectionsUsing(region(ctx), id).map((c) => c.VpnGatewayId))] : [];
  if (!startGatewayTasks(ctx, gatewayIds))
    throw err(400, 'OperationDenied.VpnConfiguring', 'The operation is not allowed because the VPN gateway is being configured.');
  if (input.Name !== undefined) g.Name = input.Name;
  if (input.Description !== undefined) g.Description = input.Description;
  if (input.AuthKey !== undefined) g.AuthKey = input.AuthKey;
  const response: Body = { ...writeView(g), ResourceGroupId: g.ResourceGroupId };
  remember(ctx, 'ModifyCustomerGatewayAttribute', token, paramsHash, response);
  ctx.store.changed();
  return response;
}

function deleteCustomerGateway(ctx: ActionContext): Body {
  const id = ctx.params.get('CustomerGatewayId') ?? '';
  const token = tokenOf(ctx);
  const paramsHash = hashParams({ id });
  const replayed = replay(ctx, 'DeleteCustomerGateway', token, paramsHash);
  if (replayed) return replayed;
  const r = region(ctx);
  const g = r.gateways.get(id);
  if (!g) throw cgwNotFound();
  if (flags(ctx).vpnConfiguring)
    throw err(400, 'VpnGateway.task.conflict', 'The VPN is in the configuration state, please try again later.');
  // A connection being deleted still counts until its task is over.
  if (connectionsUsing(r, id).length > 0)
    throw err(400, 'DependencyViolation.VpnConnection', 'There are vpn connections on specified customer gateway not deleted.');
  r.gateways.delete(id); // its tags go with it
  remember(ctx, 'DeleteCustomerGateway', token, paramsHash, {});
  ctx.store.changed();
  return {};
}

/** The tag APIs' resource types this emulator has (case-insensitive on the wire, upper case in answers). */
type TaggableType = 'CUSTOMERGATEWAY' | 'VPNCONNECTION' | 'VPNGATEWAY';

interface Taggable {
  id: string;
  Tags: TagKV[];
}

function resourceType(ctx: ActionContext): TaggableType {
  const t = (ctx.params.get('ResourceType') ?? '').toUpperCase();
  if (t === 'CUSTOMERGATEWAY' || t === 'VPNCONNECTION' || t === 'VPNGATEWAY') return t;
  throw err(400, 'InvalidInstanceType.NotFound', 'The specified ResourceType is not supported.');
}

/** Every resource of the type in the region, in listing order. */
function taggables(ctx: ActionContext, type: TaggableType): Map<string, Taggable> {
  const r = region(ctx);
  const out = new Map<string, Taggable>();
  if (type === 'CUSTOMERGATEWAY') for (const g of r.gateways.values()) out.set(g.CustomerGatewayId, tagHandle(g, g.CustomerGatewayId));
  if (type === 'VPNCONNECTION') for (const c of r.connections.values()) out.set(c.VpnConnectionId, tagHandle(c, c.VpnConnectionId));
  if (type === 'VPNGATEWAY') for (const g of r.vpnGateways.values()) out.set(g.VpnGatewayId, tagHandle(g, g.VpnGatewayId));
  return out;
}

/** A live view of a record's tags: setting `Tags` on the handle sets them on the record. */
function tagHandle(rec: { Tags: TagKV[] }, id: string): Taggable {
  return {
    id,
    get Tags() {
      return rec.Tags;
    },
    set Tags(v: TagKV[]) {
      rec.Tags = v;
    },
  };
}

function resourceIds(ctx: ActionContext, required: boolean): string[] {
  const ids = collectList(ctx.params, 'ResourceId');
  if (required && ids.length === 0) throw missing('ResourceId');
  if (ids.length > 50) throw err(400, 'SizeLimitExceeded.ResourceId', 'The maximum number of resource ids is exceeded.');
  return ids;
}

function existing(ctx: ActionContext, type: TaggableType, ids: string[]): Taggable[] {
  const all = taggables(ctx, type);
  return [...new Set(ids)].map((id) => {
    const g = all.get(id);
    if (!g) throw err(400, 'InvalidInstanceIds.NotFound', 'The specified resource ids are not found.');
    return g;
  });
}

function tagResources(ctx: ActionContext): Body {
  const gws = existing(ctx, resourceType(ctx), resourceIds(ctx, true));
  const tags = validateTagResourcesTags(ctx.params);
  // All-or-nothing: check every resource's resulting tag count before changing any of them.
  const merged = gws.map((g) => {
    const next: TagKV[] = g.Tags.map((t) => ({ ...t }));
    for (const t of tags) {
      const existing = next.find((x) => x.Key === t.Key);
      if (existing) existing.Value = t.Value; // an existing key is overwritten, as Terraform relies on
      else next.push({ ...t });
    }
    if (next.length > 20) throw err(400, 'QuotaExceeded.TagNum', 'The number of tags on the resource exceeds the quota of 20.');
    return next;
  });
  gws.forEach((g, i) => (g.Tags = merged[i] ?? g.Tags));
  ctx.store.changed();
  return {};
}

function unTagResources(ctx: ActionContext): Body {
  const gws = existing(ctx, resourceType(ctx), resourceIds(ctx, true));
  const keys = collectList(ctx.params, 'TagKey');
  if (keys.length > 20) throw err(400, 'SizeLimitExceeded.TagNum', 'The maximum number of tags is exceeded.');
  const allRaw = (ctx.params.get('All') ?? '').toLowerCase();
  if (allRaw !== '' && allRaw !== 'true' && allRaw !== 'false')
    throw err(400, 'InvalidParameter', 'The specified parameter All is not valid.');
  const all = allRaw === 'true';
  if (!all && keys.length === 0) throw missing('TagKey');
  for (const g of gws) g.Tags = all ? [] : g.Tags.filter((t) => !keys.includes(t.Key));
  ctx.store.changed();
  return {};
}

const NEXT_TOKEN_PREFIX: Record<TaggableType, string> = { CUSTOMERGATEWAY: 'cgwnt-', VPNCONNECTION: 'vcont-', VPNGATEWAY: 'vpnnt-' };

function listTagResources(ctx: ActionContext): Body {
  const type = resourceType(ctx);
  const ids = resourceIds(ctx, false);
  const rawFilters = collectTags(ctx.params, 'Tag');
  if (rawFilters.length > 20) throw err(400, 'SizeLimitExceeded.TagNum', 'The maximum number of tags is exceeded.');
  const filters = rawFilters.map((f) => {
    if (f.Key === undefined || f.Key === '') throw err(400, 'MissingParameter.TagKey', 'Tag.N.Key is mandatory for this action.');
    return { Key: f.Key, Value: f.Value === '' ? undefined : f.Value };
  });
  if (ids.length === 0 && filters.length === 0)
    throw err(400, 'BothEmpty.TagsAndResources', 'ResourceId and Tag cannot both be empty.');
  const maxResults = intParam(ctx.params, 'MaxResults', 1, 50) ?? 50;
  const next = ctx.params.get('NextToken') ?? '';
  const prefix = NEXT_TOKEN_PREFIX[type];
  let offset = 0;
  if (next !== '') {
    const m = /^([a-z]+nt-)(\d{1,9})$/.exec(next);
    if (!m || m[1] !== prefix) throw err(400, 'InvalidNextToken', 'The specified NextToken is not valid.');
    offset = Number(m[2]);
  }
  const all = taggables(ctx, type);
  const gws = ids.length > 0 ? [...new Set(ids)].flatMap((id) => all.get(id) ?? []) : [...all.values()];
  // Resources that match every filter are listed with all their tags.
  const rows = gws
    .filter((g) => matchesTags(g, filters))
    .flatMap((g) => g.Tags.map((t) => ({ ResourceType: type, ResourceId: g.id, TagKey: t.Key, TagValue: t.Value })));
  const page = rows.slice(offset, offset + maxResults);
  const end = offset + maxResults;
  return { NextToken: end < rows.length ? `${prefix}${end}` : '', TagResources: { TagResource: page } };
}

function describeRegions(ctx: ActionContext): Body {
  const en = (ctx.params.get('AcceptLanguage') ?? '').toLowerCase() === 'en-us';
  return {
    Regions: {
      Region: REGIONS.map((r) => ({ RegionId: r.id, LocalName: en ? r.en : r.zh, RegionEndpoint: regionEndpoint(r.id) })),
    },
  };
}

export const ACTIONS: ReadonlyMap<string, ActionDef> = new Map<string, ActionDef>([
  ['CreateCustomerGateway', { required: ['IpAddress'], regionRequired: true, subUserCode: 'Forbidden.SubUser', mutates: true, run: createCustomerGateway }],
  ['DescribeCustomerGateways', { required: [], regionRequired: true, subUserCode: 'Forbbiden.SubUser', run: describeCustomerGateways }],
  ['DescribeCustomerGateway', { required: ['CustomerGatewayId'], regionRequired: true, subUserCode: 'Forbidden.SubUser', run: describeCustomerGateway }],
  [
    'ModifyCustomerGatewayAttribute',
    { required: ['CustomerGatewayId'], regionRequired: true, subUserCode: 'Forbbiden.SubUser', mutates: true, run: modifyCustomerGatewayAttribute },
  ],
  [
    'DeleteCustomerGateway',
    { required: ['CustomerGatewayId'], regionRequired: true, subUserCode: 'Forbbiden.SubUser', mutates: true, run: deleteCustomerGateway },
  ],
  // The tag APIs document only `Forbidden` (403) for permission problems.
  ['TagResources', { required: ['ResourceType'], regionRequired: true, subUserCode: 'Forbidden', mutates: true, run: tagResources }],
  ['UnTagResources', { required: ['ResourceType'], regionRequired: true, subUserCode: 'Forbidden', mutates: true, run: unTagResources }],
  ['ListTagResources', { required: ['ResourceType'], regionRequired: true, subUserCode: 'Forbidden', run: listTagResources }],
  ['DescribeRegions', { required: [], regionRequired: false, run: describeRegions }],
  ...VPN_ACTIONS,
]);

/** Mutating actions: the ones commit-drop and commit-500 apply to (and whose success is worth persisting). */
export const MUTATIONS: ReadonlySet<string> = new Set([...ACTIONS].filter(([, d]) => d.mutates).map(([name]) => name));
