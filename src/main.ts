// Dispatch: argv -> options -> command -> exit code. Every error becomes a one-line message and a code, never a stack.
import { readFileSync } from 'node:fs';
import { CloudError } from './cloud/errors.js';
import { runEmulatorCommand } from './emulator/cli.js';
import { EXIT, ExitError, isUserError } from './errors.js';
import type { Io } from './io.js';
import { HELP, resolveOptions } from './options.js';
import { Redactor } from './secrets.js';
import { runApply } from './commands/apply.js';
import { runPlan } from './commands/plan.js';
import { runReport, runStatus } from './commands/status.js';
import { runDay2 } from './commands/day2.js';
import { makeContext } from './commands/context.js';

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

export async function main(argv: string[], io: Io): Promise<number> {
  const redactor = new Redactor();
  const fail = (message: string, code: number): number => {
    io.stderr.write(redactor.redact(`cgw-batch: ${message}\n`));
    return code;
  };
  try {
    const parsed = resolveOptions(argv);
    if (parsed.kind === 'help') {
      io.stdout.write(HELP);
      return EXIT.ok;
    }
    if (parsed.kind === 'version') {
      io.stdout.write(`${version()}\n`);
      return EXIT.ok;
    }
    if (parsed.kind === 'emulator') {
      return await runEmulatorCommand(parsed.argv, {
        stdout: (s) => io.stdout.write(s),
        stderr: (s) => io.stderr.write(s),
        onSignal: (h) => {
          io.onSignal(() => h());
        },
      });
    }
    const ctx = makeContext(io, parsed.options, redactor);
    switch (parsed.options.command) {
      case 'plan':
        return await runPlan(ctx);
      case 'apply':
        return await runApply(ctx);
      case 'status':
        return await runStatus(ctx);
      case 'report':
        return await runReport(ctx);
      case 'refresh':
      case 'import':
      case 'destroy':
        return await runDay2(ctx);
      default:
        return fail(`command ${parsed.options.command} is not available`, EXIT.usage);
    }
  } catch (e) {
    if (e instanceof ExitError) return e.exitCode;
    if (isUserError(e)) return fail(e.message, EXIT.usage);
    if (e instanceof CloudError) {
      const rid = e.requestId ? ` (request id ${e.requestId})` : '';
      const hint = e.errorClass === 'auth' ? '; check the access key and secret (or --profile)' : '';
      return fail(`the API call failed: ${e.code}: ${e.message}${rid}${hint}`, EXIT.usage);
    }
    if (io.env.CGW_BATCH_DEBUG) io.stderr.write(redactor.redact(`${(e as Error)?.stack ?? String(e)}\n`));
    return fail('internal error (this is a bug; rerun with CGW_BATCH_DEBUG=1 and report it)', EXIT.usage);
  }
}
