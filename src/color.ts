// Terminal colour: a tiny ANSI palette that becomes identity functions when colour is off.

export interface Palette {
  red(s: string): string;
  green(s: string): string;
  yellow(s: string): string;
  dim(s: string): string;
  bold(s: string): string;
}

// Raw SGR codes rather than util.styleText: newer Node versions make styleText consult process streams and env
// by themselves, and we want the decision made once, from the values cli.ts passes in.
const wrap = (open: number, close: number) => (s: string) => `\u001b[${open}m${s}\u001b[${close}m`;

const ON: Palette = { red: wrap(31, 39), green: wrap(32, 39), yellow: wrap(33, 39), dim: wrap(2, 22), bold: wrap(1, 22) };
const id = (s: string) => s;
const OFF: Palette = { red: id, green: id, yellow: id, dim: id, bold: id };

export function colors(enabled: boolean): Palette {
  return enabled ? ON : OFF;
}

/**
 * Colour when the stream is a TTY, NO_COLOR is unset (any value, even empty, disables it) and TERM is not `dumb`.
 * FORCE_COLOR takes precedence over all of that, as in Node itself: `0`/`false` forces off, any other value forces on.
 */
export function shouldColor(stream: { isTTY?: boolean }, env: Record<string, string | undefined>): boolean {
  const force = env.FORCE_COLOR;
  if (force !== undefined) return !(force === '0' || force.toLowerCase() === 'false');
  if (env.NO_COLOR !== undefined) return false;
  if (env.TERM === 'dumb') return false;
  return stream.isTTY === true;
}

/** Strips SGR and other CSI sequences; used to measure visible width and by tests. */
export function stripAnsi(s: string): string {
  // eslint-disable-next-line no-control-regex
  return s.replace(/\u001b\[[0-9;?]*[ -/]*[@-~]/g, '');
}
