// `cgw-batch export --region R[,R...]`: the gateways that already exist, written as a manifest that `import` adopts
// and `plan` then shows with nothing to do. AuthKeys are never written: each becomes an env:NAME reference.
import { EXIT, UsageError } from '../errors.js';
import type { FileOptions } from '../options.js';
import { DEFAULT_PROFILE } from '../plan/site-rules.js';
import { warn, type Context } from '../run/context.js';
import { listRegions, listVpn, offeredRegions, openSession } from '../run/session.js';
import { formatOfName, writeNewFile } from '../run/write-new.js';
import { printable } from '../text.js';

export async function runExport(ctx: Context<FileOptions>): Promise<number> {
  const o = ctx.options;
  const byName = formatOfName(o.output);
  if (o.output && o.fileFormat && byName && byName !== o.fileFormat) throw new UsageError(`--format ${o.fileFormat} does not match the file name ${o.output}`);
  const format = o.fileFormat ?? byName ?? 'csv';
  if (format === 'xlsx' && !o.output) throw new UsageError('an xlsx export needs a file: cgw-batch export --region R --format xlsx -o sites.xlsx');
  const [first] = o.regions;
  if (first === undefined) throw new UsageError('cgw-batch export needs --region R[,R...]: the regions whose gateways to write');
  const session = await openSession(ctx, undefined);
  try {
    const offered = await offeredRegions(session, first);
    const unknown = o.regions.filter((r) => !offered.has(r));
    if (unknown.length > 0) throw new UsageError(`unknown region(s) ${unknown.join(', ')}: not offered to this account (DescribeRegions)`);
    const inventory = await listRegions(ctx, session, o.regions);
    const gateways = [...inventory.values()].flat();
    // Sites: every IPsec connection of the regions (its customer gateway's row gets the connection's columns).
    const vpn = await listVpn(session, o.regions);
    const connections = [...(vpn?.values() ?? [])].flatMap((v) => v.connections);
    const vpnGateways = [...(vpn?.values() ?? [])].flatMap((v) => v.gateways);
    const { exportManifest } = await import('../export/manifest.js');
    const out = await exportManifest(gateways, format, { vpn: { connections, gateways: vpnGateways }, defaults: DEFAULT_PROFILE });
    const profilesFile = out.profilesYaml !== undefined && o.output ? o.output.replace(/(\.csv)?$/i, '.profiles.yaml') : undefined;
    if (out.profilesYaml !== undefined && !o.output) {
      throw new UsageError('these connections have IPsec parameters other than the defaults: a CSV export writes them to a profiles file beside it, so it needs -o FILE (or use --format yaml)');
    }
    if (profilesFile !== undefined) await writeNewFile(profilesFile, out.profilesYaml!);
    if (o.output) await writeNewFile(o.output, out.content);
    else ctx.out.write(String(out.content));
    const where = `account ${session.caller.accountId ?? '(unknown)'} at ${session.endpoint}`;
    const sites = connections.length > 0 ? ` and ${connections.length} IPsec connection(s)` : '';
    ctx.err.write(`exported ${gateways.length} gateway(s)${sites} of ${o.regions.join(', ')} (${where})${o.output ? ` to ${o.output}` : ''}\n`);
    if (profilesFile !== undefined) ctx.err.write(`the connections' IPsec profiles are in ${profilesFile}: plan the CSV with --profiles ${profilesFile}\n`);
    for (const n of out.notes) warn(ctx, n);
    const keys = out.envVars.filter((v) => v.name.startsWith('CGW_AUTHKEY_'));
    const psks = out.envVars.filter((v) => v.name.startsWith('CGW_PSK_'));
    if (keys.length > 0) {
      ctx.err.write(`${keys.length} gateway(s) have a BGP AuthKey; the manifest reads each from a variable. Set these before planning:\n`);
      for (const v of keys) ctx.err.write(`  ${printable(v.name)}   (${printable(v.gatewayId)})\n`);
    }
    if (psks.length > 0) {
      ctx.err.write(`${psks.length} connection(s) have a pre-shared key; the manifest reads each from a variable (set it to the key the branch device uses):\n`);
      for (const v of psks) ctx.err.write(`  ${printable(v.name)}   (${printable(v.gatewayId)})\n`);
    }
    ctx.err.write(`next: cgw-batch import ${o.output ?? '<file>'}${profilesFile ? ` --profiles ${profilesFile}` : ''} to adopt them, then cgw-batch plan shows nothing to do\n`);
    return EXIT.ok;
  } finally {
    await session.close();
  }
}
