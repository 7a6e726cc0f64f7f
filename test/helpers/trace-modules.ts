// Preloaded into a spawned CLI (NODE_OPTIONS=--import): writes to CGW_TRACE_MODULES, one URL a line, every ES module
// the process loads (a loader hook sees each as it loads) and, at exit, every CommonJS file in require's cache.
import { appendFileSync } from 'node:fs';
import { createRequire, register } from 'node:module';
import { pathToFileURL } from 'node:url';

const out = process.env.CGW_TRACE_MODULES;
if (out) {
  // The hooks run on the loader's own thread: a data: URL module that appends each loaded URL to the same file.
  const hooks = `import { appendFileSync } from 'node:fs';
export async function load(url, context, next) {
  const r = await next(url, context);
  appendFileSync(${JSON.stringify(out)}, url + '\\n');
  return r;
}`;
  register(`data:text/javascript,${encodeURIComponent(hooks)}`);
  const cache = createRequire(import.meta.url).cache;
  process.on('exit', () => {
    const files = Object.keys(cache).map((f) => pathToFileURL(f).href);
    appendFileSync(out, files.map((f) => `${f}\n`).join(''));
  });
}
