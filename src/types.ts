// Plain data shared by every stage: manifest rows, issues, plans and row results. No behaviour here.

export type Severity = 'error' | 'warning' | 'info';

/**
 * One problem found in a row or a file. `code` is the API error code the row would get
 * (e.g. `IllegalParam.Asn`) or one of the tool's own codes (prefixed `Cgw.`) where the API has none.
 */
export interface Issue {
  severity: Severity;
  code: string;
  field: string;
  message: string;
  file: string;
  line: number;
  /** Spreadsheet cell the issue is about, as `Sheet!A1` (xlsx manifests only); print as `file:Sheet!A1`. */
  cell?: string;
}

export interface Tag {
  key: string;
  value: string;
}

/** The canonical manifest fields, as the loaders name them after header normalisation. */
export const FIELDS = [
  'region',
  'ip',
  'name',
  'description',
  'asn',
  'auth_key',
  'resource_group_id',
  'tags',
] as const;
export type Field = (typeof FIELDS)[number];

/**
 * A row exactly as written in the manifest: raw strings only, never cast.
 * `fields` holds the canonical fields that were present (after defaults for YAML);
 * `tags` holds tags from the `tags` cell (`k=v;k2=v2`), `tag:<Key>` columns and YAML maps, in source order;
 * `echo` holds every input column (original header -> raw value) for reports, AuthKey columns excluded.
 */
export interface WrittenRow {
  file: string;
  line: number;
  endLine: number;
  fields: Partial<Record<Field, string>>;
  tags: Tag[];
  echo: Record<string, string>;
  /** Problems the loader found in this row (e.g. `env:NAME` not set, malformed tag cell). */
  issues: Issue[];
  /** Secret references the loader could not resolve (their issues are among `issues`): see UnresolvedSecret. */
  unresolved?: UnresolvedSecret[];
}

/**
 * A secret the row refers to but the loader could not read (an `env:` variable that is not set, the key a results
 * file never carries): the secret is unknown, not absent. The planner (plan/secret-refs.ts) blocks only rows that
 * must send it now; the others plan as usual with a note that it was not compared.
 */
export interface UnresolvedSecret {
  /** The row field that holds the secret (`auth_key`; a PSK reference next). */
  field: string;
  /** The loader's issue for it (an error while the row must send the secret). */
  issue: Issue;
  /** Why it is unknown, for the note: `environment variable BGP_KEY is not set`. */
  why: string;
}

export type ManifestFormat = 'csv' | 'yaml' | 'xlsx';

/** A loaded manifest: rows plus file-level warnings. Fatal problems are thrown as ManifestError instead. */
export interface Manifest {
  file: string;
  format: ManifestFormat;
  /** sha256 hex of the file's bytes. */
  hash: string;
  /** Echo column names in source order (what reports print before their own columns). */
  columns: string[];
  rows: WrittenRow[];
  issues: Issue[];
  /** The manifest is a saved cgw-batch results file (CSV or workbook): its journal, when the file names it. */
  origin?: ManifestOrigin;
}

/**
 * A results file used as a manifest (the retry loop): it has our result columns; a results.xlsx also names the
 * journal it was written from (relative to its folder, absolute, and the journal's id).
 */
export interface ManifestOrigin {
  resultsFile: true;
  journal?: string;
  journalPath?: string;
  journalId?: string;
}

/** What the API is asked to create: validated, trimmed values. `asn` keeps its written form (`65000` or `1.10`). */
export interface GatewaySpec {
  region: string;
  ip: string;
  name?: string;
  description?: string;
  asn?: string;
  authKey?: string;
  resourceGroupId?: string;
  tags: Tag[];
}

/**
 * A row's identity, made once (by the planner, from the manifest or the journal) and carried by reference through
 * plan, executor, events and reports. `key` is the natural key `region/ip` (one IP per region per account).
 */
export interface RowRef {
  readonly key: string;
  readonly file: string;
  /** 1-based line (CSV/YAML) or sheet row (xlsx); 0 for a journal row whose key left the manifest. */
  readonly line: number;
  readonly region: string;
  readonly ip: string;
}

