// What every command gets: the process boundary (Io), its resolved options, the redactor, and redacted output streams.
import type { Io } from '../io.js';
import type { Options } from '../options.js';
import type { Redactor } from '../secrets.js';

export interface Writer {
  write(s: string): void;
  isTTY?: boolean;
}

export interface Context {
  io: Io;
  options: Readonly<Options>;
  redactor: Redactor;
  /** stdout and stderr through the redactor: the one sink every printed byte passes. */
  out: Writer;
  err: Writer;
}

export function makeContext(io: Io, options: Readonly<Options>, redactor: Redactor): Context {
  const through = (w: Writer): Writer => ({ write: (s: string) => w.write(redactor.redact(s)), isTTY: w.isTTY });
  return { io, options, redactor, out: through(io.stdout), err: through(io.stderr) };
}

/** A warning line on stderr. */
export function warn(ctx: Context, message: string): void {
  ctx.err.write(`warning: ${message}\n`);
}
