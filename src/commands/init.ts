// `cgw-batch init [FILE]`: a commented example manifest to start from (CSV, YAML or an xlsx with Text columns).
import { EXIT, UsageError } from '../errors.js';
import type { FileOptions } from '../options.js';
import type { Context } from '../run/context.js';
import { formatOfName, writeNewFile } from '../run/write-new.js';

export async function runInit(ctx: Context<FileOptions>): Promise<number> {
  const o = ctx.options;
  const byName = formatOfName(o.output);
  if (o.output && o.fileFormat && byName && byName !== o.fileFormat) {
    throw new UsageError(`--format ${o.fileFormat} does not match the file name ${o.output}`);
  }
  const format = o.fileFormat ?? byName ?? 'csv';
  if (format === 'xlsx' && !o.output) throw new UsageError('an xlsx template needs a file name: cgw-batch init sites.xlsx');
  // exceljs is loaded only when a workbook is asked for.
  const { manifestTemplate } = await import('../init/template.js');
  const content = await manifestTemplate(format);
  if (!o.output) {
    ctx.out.write(String(content));
    return EXIT.ok;
  }
  await writeNewFile(o.output, content);
  ctx.err.write(`wrote a manifest template (${format}) to ${o.output}; fill it in, then: cgw-batch plan ${o.output}\n`);
  return EXIT.ok;
}
