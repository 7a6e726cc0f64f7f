// Dispatch: argv -> options -> command -> exit code. Every error becomes a one-line message and a code, never a stack.
// `--help` and `--version` load nothing but the option parser: every command, and the context it runs in, is
// imported when it runs.
import { readFileSync } from 'node:fs';
import type { CloudError } from './cloud/errors.js';
import { EXIT, ExitError, isUserError } from './errors.js';
import type { Io } from './io.js';
import { resolveOptions } from './options.js';
import type { Redactor } from './secrets.js';
import { printableLines } from './text.js';
import type { Context } from './run/context.js';

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

/** Commands are loaded on demand: `plan` does not pay for the emulator, `status` not for the SDK. */
async function dispatch(ctx: Context): Promise<number> {
  const { withOptions } = await import('./run/context.js');
  const o = ctx.options;
  switch (o.command) {
    case 'plan':
      return (await import('./commands/plan.js')).runPlan(withOptions(ctx, o));
    case 'apply':
      return (await import('./commands/apply.js')).runApply(withOptions(ctx, o));
    case 'import':
      return (await import('./commands/import.js')).runImport(withOptions(ctx, o));
    case 'destroy':
      return (await import('./commands/destroy.js')).runDestroy(withOptions(ctx, o));
    case 'refresh':
      return (await import('./commands/refresh.js')).runRefresh(withOptions(ctx, o));
    case 'status':
      return (await import('./commands/status.js')).runStatus(withOptions(ctx, o));
    case 'report':
      return (await import('./commands/report.js')).runReport(withOptions(ctx, o));
    case 'configs':
      return (await import('./commands/configs.js')).runConfigs(withOptions(ctx, o));
    case 'export':
      return (await import('./commands/export.js')).runExport(withOptions(ctx, o));
    case 'init':
      return (await import('./commands/init.js')).runInit(withOptions(ctx, o));
    case 'state':
      return (await import('./commands/state.js')).runState(withOptions(ctx, o));
  }
}

/** What to do about an API error that stopped a command, by its class. */
function hint(e: CloudError): string {
  if (e.errorClass === 'auth') return '; check the access key and secret (or --profile)';
  if (e.errorClass === 'clock') return "; check this machine's clock (the API accepts requests within 15 minutes of its time)";
  if (e.errorClass === 'forbidden') return '; the RAM user needs permission for this action';
  return '';
}

export async function main(argv: string[], io: Io): Promise<number> {
  // Made once a command runs (with node:crypto behind it); until then no secret is known, so nothing is masked.
  let redactor: Redactor | undefined;
  const redact = (s: string): string => redactor?.redact(s) ?? s;
  // Redacted first, then shown printable: a file name or a server's code in a message cannot drive the terminal.
  const fail = (message: string, code: number): number => {
    io.stderr.write(printableLines(redact(`cgw-batch: ${message}`)) + '\n');
    return code;
  };
  try {
    const parsed = resolveOptions(argv, {
      cwd: io.cwd,
      env: io.env,
      stdoutIsTTY: io.stdout.isTTY,
      stderrIsTTY: io.stderr.isTTY,
      stdinIsTTY: io.stdin.isTTY,
      columns: io.columns,
    });
    if (parsed.kind === 'help') {
      io.stdout.write(parsed.text);
      return EXIT.ok;
    }
    if (parsed.kind === 'version') {
      io.stdout.write(`${version()}\n`);
      return EXIT.ok;
    }
    if (parsed.kind === 'emulator') return await (await import('./commands/emulator.js')).runEmulator(parsed.argv, io);
    const [{ makeContext }, { Redactor }] = await Promise.all([import('./run/context.js'), import('./secrets.js')]);
    redactor = new Redactor();
    return await dispatch(makeContext(io, parsed.options, redactor));
  } catch (e) {
    if (e instanceof ExitError) return e.exitCode;
    if (isUserError(e)) return fail(e.message, EXIT.usage);
    // Only a command that ran can have failed with an API error; its module is loaded by then.
    const { CloudError } = await import('./cloud/errors.js');
    if (e instanceof CloudError) {
      const rid = e.requestId ? ` (request id ${e.requestId})` : '';
      return fail(`the API call failed: ${e.code}: ${e.message}${rid}${hint(e)}`, EXIT.usage);
    }
    if (io.env.CGW_BATCH_DEBUG) io.stderr.write(redact(`${(e as Error)?.stack ?? String(e)}\n`));
    return fail('internal error (this is a bug; rerun with CGW_BATCH_DEBUG=1 and report it)', EXIT.usage);
  }
}
