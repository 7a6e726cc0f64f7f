// Locates the repository root from either test/ (tsx) or dist/test/ (compiled), so fixtures are read from the source tree.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

function findRoot(start: string): string {
  let dir = start;
  for (;;) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'tsconfig.json'))) return dir;
    const up = dirname(dir);
    if (up === dir) throw new Error('repository root not found');
    dir = up;
  }
}

export const repoRoot = findRoot(dirname(fileURLToPath(import.meta.url)));
export const fixturesDir = join(repoRoot, 'test', 'fixtures');
/** The built CLI entry (tests that spawn the CLI need `npm run build` first; npm test does it). */
export const cliBin = join(repoRoot, 'bin', 'cgw-batch.js');

export function fixture(...parts: string[]): string {
  return join(fixturesDir, ...parts);
}
