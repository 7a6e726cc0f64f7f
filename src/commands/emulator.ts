// `cgw-batch emulator`: the local VPC API emulator, loaded only when this command runs.
import type { Io } from '../io.js';

export async function runEmulator(argv: string[], io: Io): Promise<number> {
  const { runEmulatorCommand } = await import('../emulator/cli.js');
  return runEmulatorCommand(argv, {
    stdout: (s) => io.stdout.write(s),
    stderr: (s) => io.stderr.write(s),
    onSignal: (h) => {
      io.onSignal(() => h());
    },
  });
}
