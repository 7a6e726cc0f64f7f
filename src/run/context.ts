// What every command gets: the process boundary (Io), its resolved options, the redactor, and redacted output streams.
import type { Io } from '../io.js';
import type { Options } from '../options.js';
import type { Redactor } from '../secrets.js';
import { printableLines } from '../text.js';

export interface Writer {
  write(s: string): void;
  isTTY?: boolean;
}

export interface Context<O extends Options = Options> {
  io: Io;
  options: Readonly<O>;
  redactor: Redactor;
  /** stdout and stderr through the redactor: the one sink every printed byte passes. */
  out: Writer;
  err: Writer;
}

export function makeContext<O extends Options>(io: Io, options: Readonly<O>, redactor: Redactor): Context<O> {
  const through = (w: Writer): Writer => ({ write: (s: string) => w.write(redactor.redact(s)), isTTY: w.isTTY });
  return { io, options, redactor, out: through(io.stdout), err: through(io.stderr) };
}

/** The same context, typed for the command its options belong to (main.ts narrows them by command). */
export function withOptions<O extends Options>(ctx: Context, options: Readonly<O>): Context<O> {
  return { ...ctx, options };
}

/** A warning line on stderr; names and values in it (a file's, a server's) are shown printable, after redaction. */
export function warn(ctx: Context, message: string): void {
  ctx.err.write(`warning: ${printableLines(ctx.redactor.redact(message))}\n`);
}
