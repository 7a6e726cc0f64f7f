// Interactive yes/no confirmation (apply, destroy); anything but an explicit yes is a no.
import { createInterface } from 'node:readline/promises';
import { Writable } from 'node:stream';

export async function confirm(
  question: string,
  io: { input: NodeJS.ReadableStream; output: { write(s: string): void } },
): Promise<boolean> {
  // readline wants a Writable; wrap the plain writer so callers can pass a redacted or captured one.
  const output = new Writable({
    write(chunk: Buffer | string, _enc, cb) {
      io.output.write(chunk.toString());
      cb();
    },
  });
  const rl = createInterface({ input: io.input, output, terminal: false });
  // EOF (closed stdin, Ctrl-D) must answer "no" rather than hang or throw.
  const closed = new Promise<string>((resolve) => rl.once('close', () => resolve('')));
  try {
    const answer = await Promise.race([rl.question(question.endsWith(' ') ? question : question + ' '), closed]);
    return /^\s*(y|yes)\s*$/i.test(answer);
  } catch {
    return false;
  } finally {
    rl.close();
  }
}
