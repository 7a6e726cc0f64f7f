// Shared fixtures for the state tests: a temp dir with a manifest and default open options.
import type { OpenOptions } from '../../src/state/journal.js';
import { tempDir } from '../helpers/tmp.js';

export function stateDir(): ReturnType<typeof tempDir> & { state: string; opts: (extra?: Partial<OpenOptions>) => OpenOptions; warnings: string[] } {
  const t = tempDir({ 'branches.csv': 'region,ip\ncn-hangzhou,1.2.3.4\n' });
  const warnings: string[] = [];
  return {
    ...t,
    state: t.path('branches.csv.state.jsonl'),
    warnings,
    opts: (extra = {}) => ({
      manifest: { path: t.path('branches.csv'), hash: 'hash-1' },
      endpoint: 'http://127.0.0.1:18080',
      caller: { accountId: '1234567890123456', accessKeyId: 'LTAI5tTestKey' },
      onWarning: (m: string) => warnings.push(m),
      ...extra,
    }),
  };
}
