// `cgw-batch export --region R[,R...]`: the gateways that already exist, written as a manifest that `import` adopts
// and `plan` then shows with nothing to do. AuthKeys are never written: each becomes an env:NAME reference.
import { EXIT, UsageError } from '../errors.js';
import type { FileOptions } from '../options.js';
import { warn, type Context } from '../run/context.js';
import { listRegions, offeredRegions, openSession } from '../run/session.js';
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
    const { exportManifest } = await import('../export/manifest.js');
    const out = await exportManifest(gateways, format);
    if (o.output) await writeNewFile(o.output, out.content);
    else ctx.out.write(String(out.content));
    const where = `account ${session.caller.accountId ?? '(unknown)'} at ${session.endpoint}`;
    ctx.err.write(`exported ${gateways.length} gateway(s) of ${o.regions.join(', ')} (${where})${o.output ? ` to ${o.output}` : ''}\n`);
    for (const n of out.notes) warn(ctx, n);
    if (out.envVars.length > 0) {
      ctx.err.write(`${out.envVars.length} gateway(s) have a BGP AuthKey; the manifest reads each from a variable. Set these before planning:\n`);
      for (const v of out.envVars) ctx.err.write(`  ${printable(v.name)}   (${printable(v.gatewayId)})\n`);
    }
    ctx.err.write(`next: cgw-batch import ${o.output ?? '<file>'} to adopt them, then cgw-batch plan shows nothing to do\n`);
    return EXIT.ok;
  } finally {
    await session.close();
  }
}
