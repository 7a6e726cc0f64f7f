// Preloaded into a spawned CLI (NODE_OPTIONS=--import): records every open of a journal file (`*.state.jsonl`) and
// the bytes read through it, and writes the trace to CGW_TRACE_FILE at exit. Node's own fs functions are wrapped and
// the ESM bindings re-synced, so `import { open } from 'node:fs/promises'` in the CLI goes through the wrapper.
import fs from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';

interface Opened {
  path: string;
  flags: string;
  bytesRead: number;
}

const isJournal = (p: unknown): p is string => typeof p === 'string' && p.endsWith('.state.jsonl');
const trace: Opened[] = [];
const writeTrace = fs.writeFileSync;
const traceFile = process.env.CGW_TRACE_FILE;

const origOpen = fs.promises.open;
fs.promises.open = async function open(path: Parameters<typeof origOpen>[0], flags?: string | number, mode?: fs.Mode) {
  const fh = await origOpen(path, flags, mode);
  if (!isJournal(path)) return fh;
  const entry: Opened = { path, flags: String(flags ?? 'r'), bytesRead: 0 };
  trace.push(entry);
  const read = fh.read.bind(fh) as (...a: unknown[]) => Promise<{ bytesRead: number }>;
  Object.defineProperty(fh, 'read', {
    value: async (...a: unknown[]) => {
      const r = await read(...a);
      entry.bytesRead += r.bytesRead;
      return r;
    },
  });
  const readFile = fh.readFile.bind(fh) as (...a: unknown[]) => Promise<Buffer | string>;
  Object.defineProperty(fh, 'readFile', {
    value: async (...a: unknown[]) => {
      const r = await readFile(...a);
      entry.bytesRead += r.length;
      return r;
    },
  });
  return fh;
} as typeof origOpen;

const origReadFile = fs.promises.readFile;
fs.promises.readFile = async function readFile(path: Parameters<typeof origReadFile>[0], opts?: Parameters<typeof origReadFile>[1]) {
  const r = await origReadFile(path, opts);
  if (isJournal(path)) trace.push({ path, flags: 'readFile', bytesRead: r.length });
  return r;
} as typeof origReadFile;

const origReadFileSync = fs.readFileSync;
fs.readFileSync = function readFileSync(path: Parameters<typeof origReadFileSync>[0], opts?: Parameters<typeof origReadFileSync>[1]) {
  const r = origReadFileSync(path, opts);
  if (isJournal(path)) trace.push({ path, flags: 'readFileSync', bytesRead: r.length });
  return r;
} as typeof origReadFileSync;

syncBuiltinESMExports();

process.on('exit', () => {
  if (traceFile) writeTrace(traceFile, JSON.stringify(trace));
});
