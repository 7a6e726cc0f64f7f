#!/usr/bin/env node
// The bundle (dist/cli, `npm run build`) starts fastest; the compiled modules run when it is missing or older than
// them (a `tsc` without the bundle step), so the CLI never runs stale code.
import { statSync } from 'node:fs';

const mtime = (rel) => statSync(new URL(rel, import.meta.url), { throwIfNoEntry: false })?.mtimeMs ?? -1;
const bundled = mtime('../dist/cli/cli.js');
await import(bundled >= 0 && bundled >= mtime('../dist/src/cli.js') ? '../dist/cli/cli.js' : '../dist/src/cli.js');
