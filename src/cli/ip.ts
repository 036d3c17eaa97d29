import { z } from 'zod';
import { createIpLockAdmin } from '../admin/ip-lock';
import { checkValues, flag, requiredString } from './args';
import { cliActor, type Command } from './command';

const ipArg = requiredString().min(1, 'required').max(64, 'at most 64 characters');

/** `cardauth ip unlock`. */
export const ipUnlock: Command = {
  path: ['ip', 'unlock'],
  usage: '--ip ADDR [--show]',
  summary: "clear a client IP's login budget (CARDAUTH_IP_ATTEMPTS), ending its lock; --show only prints it",
  details: [
    '--ip ADDR   the client address (an IPv6 address counts as its /64)',
    '--show      print its count and whether it is locked; change nothing',
    '',
    'Audited as ip.unlocked with the count and before/after. Its junk budgets stay.',
  ].join('\n'),
  options: { ip: { type: 'string' }, show: { type: 'boolean' } },
  async run(ctx, raw) {
    const args = checkValues('ip unlock', z.object({ ip: ipArg, show: flag }), raw.values);
    if (args.show) {
      return ctx.withServices(async (s) => {
        const { failures, remainingSec, locked } = await createIpLockAdmin(s).show(args.ip);
        ctx.io.stdout.write(`IP ${args.ip}: ${failures} refused login${failures === 1 ? '' : 's'} counted, ${locked ? `locked for ${remainingSec} s more` : 'not locked'}\n`);
        return 0;
      });
    }
    return ctx.withChanges(async (s) => {
      const { failures } = await createIpLockAdmin(s).unlock(cliActor(ctx), args.ip);
      ctx.io.stdout.write(failures === 0 ? `IP ${args.ip} has no refused logins counted; nothing was changed\n` : `unlocked IP ${args.ip}: ${failures} refused login${failures === 1 ? '' : 's'} cleared\n`);
      return 0;
    });
  },
};

export const ipCommands: readonly Command[] = [ipUnlock];
