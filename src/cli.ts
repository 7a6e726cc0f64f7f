// The only module that touches process.argv, process.env and process.exit: builds Io, runs main, sets the exit code.
import { main } from './main.js';
import type { Io } from './io.js';

const io: Io = {
  stdout: process.stdout,
  stderr: process.stderr,
  stdin: process.stdin,
  env: process.env,
  cwd: process.cwd(),
  columns: process.stdout.columns,
  onSignal(handler) {
    const h = (sig: NodeJS.Signals) => handler(sig);
    process.on('SIGINT', h);
    process.on('SIGTERM', h);
    return () => {
      process.off('SIGINT', h);
      process.off('SIGTERM', h);
    };
  },
  exitNow(code: number): never {
    process.exit(code);
  },
};

// A closed pipe (`cgw-batch plan x | head`) is not an error worth a stack trace.
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
});

main(process.argv.slice(2), io).then(
  (code) => {
    process.exitCode = code;
  },
  () => {
    // main() maps every error itself; reaching here means even that failed. Print nothing that could hold a secret.
    process.stderr.write('cgw-batch: internal error (this is a bug; rerun with CGW_BATCH_DEBUG=1 and report it)\n');
    process.exitCode = 2;
  },
);