/** A row after validation. */
export interface Row {
  ref: RowRef;
  spec: GatewaySpec;
  echo: Record<string, string>;
  /** The row's IPsec-VPN connection (a site row: `vpn_gateway_id` given); absent on a customer-gateway-only row. */
  site?: SiteSpec;
  /** Secrets the row refers to that are unknown in this run (their fields are absent from `spec`, not empty). */
  unresolved?: UnresolvedSecret[];
}

/** IKE phase-1 parameters as the API names their values (CreateVpnConnection `IkeConfig`, without the PSK). */
export interface IkeParams {
  version: 'ikev1' | 'ikev2';
  mode: 'main' | 'aggressive';
  encAlg: 'aes' | 'aes192' | 'aes256' | 'des' | '3des';
  authAlg: 'md5' | 'sha1' | 'sha256' | 'sha384' | 'sha512';
  pfs: 'group1' | 'group2' | 'group5' | 'group14';
  /** Seconds, 0..86400. */
  lifetime: number;
  /** The VPN gateway side's identity (API default: the gateway's IP). */
  localId?: string;
  /** The branch side's identity (API default: the customer gateway's IP); an FQDN wants aggressive mode. */
  remoteId?: string;
}

/** IPsec phase-2 parameters (CreateVpnConnection `IpsecConfig`). */
export interface IpsecParams {
  encAlg: IkeParams['encAlg'];
  authAlg: IkeParams['authAlg'];
  pfs: 'disabled' | IkeParams['pfs'];
  /** Seconds, 0..86400. */
  lifetime: number;
}

/** A named set of IKE/IPsec/DPD/NAT-T parameters, defined once (`profiles:`) and referenced by rows (`ike_profile`). */
export interface IpsecProfile {
  ike: IkeParams;
  ipsec: IpsecParams;
  enableDpd: boolean;
  enableNatTraversal: boolean;
}

/** BGP over one tunnel: a /30 in 169.254.0.0/16 (unique per VPN gateway) and the gateway side's address inside it. */
export interface TunnelBgp {
  tunnelCidr: string;
  localBgpIp: string;
}

/**
 * Where a row's PSK comes from: an `env:NAME` reference (the value joins the Redactor at load and is never written),
 * `generate` (a CSPRNG key made at send time over the API's allowed characters; afterwards it lives only in the
 * cloud), or absent on the row (the API generates a 16-character key).
 */
export type PskSource = { kind: 'ref'; ref: string; value: string } | { kind: 'generate' };

/** The connection half of a site row, validated (values as the API spells them). */
export interface SiteSpec {
  vpnGatewayId: string;
  /** VPC-side CIDRs (`LocalSubnet`); `0.0.0.0/0` on both sides = destination routing. */
  localSubnet: string[];
  /** Branch-side CIDRs (`RemoteSubnet`). */
  remoteSubnet: string[];
  psk?: PskSource;
  /** `ike_profile`; absent: Alibaba's defaults. */
  profileName?: string;
  profile: IpsecProfile;
  /** `connection_name`. */
  name?: string;
  effectImmediately?: boolean;
  /** Tunnel 1's BGP (single tunnel: the connection's BgpConfig). */
  bgp?: TunnelBgp;
  /** `ip_2`: the branch's second public IP (its own customer gateway, same name/ASN/AuthKey as the row's), dual tunnel. */
  ip2?: string;
  bgp2?: TunnelBgp;
  /** `device`: the branch device type for `cgw-batch configs`. */
  device?: string;
}

/**
 * What apply does with a row; the planner decides it once and the executor only carries it out.
 * - create / retry / resume send CreateCustomerGateway (resume: an earlier create's outcome is unknown; the same
 *   ClientToken is replayed only when the listing shows no gateway, else the found one is recorded);
 * - adopt records an existing gateway; update / replace / delete change or remove the journal's gateway;
 * - skip: nothing to do; blocked: apply refuses it until a flag says so (`needs`); invalid: the row cannot be sent.
 */
