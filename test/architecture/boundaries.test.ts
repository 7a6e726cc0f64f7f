// The layout's rules, checked over src/'s import graph (TypeScript's own parser, test/architecture/imports.ts): no
// import circles, each folder imports only the folders below it, the emulator only by dynamic import, and only
// cli.ts touches process.argv / env / exit. Rules name folders, so a new file in a folder is held to them at once.
import '../helpers/env.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { repoRoot } from '../helpers/paths.js';
import { circles, importGraph, type Edge, type Module } from './imports.js';

const graph = importGraph(join(repoRoot, 'src'));

/** `commands/apply.ts` -> `commands`; a top-level module -> `` (the leaves); a package or builtin -> undefined. */
function folderOf(path: string): string | undefined {
  if (!path.endsWith('.ts')) return undefined;
  const slash = path.indexOf('/');
  return slash < 0 ? '' : path.slice(0, slash);
}

/** Top-level modules that only the entry points may bypass: they import nothing but each other. */
const ENTRY = new Set(['cli.ts', 'main.ts']);
const isLeaf = (path: string): boolean => folderOf(path) === '' && !ENTRY.has(path);
const FS = new Set(['node:fs', 'node:fs/promises', 'fs', 'fs/promises']);

interface Rule {
  /** What the rule says, as the failure message prints it. */
  says: string;
  /** The modules it is about. */
  applies: (m: Module) => boolean;
  /** An edge that breaks it. */
  breaks: (e: Edge, m: Module) => boolean;
}

const under = (folder: string) => (m: Module) => m.path.startsWith(`${folder}/`);
const into = (...folders: string[]) => (e: Edge) => folders.some((f) => e.to.startsWith(`${f}/`));
/** Anything under src/ that is neither a leaf nor in one of `folders` (nor the module's own folder). */
const outside = (...folders: string[]) => (e: Edge, m: Module) => {
  const f = folderOf(e.to);
  if (f === undefined || isLeaf(e.to)) return false;
  return f !== folderOf(m.path) && !folders.includes(f) && !folders.includes(e.to);
};

const RULES: Rule[] = [
  { says: 'commands/ never import another command', applies: under('commands'), breaks: into('commands') },
  {
    says: 'commands/ reach the journal, the executor, the cloud and the terminal only through run/',
    applies: under('commands'),
    breaks: into('state', 'execute', 'cloud', 'ui'),
  },
  { says: 'run/ never imports commands/', applies: under('run'), breaks: into('commands') },
  {
    says: 'plan/ is pure: no fs, no clock, no state/ (only leaves and the cloud types it plans against)',
    applies: under('plan'),
    breaks: (e, m) => FS.has(e.to) || e.to === 'clock.ts' || e.to === 'fsutil.ts' || outside('cloud/types.ts')(e, m),
  },
  {
    says: 'execute/ reaches the journal only through its port: never state/, commands/, run/, ui/, report/, nor fs',
    applies: under('execute'),
    breaks: (e, m) => FS.has(e.to) || e.to === 'fsutil.ts' || outside('cloud', 'plan')(e, m),
  },
  { says: 'cloud/ imports only cloud/ and leaves (never execute/)', applies: under('cloud'), breaks: outside() },
  { says: 'load/ imports only load/ and leaves', applies: under('load'), breaks: outside() },
  { says: 'state/ (and its backends) import only state/ and leaves', applies: under('state'), breaks: outside() },
  {
    says: 'report/ never imports ui/, run/, commands/ or execute/',
    applies: under('report'),
    breaks: into('ui', 'run', 'commands', 'execute'),
  },
  {
    says: 'ui/ renders events: of report/ it imports report/outcome.ts only, and nothing of run/, commands/, execute/, state/, cloud/',
    applies: under('ui'),
    breaks: (e, m) => outside('report/outcome.ts')(e, m),
  },
  { says: 'device/ renderers are pure: only device/ and leaves, no fs', applies: under('device'), breaks: (e, m) => FS.has(e.to) || outside()(e, m) },
  { says: 'export/ and init/ import only leaves, the cloud types, init/ and plan/ regions', applies: (m) => under('export')(m) || under('init')(m), breaks: outside('cloud/types.ts', 'init', 'plan/regions.ts') },
  { says: 'leaves (top-level modules but cli.ts and main.ts) import only leaves', applies: (m) => isLeaf(m.path), breaks: (e) => folderOf(e.to) !== undefined && !isLeaf(e.to) },
  {
    says: 'the emulator is loaded only by dynamic import (commands that do not use it do not pay for it)',
    applies: (m) => !under('emulator')(m),
    breaks: (e) => e.to.startsWith('emulator/') && e.kind !== 'dynamic',
  },
];

test('src/ has no import circles (static, type-only and dynamic imports alike)', () => {
  assert.ok(graph.size > 50, `read ${graph.size} modules`);
  assert.deepEqual(circles(graph), []);
});

test('every folder imports only what the layout allows', () => {
  const broken: string[] = [];
  for (const rule of RULES) {
    for (const m of graph.values()) {
      if (!rule.applies(m)) continue;
      for (const e of m.edges) if (rule.breaks(e, m)) broken.push(`${rule.says}: ${m.path} imports ${e.to} (${e.kind})`);
    }
  }
  assert.deepEqual(broken, []);
});

test('only cli.ts touches process.argv, process.env and process.exit', () => {
  const found = [...graph.values()].filter((m) => m.path !== 'cli.ts').flatMap((m) => m.processAccess.map((a) => `${m.path}: ${a}`));
  assert.deepEqual(found, []);
});

test('plan/ reads no clock and no randomness of its own (now and ids are passed in)', () => {
  const found = [...graph.values()].filter(under('plan')).flatMap((m) => m.clockAccess.map((a) => `${m.path}: ${a}`));
  assert.deepEqual(found, []);
});

test('the rules catch what they forbid (a circle, a command importing a command, a static emulator import)', () => {
  const mod = (path: string, edges: Edge[]): Module => ({ path, edges, processAccess: [], clockAccess: [] });
  const fake = new Map<string, Module>([
    ['a/x.ts', mod('a/x.ts', [{ to: 'b/y.ts', kind: 'type' }])],
    ['b/y.ts', mod('b/y.ts', [{ to: 'a/x.ts', kind: 'static' }])],
    ['c/z.ts', mod('c/z.ts', [])],
  ]);
  assert.deepEqual(circles(fake), [['a/x.ts', 'b/y.ts']]);
  const cmd = mod('commands/apply.ts', [
    { to: 'commands/plan.ts', kind: 'static' },
    { to: 'emulator/index.ts', kind: 'static' },
    { to: 'emulator/index.ts', kind: 'dynamic' },
  ]);
  const hits = RULES.flatMap((r) => (r.applies(cmd) ? cmd.edges.filter((e) => r.breaks(e, cmd)).map((e) => `${r.says} <- ${e.to} ${e.kind}`) : []));
  assert.equal(hits.length, 2, hits.join('\n'));
  assert.ok(hits.some((h) => h.startsWith('commands/ never import another command')));
  assert.ok(hits.some((h) => h.startsWith('the emulator is loaded only by dynamic import') && h.endsWith('static')));
  const planMod = mod('plan/plan.ts', [{ to: 'node:fs', kind: 'static' }, { to: 'state/journal.ts', kind: 'type' }, { to: 'cloud/types.ts', kind: 'type' }]);
  const planHits = RULES.filter((r) => r.applies(planMod)).flatMap((r) => planMod.edges.filter((e) => r.breaks(e, planMod)));
  assert.deepEqual(planHits.map((e) => e.to), ['node:fs', 'state/journal.ts']);
});
