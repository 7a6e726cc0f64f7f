#!/usr/bin/env node
// Bundles the compiled CLI (dist/src/cli.js) into dist/cli/: a start-up resolves, reads and links a few chunks instead
// of about 130 modules. Dynamic imports stay chunk boundaries (each command, the emulator, exceljs readers load when
// used). CommonJS packages that are loaded on demand (pop-core through createRequire, exceljs, pg, ali-oss) stay
// outside; the ES module packages (csv-parse, js-yaml, the proxy agents and their debug) are inlined.
import { writeFileSync } from 'node:fs';
import { build } from 'esbuild';

await build({
  entryPoints: [new URL('../dist/src/cli.js', import.meta.url).pathname],
  outdir: new URL('../dist/cli/', import.meta.url).pathname,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  external: ['exceljs', 'pg', 'ali-oss', '@alicloud/*'],
  // Inlined CommonJS (debug, under the proxy agents) calls require(): give the ES module bundle one.
  banner: { js: "import { createRequire as __cgwRequire } from 'node:module'; const require = __cgwRequire(import.meta.url);" },
  logLevel: 'warning',
});

// `cgw-batch --help` (or no argument) is printed by bin/ from this file, without starting the module loader; written
// in the same step as the bundle, so it is never older than the bundle bin/ would run.
const { HELP } = await import(new URL('../dist/src/options.js', import.meta.url).href);
writeFileSync(new URL('../dist/cli/help.txt', import.meta.url), HELP);