export type PlanAction = 'create' | 'adopt' | 'resume' | 'retry' | 'update' | 'replace' | 'delete' | 'skip' | 'blocked' | 'invalid';

export const PLAN_ACTIONS: readonly PlanAction[] = ['create', 'adopt', 'resume', 'retry', 'update', 'replace', 'delete', 'skip', 'blocked', 'invalid'];

/** Actions the executor carries out (each sends requests or records an outcome). */
export const EXECUTABLE: ReadonlySet<PlanAction> = new Set<PlanAction>(['create', 'adopt', 'resume', 'retry', 'update', 'replace', 'delete']);

export interface FieldChange {
  field: string;
  before?: string;
  after?: string;
}

export interface PlannedRow {
  ref: RowRef;
  action: PlanAction;
  /** One line, for people: why this action (shown by plan, apply and the reports). */
  reason: string;
  issues: Issue[];
  /** The validated row; absent when the row is too broken to normalise, and for journal rows not in the manifest. */
  row?: Row;
  /** False when `--only` leaves the row out of this run (it keeps its last state and is not executed). */
  inRun: boolean;
  /** A journal row whose key is no longer in the manifest (line 0 unless the journal knows its last line). */
  orphan?: boolean;
  /**
   * A journal row the manifest does not list because the manifest is not the journal's own (a saved results file
   * working on the journal it came from): not in this run, never deleted, kept as it is.
   */
  outside?: boolean;
  /** The gateway the action works on (adopt / resume / update / replace / delete / skip). */
  existingId?: string;
  changes?: FieldChange[];
  /** ClientToken generation for the create part (create / retry / resume / replace). */
  generation?: number;
  /** blocked: the flag that would let apply carry the row out. */
  needs?: '--allow-replace' | '--prune' | '--retry-failed';
  /** replace after an IP change: the journal key of the gateway being replaced. */
  replacesKey?: string;
  /** destroy: the gateway existed before the tool (adopted) rather than created by it. */
  adopted?: boolean;
  /**
   * A site row's other resources, each decided like the row's own customer gateway (the fields above): the second
   * customer gateway (`ip_2`, journal key `region/ip_2`) and the IPsec connection (created after its customer
   * gateways, on the VPN gateway's serial lane; destroyed before them).
   */
  gateway2?: PlannedResource;
  connection?: PlannedResource;
}

/** One resource of a site row and what apply does with it; the same vocabulary and fields as the row's own gateway. */
export interface PlannedResource {
  action: PlanAction;
  reason: string;
  /** The resource the action works on (adopt / resume / update / replace / delete / skip). */
  existingId?: string;
  changes?: FieldChange[];
  /** ClientToken generation of this resource's create. */
  generation?: number;
  needs?: PlannedRow['needs'];
  /** The journal row key the resource lives under: `region/ip_2` for the second gateway, the row's own key otherwise. */
  key: string;
  adopted?: boolean;
}

export type PlanSummary = Record<PlanAction, number> & { rows: number; notInRun: number };

/** `--quota`: one number for every region, and/or region=N pairs (those win). */
export interface QuotaGiven {
  all?: number;
  regions: Readonly<Record<string, number>>;
}

/** Per-region quota use (online: existing gateways are counted; offline: only the plan's creates). */
export interface QuotaUse {
  region: string;
  existing?: number;
  creates: number;
  deletes: number;
  quota: number;
  /**
   * Where `quota` comes from: `given` (--quota), `learned` (a Resource.QuotaFull recorded the region's ceiling in the
   * journal, at `learnedAt`), or `assumed` (the documented default: no API tells the customer-gateway quota).
   */
  basis: 'given' | 'learned' | 'assumed';
  learnedAt?: string;
}

export interface Plan {
  version: 2;
  command: 'plan' | 'apply' | 'import' | 'destroy';
  /** `journal` when the plan is made from the journal alone (destroy, status without a manifest). */
  manifest: { file: string; hash: string; format: ManifestFormat | 'journal' };
  /** Where the gateways are: the account (from STS GetCallerIdentity) and the endpoint; absent offline. */
  target?: { accountId?: string; endpoint: string };
  rows: PlannedRow[];
  /** File-level issues (loader warnings, unknown columns, permissions). */
  issues: Issue[];
  summary: PlanSummary;
  byRegion: Record<string, PlanSummary>;
  quota: QuotaUse[];
  online: boolean;
  /** Flags that shaped the decisions, so the printed plan says what it assumed. */
  flags: PlanFlags;
}

