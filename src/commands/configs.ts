// `cgw-batch configs`: every site's branch device config, from its connection as the API describes it (src/run/configs.ts).
import type { JournalOptions } from '../options.js';
import { writeSiteConfigs } from '../run/configs.js';
import type { Context } from '../run/context.js';

export function runConfigs(ctx: Context<JournalOptions>): Promise<number> {
  return writeSiteConfigs(ctx);
}
