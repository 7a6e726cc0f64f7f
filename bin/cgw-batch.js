#!/usr/bin/env node
// The CLI's entry. `--help` (or no argument) is printed from the bundle's help.txt at once: this file is CommonJS and
// loads nothing else, because node's ES module loader alone costs about 10 ms of a 80 ms budget. Every other command
// runs the bundle (dist/cli, `npm run build`), or the compiled modules when the bundle is missing or older than them
// (a `tsc` without the bundle step), so the CLI never runs stale code.
'use strict';
const { readFileSync, statSync } = require('node:fs');
const { join } = require('node:path');

const mtime = (rel) => statSync(join(__dirname, rel), { throwIfNoEntry: false })?.mtimeMs ?? -1;
const bundled = mtime('../dist/cli/cli.js');
const fresh = bundled >= 0 && bundled >= mtime('../dist/src/cli.js');
const args = process.argv.slice(2);
const wantsHelp = args.length === 0 || (args.length === 1 && ['-h', '--help', 'help'].includes(args[0]));
let help;
if (wantsHelp && fresh) {
  try {
    help = readFileSync(join(__dirname, '../dist/cli/help.txt'), 'utf8');
  } catch {
    help = undefined;
  }
}
if (help !== undefined) process.stdout.write(help);
else import(fresh ? '../dist/cli/cli.js' : '../dist/src/cli.js');
