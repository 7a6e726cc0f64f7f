// Options shared by the CSV, YAML and xlsx readers (kept apart from index.ts so the readers do not import the entry point).
import type { Redactor } from '../secrets.js';

export interface LoadOptions {
  /** Environment for `auth_key: env:NAME` and auth_key_env columns (cli.ts passes process.env; tests pass a map). */
  env: Record<string, string | undefined>;
  /** Every AuthKey value read is registered here so no output can print it. */
  redactor?: Redactor;
  /** File size cap, checked with stat before reading. Default 50 MB. */
  maxBytes?: number;
  /** Per-record cap: one CSV record (bytes), or one YAML key or value (characters). Default 64 KB. */
  maxRecordBytes?: number;
  /** xlsx: the sheet to read (exact name, else a unique case-insensitive match). Default: the first visible sheet. */
  sheet?: string;
  /** `--profiles FILE`: a YAML file with a `profiles:` map, joined to the manifest's own profiles (any format). */
  profilesFile?: string;
  /** xlsx: data rows allowed (default 50,000: the parser holds the sheet in memory). */
  maxRows?: number;
  /**
   * The caller's working directory (cli.ts: io.cwd). When given and the manifest is under it, messages, issues and
   * rows name the file by its path relative to it (`sites/branches.csv:4`); Manifest.file stays the path as given.
   */
  cwd?: string;
}

export const DEFAULT_MAX_BYTES = 50 * 1024 * 1024;
export const DEFAULT_MAX_RECORD_BYTES = 64 * 1024;
