// The process boundary as a value: cli.ts builds it from `process`, tests build it from buffers.
import type { Redactor } from './secrets.js';

export interface Io {
  stdout: { write(s: string): void; isTTY?: boolean };
  stderr: { write(s: string): void; isTTY?: boolean };
  stdin: NodeJS.ReadableStream & { isTTY?: boolean };
  env: Record<string, string | undefined>;
  cwd: string;
  /** Registers a handler for SIGINT/SIGTERM; returns an unregister function. */
  onSignal(handler: (signal: string) => void): () => void;
  /** Leaves at once (the second Ctrl-C). Only cli.ts implements it with process.exit. */
  exitNow(code: number): never;
}

/** Writes through the redactor: the last line of defence for every byte we print. */
export function redactedWriter(w: { write(s: string): void; isTTY?: boolean }, redactor: Redactor): { write(s: string): void; isTTY?: boolean } {
  return { write: (s: string) => w.write(redactor.redact(s)), isTTY: w.isTTY };
}
