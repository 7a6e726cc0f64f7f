// Plain data shared by every stage: manifest rows, issues, plans and row results. No behaviour here.

/** Where a row or an issue comes from. Lines are 1-based physical lines of the source file. */
export interface SourceRef {
  file: string;
  line: number;
}

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

/** A row after validation. `key` is the natural key `region/ip`. */
export interface Row {
  key: string;
  source: SourceRef;
  spec: GatewaySpec;
  echo: Record<string, string>;
}

export type PlanAction = 'create' | 'adopt' | 'skip' | 'update' | 'replace' | 'orphan' | 'invalid';

export interface FieldChange {
  field: string;
  before?: string;
  after?: string;
}

export interface PlannedRow {
  file: string;
  line: number;
  key: string;
  region: string;
  ip: string;
  action: PlanAction;
  issues: Issue[];
  /** The validated row; absent only when the row is too broken to normalise (action `invalid`). */
  row?: Row;
  /** The existing gateway this row maps to (adopt / skip / update / replace / orphan). */
  existingId?: string;
  changes?: FieldChange[];
}

export interface PlanSummary {
  rows: number;
  create: number;
  adopt: number;
  skip: number;
  update: number;
  replace: number;
  orphan: number;
  invalid: number;
}

export interface Plan {
  version: 1;
  manifest: { file: string; hash: string; format: ManifestFormat };
  rows: PlannedRow[];
  /** File-level issues (loader warnings, unknown columns, permissions). */
  issues: Issue[];
  summary: PlanSummary;
  byRegion: Record<string, PlanSummary>;
  online: boolean;
}

export type RowStatus = 'pending' | 'in-flight' | 'created' | 'adopted' | 'updated' | 'deleted' | 'failed' | 'skipped';

/** Journal statuses meaning "this gateway exists and the journal owns it" (skip, update, delete it; never create it). */
export const OWNED: ReadonlySet<RowStatus> = new Set<RowStatus>(['created', 'adopted', 'updated']);

/** Every row of an apply ends as one of these values; the executor never throws for a row. */
export interface RowResult {
  key: string;
  file: string;
  line: number;
  region: string;
  ip: string;
  status: RowStatus;
  gatewayId?: string;
  errorCode?: string;
  errorMessage?: string;
  /** Error class of the last failure (see cloud/errors.ts). */
  errorClass?: string;
  requestId?: string;
  attempts: number;
  durationMs: number;
  echo: Record<string, string>;
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

/** What a previous apply recorded for a row (from the journal), as the planner needs it. No secrets. */
export interface PriorRow extends RecordedAttributes {
  key: string;
  status: RowStatus;
  gatewayId?: string;
  generation: number;
  errorCode?: string;
  errorClass?: string;
}

/** Progress events the executor emits; ui/ renders them, tests collect them. */
export type RunEvent =
  | { type: 'run:start'; runId: string; lanes: Array<{ lane: string; region: string; total: number }> }
  | { type: 'row:start'; lane: string; key: string; line: number; attempt: number }
  | { type: 'row:retry'; lane: string; key: string; line: number; attempt: number; code: string; delayMs: number }
  | { type: 'row:done'; lane: string; result: RowResult }
  | { type: 'lane:rate'; lane: string; ratePerSec: number; inFlight: number }
  | { type: 'run:stopping'; reason: 'interrupt' | 'max-failures' | 'auth' | 'retry-budget'; message: string }
  | { type: 'run:done'; interrupted: boolean; counts: Record<string, number>; durationMs: number };
