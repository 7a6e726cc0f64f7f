// The process boundary as a value: cli.ts builds it from `process`, tests build it from buffers.

export interface Io {
  stdout: { write(s: string): void; isTTY?: boolean };
  stderr: { write(s: string): void; isTTY?: boolean };
  stdin: NodeJS.ReadableStream & { isTTY?: boolean };
  env: Record<string, string | undefined>;
  cwd: string;
  /** Terminal width of stdout, when it is a terminal. */
  columns?: number;
  /** Registers a handler for SIGINT/SIGTERM; returns an unregister function. */
  onSignal(handler: (signal: string) => void): () => void;
  /** Leaves at once (the second Ctrl-C). Only cli.ts implements it with process.exit. */
  exitNow(code: number): never;
}
