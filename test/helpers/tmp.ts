// Temp directories for tests: an inline file tree written to a fresh dir, removed after the test.
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

export function tempDir(files: Record<string, string | Buffer> = {}): { dir: string; path: (p: string) => string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'cgw-test-'));
  for (const [name, content] of Object.entries(files)) {
    const p = join(dir, name);
    mkdirSync(dirname(p), { recursive: true });
    writeFileSync(p, content);
  }
  return { dir, path: (p) => join(dir, p), cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}
