// Child process for the kill -9 test: appends records as fast as group commit allows, printing each one made durable.
// Not a test file itself (no `.test.` in the name); run by test/state/crash.test.ts, then SIGKILLed at random.
import { Journal } from '../../src/state/journal.js';

async function main(): Promise<void> {
  const [statePath, manifestPath, tag, maxArg] = process.argv.slice(2);
  if (!statePath || !manifestPath || !tag) {
    // Also reached when a runner treats every .js under dist/test as a test file: do nothing, successfully.
    process.stderr.write('usage: journal-writer <state> <manifest> <tag> [max] (a helper of crash.test)\n');
    return;
  }
  const max = Number(maxArg ?? 3000);
  const journal = await Journal.open(statePath, {
    manifest: { path: manifestPath, hash: 'h' },
    endpoint: 'http://127.0.0.1:9',
    caller: { accountId: '1234567890123456', accessKeyId: 'LTAIcrashtest' },
    onWarning: (m) => process.stderr.write(`warning: ${m}\n`),
  });
  process.stdout.write('ready\n');
  let next = 0;
  // Stdout to a pipe is synchronous on Linux: a line printed is a line the parent will see, even after SIGKILL.
  const worker = async (): Promise<void> => {
    while (next < max) {
      const i = next++;
      const key = `${tag}/10.0.${i >> 8}.${i & 255}`;
      const hot = journal.record('hot/0', { attempts: Number(tag.slice(1)) * 1_000_000 + i });
      await journal.record(key, { status: 'in-flight', token: `tok-${tag}-${i}`, line: i + 2, attempts: i });
      process.stdout.write(`durable ${key} ${i}\n`);
      await hot;
      process.stdout.write(`hot ${Number(tag.slice(1)) * 1_000_000 + i}\n`);
    }
  };
  await Promise.all(Array.from({ length: 16 }, worker));
  await journal.close();
  process.stdout.write('finished\n');
}

main().catch((e: unknown) => {
  process.stderr.write(`error: ${(e as Error).message}\n`);
  process.exitCode = 1;
});
