// The site flags: --profiles FILE (plan, apply, import, status, report) and --quota-vpn-connections N (plan, apply).
import './helpers/env.js';
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { UsageError } from '../src/errors.js';
import { commandHelp, resolveOptions, type Terminal } from '../src/options.js';

const TERM: Terminal = { cwd: '/work/site', env: {}, stdoutIsTTY: false, stderrIsTTY: false, stdinIsTTY: false };
const opts = (argv: string[]) => {
  const p = resolveOptions(argv, TERM);
  if (p.kind !== 'run') throw new Error(p.kind);
  return p.options;
};

test('--profiles is a path made absolute; --quota-vpn-connections a positive whole number, default 10', () => {
  const o = opts(['plan', 'sites.csv', '--profiles', 'p/profiles.yaml', '--quota-vpn-connections', '30']);
  assert.equal(o.profiles, '/work/site/p/profiles.yaml');
  assert.equal(o.vpnQuota, 30);
  assert.equal(o.vpnQuotaGiven, true);
  const d = opts(['apply', 'sites.csv']);
  assert.equal(d.vpnQuota, 10);
  assert.equal(d.vpnQuotaGiven, false);
  assert.equal(d.profiles, undefined);
  for (const c of ['import', 'status', 'report']) assert.equal(opts([c, 'sites.csv', '--profiles', 'x.yaml']).profiles, '/work/site/x.yaml');
  assert.throws(() => resolveOptions(['plan', 's.csv', '--quota-vpn-connections', '0'], TERM), (e: unknown) => e instanceof UsageError && /--quota-vpn-connections needs a whole number from 1 to 1000 \(IPsec connections per VPN gateway\), got '0'/.test(e.message));
  assert.throws(() => resolveOptions(['destroy', 's.csv', '--profiles', 'x'], TERM), (e: unknown) => e instanceof UsageError && /does not take --profiles \(plan, apply, import, status, report, configs take it\)/.test(e.message));
  assert.throws(() => resolveOptions(['import', 's.csv', '--quota-vpn-connections', '3'], TERM), (e: unknown) => e instanceof UsageError && /\(plan, apply take it\)/.test(e.message));
  assert.match(commandHelp('plan'), /--quota-vpn-connections N\s+IPsec connections allowed per VPN gateway \(default 10\)/);
  assert.match(commandHelp('apply'), /--profiles FILE\s+IPsec profiles the ike_profile column names/);
});