export interface PlanFlags {
  allowReplace: boolean;
  prune: boolean;
  retryFailed: boolean;
  skipInvalid: boolean;
  only?: string;
}

/**
 * Journal statuses. `in-flight`: a create's intent is recorded and its answer never came (crash); `unknown`: the run
 * gave up while the outcome was unknown (maybe created). Both are reconciled by listing on the next run.
 */
export type RowStatus = 'pending' | 'in-flight' | 'unknown' | 'created' | 'adopted' | 'updated' | 'deleted' | 'failed' | 'skipped';

/** Journal statuses meaning "this gateway exists and the journal owns it" (skip, update, delete it; never create it). */
export const OWNED: ReadonlySet<RowStatus> = new Set<RowStatus>(['created', 'adopted', 'updated']);

/** Journal statuses meaning "a create may have happened": never forgotten, reconciled by listing. */
export const MAYBE_CREATED: ReadonlySet<RowStatus> = new Set<RowStatus>(['in-flight', 'unknown']);

/** A report row's status: the journal's truth, or `invalid` for a manifest row that was never sendable. */
export type ResultStatus = RowStatus | 'invalid';

/** The outcome of one row as the executor saw it, and (in reports) every row's current truth. Never thrown. */
export interface RowResult {
  ref: RowRef;
  status: ResultStatus;
  /** This run's plan action for the row. */
  action: PlanAction;
  /** False for rows `--only` left out (reports keep their last real state). */
  inRun: boolean;
  gatewayId?: string;
  errorCode?: string;
  errorMessage?: string;
  /** Error class of the last failure (see cloud/errors.ts). */
  errorClass?: string;
  /** Every request id the row's calls got, across runs (oldest first, bounded). */
  requestIds: string[];
  attempts: number;
  durationMs: number;
  echo: Record<string, string>;
  /** One line about this run's handling (the plan's reason, or why a row was not sent). */
  note?: string;
  /** A site row's other resources (report/outcome.ts combineOutcomes gives the row's outcome). */
  gateway2?: ResourceResult;
  connection?: ResourceResult;
}

/** One resource's part of a row result: its own status, id and last error (the row's top-level fields are its gateway's). */
export interface ResourceResult {
  status: ResultStatus;
  action: PlanAction;
  id?: string;
  errorCode?: string;
  errorMessage?: string;
  errorClass?: string;
  /** Connection only: the last known `State` (`active` = provisioned). */
  state?: string;
  /** Connection only: the negotiation `Status` as last read from DescribeVpnConnection (`ipsec_sa_established`...). */
  negotiation?: string;
}

/** A gateway's attributes as the journal records them (what was last sent or found). No secrets. */
export interface RecordedAttributes {
  /** Keyed fingerprint of the AuthKey last sent (see secrets.ts), absent when none was sent. */
  authKeyFingerprint?: string;
  name?: string;
  description?: string;
  asn?: string;
  resourceGroupId?: string;
  tags?: Tag[];
}

/** A journal row's fields for its customer gateway: what was asked, what happened, and when. No secrets. */
export interface RowFields extends RecordedAttributes {
  region: string;
  ip: string;
  line: number;
  token: string;
  generation: number;
  status: RowStatus;
  gatewayId?: string;
  requestIds: string[];
  errorCode?: string;
  errorMessage?: string;
  errorClass?: string;
  attempts: number;
  startedAt?: string;
  finishedAt?: string;
  durationMs?: number;
  /** Hash of the non-secret spec + authKeyFingerprint, to tell "row changed". */
  specHash?: string;
  /** The row's input columns, for `cgw-batch report` (never AuthKeys). */
  echo?: Record<string, string>;
  /** Its create got Resource.QuotaFull: the region's customer gateways counted then (the quota's real ceiling). */
  quotaLimit?: number;
  operation?: 'create' | 'adopt' | 'update' | 'delete' | 'replace';
  /** The gateway existed before cgw-batch and was adopted (destroy says so). */
  adopted?: boolean;
  /** A second customer gateway's row (`region/ip_2`) names the site row it belongs to. */
  siteKey?: string;
  /** The row's IPsec connection, when the row is a site. */
  connection?: ConnectionFields;
}

