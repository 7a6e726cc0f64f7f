// The import graph of src/, read with the TypeScript compiler's own parser: every static, type-only and dynamic
// import of every module, resolved to a file under src/ (or kept as a package or node: specifier).
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';

export interface Edge {
  /** Module path relative to src/, e.g. `commands/apply.ts`; a package or node: builtin keeps its specifier. */
  to: string;
  kind: 'static' | 'type' | 'dynamic';
}

export interface Module {
  /** Relative to src/, with `/` separators. */
  path: string;
  edges: Edge[];
  /** `process.argv` / `process.env` / `process.exit` / `process.exitCode` read or written here. */
  processAccess: string[];
  /** Calls that read the wall clock or randomness directly (`Date.now()`, `new Date()` without arguments, `Math.random`). */
  clockAccess: string[];
}

function walk(dir: string): string[] {
  return readdirSync(dir)
    .sort()
    .flatMap((name) => {
      const p = join(dir, name);
      if (statSync(p).isDirectory()) return walk(p);
      return p.endsWith('.ts') && !p.endsWith('.d.ts') ? [p] : [];
    });
}

function resolveSpecifier(srcDir: string, fromFile: string, spec: string): string {
  if (!spec.startsWith('.')) return spec;
  const abs = resolve(dirname(fromFile), spec).replace(/\.js$/, '.ts');
  return relative(srcDir, abs).split('\\').join('/');
}

export function importGraph(srcDir: string): Map<string, Module> {
  const out = new Map<string, Module>();
  for (const file of walk(srcDir)) {
    const text = readFileSync(file, 'utf8');
    const sf = ts.createSourceFile(file, text, ts.ScriptTarget.ES2022, true, ts.ScriptKind.TS);
    const mod: Module = { path: relative(srcDir, file).split('\\').join('/'), edges: [], processAccess: [], clockAccess: [] };
    const add = (spec: string, kind: Edge['kind']): void => {
      mod.edges.push({ to: resolveSpecifier(srcDir, file, spec), kind });
    };
    const line = (n: ts.Node): number => sf.getLineAndCharacterOfPosition(n.getStart()).line + 1;
    const visit = (n: ts.Node): void => {
      if (ts.isImportDeclaration(n) && ts.isStringLiteral(n.moduleSpecifier)) {
        const typeOnly = n.importClause?.isTypeOnly === true;
        add(n.moduleSpecifier.text, typeOnly ? 'type' : 'static');
      } else if (ts.isExportDeclaration(n) && n.moduleSpecifier && ts.isStringLiteral(n.moduleSpecifier)) {
        add(n.moduleSpecifier.text, n.isTypeOnly ? 'type' : 'static');
      } else if (ts.isCallExpression(n) && n.expression.kind === ts.SyntaxKind.ImportKeyword) {
        const arg = n.arguments[0];
        if (arg && ts.isStringLiteral(arg)) add(arg.text, 'dynamic');
      } else if (ts.isImportTypeNode(n) && ts.isLiteralTypeNode(n.argument) && ts.isStringLiteral(n.argument.literal)) {
        add(n.argument.literal.text, 'type');
      } else if (ts.isPropertyAccessExpression(n) && ts.isIdentifier(n.expression)) {
        const obj = n.expression.text;
        const prop = n.name.text;
        if (obj === 'process' && ['argv', 'env', 'exit', 'exitCode'].includes(prop)) mod.processAccess.push(`process.${prop} at line ${line(n)}`);
        if ((obj === 'Date' && prop === 'now') || (obj === 'Math' && prop === 'random')) mod.clockAccess.push(`${obj}.${prop} at line ${line(n)}`);
      } else if (ts.isNewExpression(n) && ts.isIdentifier(n.expression) && n.expression.text === 'Date' && (n.arguments?.length ?? 0) === 0) {
        mod.clockAccess.push(`new Date() at line ${line(n)}`);
      }
      ts.forEachChild(n, visit);
    };
    visit(sf);
    out.set(mod.path, mod);
  }
  return out;
}

/** Strongly connected components with more than one module (or a module importing itself): the import circles. */
export function circles(graph: Map<string, Module>): string[][] {
  let index = 0;
  const idx = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const on = new Set<string>();
  const found: string[][] = [];
  const strong = (v: string): void => {
    idx.set(v, index);
    low.set(v, index);
    index++;
    stack.push(v);
    on.add(v);
    for (const e of graph.get(v)?.edges ?? []) {
      if (!graph.has(e.to)) continue;
      if (!idx.has(e.to)) {
        strong(e.to);
        low.set(v, Math.min(low.get(v)!, low.get(e.to)!));
      } else if (on.has(e.to)) {
        low.set(v, Math.min(low.get(v)!, idx.get(e.to)!));
      }
    }
    if (low.get(v) === idx.get(v)) {
      const comp: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        on.delete(w);
        comp.push(w);
      } while (w !== v);
      const selfLoop = graph.get(v)?.edges.some((e) => e.to === v) ?? false;
      if (comp.length > 1 || selfLoop) found.push(comp.sort());
    }
  };
  for (const v of [...graph.keys()].sort()) if (!idx.has(v)) strong(v);
  return found;
}
