// `cgw-batch state show|unlock|migrate`: a journal shared by a team, its lease and its backend.
import type { StateOptions } from '../options.js';
import type { Context } from '../run/context.js';
import { migrateState, showState, unlockState } from '../run/state-admin.js';

export function runState(ctx: Context<StateOptions>): Promise<number> {
  switch (ctx.options.action) {
    case 'show':
      return showState(ctx);
    case 'unlock':
      return unlockState(ctx);
    case 'migrate':
      return migrateState(ctx);
  }
}