/** A journal row's IPsec connection: what was asked, what happened. Never a PSK: only its keyed fingerprint. */
export interface ConnectionFields {
  status: RowStatus;
  token: string;
  generation: number;
  connectionId?: string;
  vpnGatewayId: string;
  /** The customer gateway(s) it was created with (tunnel 1, tunnel 2). */
  customerGatewayIds?: string[];
  /** Hash of the non-secret connection spec + CGW ids + VPN gateway id + pskFingerprint: tells "the site changed". */
  specHash?: string;
  /** Keyed fingerprint of each tunnel's PSK as last sent or read (secrets.ts fingerprint); `generate` keys too. */
  pskFingerprints?: string[];
  /** Last known connection `State` and negotiation `Status`. */
  state?: string;
  negotiation?: string;
  /** The connection existed before cgw-batch and was adopted. */
  adopted?: boolean;
  operation?: 'create' | 'adopt' | 'update' | 'delete' | 'replace';
  attempts: number;
  requestIds: string[];
  errorCode?: string;
  errorMessage?: string;
  errorClass?: string;
  startedAt?: string;
  finishedAt?: string;
  durationMs?: number;
}

/**
 * A change to one journal row: every field given is set, and `undefined` clears an optional one (a required one
 * keeps its value). A second resource of the row (its IPsec connection) joins as an optional nested part of its own,
 * so a patch to one resource never names the other's fields.
 */
export type JournalPatch = { [K in Exclude<keyof RowFields, 'connection'>]?: RowFields[K] | undefined } & {
  /** Patched field by field like the row (`undefined` clears an optional field); `null` removes the whole part. */
  connection?: ConnectionPatch | null;
};

export type ConnectionPatch = { [K in keyof ConnectionFields]?: ConnectionFields[K] | undefined };

/** What previous runs recorded for a row (from the journal), as the planner needs it. No secrets. */
export interface PriorRow extends RecordedAttributes {
  key: string;
  status: RowStatus;
  line: number;
  gatewayId?: string;
  generation: number;
  errorCode?: string;
  errorMessage?: string;
  errorClass?: string;
  /** Hash of what the last create asked for (see plan/identity.ts specHash): tells "the row changed since". */
  specHash?: string;
  /** How the journal came to own the gateway. */
  operation?: string;
  adopted?: boolean;
  siteKey?: string;
  connection?: ConnectionFields;
  /** The region's customer gateways when this row's create got Resource.QuotaFull (its real ceiling), and when. */
  quotaLimit?: number;
  finishedAt?: string;
}

export type StopReason = 'interrupt' | 'max-failures' | 'auth' | 'clock' | 'forbidden' | 'retry-budget';

/** Progress events the executor emits; ui/ renders them, tests collect them. */
export type RunEvent =
  | { type: 'run:start'; runId: string; lanes: Array<{ lane: string; region: string; total: number }> }
  | { type: 'row:start'; lane: string; ref: RowRef; action: PlanAction; attempt: number }
  | { type: 'row:retry'; lane: string; ref: RowRef; attempt: number; code: string; delayMs: number }
  | { type: 'row:done'; lane: string; result: RowResult }
  | { type: 'lane:rate'; lane: string; ratePerSec: number; inFlight: number }
  | { type: 'lane:stopped'; lane: string; reason: 'quota'; message: string }
  | { type: 'run:stopping'; reason: StopReason; message: string }
  /** `counts`: every row of the run by outcome (report/outcome.ts), the same count as the summary and results.json. */
  | { type: 'run:done'; interrupted: boolean; stopReason?: StopReason; counts: Record<string, number>; durationMs: number };
