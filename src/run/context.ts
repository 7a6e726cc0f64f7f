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
  // A state URL's password (CGW_BATCH_STATE) is a secret like any other: masked wherever it could be echoed.
  const o = options as Readonly<Options> & { statePath?: string; from?: string; to?: string };
  for (const v of [o.statePath, o.from, o.to]) {
    const pw = v === undefined ? '' : urlPassword(v);
    if (pw) {
      redactor.add(pw);
      redactor.add(decoded(pw));
    }
  }
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

function urlPassword(v: string): string {
  try {
    return /^[a-z][a-z0-9+.-]*:\/\//i.test(v) ? new URL(v).password : '';
  } catch {
    return '';
  }
}

function decoded(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}
