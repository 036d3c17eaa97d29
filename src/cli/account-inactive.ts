import { z } from 'zod';
import { createInactiveAccountBlock } from '../admin/inactive-accounts';
import { checkValues, flag } from './args';
import { cliActor, type Command } from './command';
import { isoTime, printList, type Column } from './output';
import type { CliServices } from './services';

interface UnusedView {
  login: string;
  id: string;
  lastActivity: string | undefined;
}

const COLUMNS: Column<UnusedView>[] = [
  { heading: 'LOGIN', cell: (a) => a.login },
  { heading: 'ID', cell: (a) => a.id },
  { heading: 'LAST ACTIVITY', cell: (a) => a.lastActivity },
];

/** `--days N`: 7 to 3650. */
const daysArg = z
  .string()
  .regex(/^\d+$/, 'must be a whole number of days')
  .transform(Number)
  .refine((n) => n >= 7 && n <= 3650, 'must be from 7 to 3650 days');

/** `cardauth account block-inactive`. */
export const accountBlockInactive: Command = {
  path: ['account', 'block-inactive'],
  usage: '[--days N] [--dry-run] [--json]',
  summary: 'block the accounts unused for CARDAUTH_INACTIVE_BLOCK_DAYS days (ИАФ.1); for cron',
  details: [
    '--days N      this many days instead of CARDAUTH_INACTIVE_BLOCK_DAYS (7 to 3650)',
    '--dry-run     list the accounts it would block and change nothing',
    '--json        the accounts blocked (or that would be) as JSON',
    'Unused: no login for that long, counted from creation or the last unblock when later. Each block is audited',
    'account.blocked, reason inactive. The server runs the same sweep hourly; this command is for cron, a one-off run',
    'or a check. With CARDAUTH_INACTIVE_BLOCK_DAYS=0 and no --days it does nothing.',
  ].join('\n'),
  options: { days: { type: 'string' }, 'dry-run': { type: 'boolean' }, json: { type: 'boolean' } },
  async run(ctx, raw) {
    const args = checkValues('account block-inactive', z.object({ days: daysArg.optional(), 'dry-run': flag, json: flag }), raw.values);
    const dryRun = args['dry-run'];
    const run = async (s: CliServices, days: number) => {
      const { blocked } = await createInactiveAccountBlock(s)(cliActor(ctx), { days, now: ctx.clock.now(), dryRun });
      const views = blocked.map(({ account, lastActivity }) => ({ login: account.login, id: account.id, lastActivity: isoTime(lastActivity) }));
      printList(ctx.io.stdout, views, COLUMNS, { json: args.json, empty: `no account unused for ${days} days` });
      if (!args.json && views.length > 0) ctx.io.stdout.write(`${dryRun ? 'would block' : 'blocked'} ${views.length} account(s) unused for ${days} days\n`);
      return 0;
    };
    const go = (s: CliServices) => {
      const days = args.days ?? s.inactiveBlockDays;
      if (days === 0) {
        ctx.io.stdout.write('CARDAUTH_INACTIVE_BLOCK_DAYS is 0: blocking unused accounts is off (give --days N to run it anyway)\n');
        return Promise.resolve(0);
      }
      return run(s, days);
    };
    return dryRun ? ctx.withServices(go) : ctx.withChanges(go);
  },
};
