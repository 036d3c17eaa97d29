import { z } from 'zod';
import { accountView, type AccountView } from '../admin/account-view';
import { createAccountAdmin } from '../admin/accounts';
import { checkValues, flag, loginArg, rolesArg, textArg } from './args';
import { cliActor, type Command } from './command';
import { readPasswordLine } from './input';
import { endedPhrase, printList, type Column } from './output';

const COLUMNS: Column<AccountView>[] = [
  { heading: 'LOGIN', cell: (a) => a.login },
  { heading: 'ID', cell: (a) => a.id },
  { heading: 'NAME', cell: (a) => a.displayName },
  { heading: 'ROLES', cell: (a) => a.roles.join(',') },
  { heading: 'STATUS', cell: (a) => a.status },
  { heading: 'CREATED', cell: (a) => a.createdAt },
  { heading: 'LAST LOGIN', cell: (a) => (a.lastLoginAt ? `${a.lastLoginAt} ${a.lastLoginWorkstation ?? ''}` : undefined) },
];

const CreateArgs = z.object({
  login: loginArg,
  name: textArg('name', 128),
  role: rolesArg,
  'password-stdin': z.literal(true, { error: 'required: the password is read from stdin, never from the command line' }),
});

/** `cardauth account create`. */
export const accountCreate: Command = {
  path: ['account', 'create'],
  usage: '--login L --name N --role R [--role R2] --password-stdin',
  summary: 'create an account; the password is the first line of stdin',
  details: [
    '--login L          the login, unique regardless of case (at most 64 characters)',
    '--name N           display name, e.g. "Иванова А. П."',
    `--role R           clinician, security_officer, auditor or chief_admin; repeat or comma-separate for several`,
    '--password-stdin   read the password from the first line of stdin (a pipe, not a terminal)',
  ].join('\n'),
  options: { login: { type: 'string' }, name: { type: 'string' }, role: { type: 'string', multiple: true }, 'password-stdin': { type: 'boolean' } },
  async run(ctx, raw) {
    const cmd = 'account create';
    const args = checkValues(cmd, CreateArgs, raw.values);
    const password = await readPasswordLine(cmd, ctx.io.stdin);
    return ctx.withChanges(async (s) => {
      const account = await createAccountAdmin(s).create(cliActor(ctx), { login: args.login, displayName: args.name, roles: args.role, password });
      ctx.io.stdout.write(`created account ${account.login} (${account.roles.join(', ')})\n${account.id}\n`);
      return 0;
    });
  },
};

/** `cardauth account unlock`. */
export const accountUnlock: Command = {
  path: ['account', 'unlock'],
  usage: '--login L',
  summary: "clear an account's failed password attempts, ending its lockout if it is locked",
  details: [
    '--login L   the account',
    '',
    'Clears the failed attempts counted against the account, so it can log in at once;',
    'audited as account.unlocked with the count and the time the lock had left, as stored.',
    'The limit on a client IP is not touched.',
  ].join('\n'),
  options: { login: { type: 'string' } },
  async run(ctx, raw) {
    const args = checkValues('account unlock', z.object({ login: loginArg }), raw.values);
    return ctx.withChanges(async (s) => {
      const { account, failures } = await createAccountAdmin(s).unlock(cliActor(ctx), args.login);
      if (failures === 0) {
        ctx.io.stdout.write(`account ${account.login} has no failed attempts counted; nothing was changed\n`);
        return 0;
      }
      ctx.io.stdout.write(`unlocked account ${account.login} (${account.id}): ${failures} failed attempt${failures === 1 ? '' : 's'} cleared\n`);
      return 0;
    });
  },
};

/** `cardauth account list`. */
export const accountList: Command = {
  path: ['account', 'list'],
  usage: '[--json]',
  summary: 'list accounts (never their password hashes)',
  options: { json: { type: 'boolean' } },
  async run(ctx, raw) {
    const args = checkValues('account list', z.object({ json: flag }), raw.values);
    return ctx.withServices(async (s) => {
      const accounts = (await s.accounts.list()).map(accountView);
      printList(ctx.io.stdout, accounts, COLUMNS, { json: args.json, empty: 'no accounts' });
      return 0;
    });
  },
};

/** `cardauth account block`. */
export const accountBlock: Command = {
  path: ['account', 'block'],
  usage: '--login L [--note T]',
  summary: 'block an account (it cannot log in; its open sessions end at once); accounts are never deleted',
  details: [
    '--login L   the account',
    '--note T    why, for the audit (e.g. "уволена 25.11"), up to 200 characters',
    '',
    'Audited as account.blocked, then one session.ended (reason admin, cause',
    'account_blocked) per session ended. Safe to repeat: an account already',
    'blocked only has its sessions ended.',
  ].join('\n'),
  options: { login: { type: 'string' }, note: { type: 'string' } },
  async run(ctx, raw) {
    const args = checkValues('account block', z.object({ login: loginArg, note: textArg('note', 200).optional() }), raw.values);
    return ctx.withChanges(async (s) => {
      const { account, already, ended } = await createAccountAdmin(s).block(cliActor(ctx), args);
      ctx.io.stdout.write(
        already ? `account ${account.login} (${account.id}) was already blocked; ${endedPhrase(ended)}\n` : `blocked account ${account.login} (${account.id}); ${endedPhrase(ended)}\n`,
      );
      return 0;
    });
  },
};

/** `cardauth account unblock`. */
export const accountUnblock: Command = {
  path: ['account', 'unblock'],
  usage: '--login L [--note T]',
  summary: 'unblock a blocked account, so it can log in again with its card and password',
  details: ['--login L   the account', '--note T    why, for the audit, up to 200 characters', '', 'Audited as account.unblocked.'].join('\n'),
  options: { login: { type: 'string' }, note: { type: 'string' } },
  async run(ctx, raw) {
    const args = checkValues('account unblock', z.object({ login: loginArg, note: textArg('note', 200).optional() }), raw.values);
    return ctx.withChanges(async (s) => {
      const { account, changed } = await createAccountAdmin(s).unblock(cliActor(ctx), args);
      if (!changed) {
        ctx.io.stdout.write(`account ${account.login} is not blocked; nothing was changed\n`);
        return 0;
      }
      ctx.io.stdout.write(`unblocked account ${account.login} (${account.id})\n`);
      return 0;
    });
  },
};

/** `cardauth account reset-password`. */
export const accountResetPassword: Command = {
  path: ['account', 'reset-password'],
  usage: '--login L',
  summary: 'give an account a one-time password, printed alone on the last line; it must be changed at the next login',
  details: [
    '--login L   the account',
    '',
    'The new password is generated to the policy profile (`cardauth policy show`) and shown',
    'once: hand it to the user. The old one stops working at once. At the next login, after',
    'the card and this password, the user sets their own before the session opens.',
    'Audited as password.reset (never the password). The account\'s open sessions end (each',
    'session.ended, cause password_reset). A lockout stays: `account unlock` ends it.',
  ].join('\n'),
  options: { login: { type: 'string' } },
  async run(ctx, raw) {
    const args = checkValues('account reset-password', z.object({ login: loginArg }), raw.values);
    return ctx.withChanges(async (s) => {
      const { account, password, ended } = await createAccountAdmin(s).resetPassword(cliActor(ctx), args.login);
      ctx.io.stdout.write(`reset the password of account ${account.login} (${account.id}); ${ended} open session(s) ended; it must be changed at the next login. One-time password:\n${password}\n`);
      return 0;
    });
  },
};

const RolesArgs = z
  .object({ login: loginArg, set: rolesArg.optional(), add: rolesArg.optional(), remove: rolesArg.optional() })
  .refine((a) => (a.set !== undefined) !== (a.add !== undefined || a.remove !== undefined), { message: 'give either --set, or --add and/or --remove' });

/** `cardauth account roles`. */
export const accountRoles: Command = {
  path: ['account', 'roles'],
  usage: '--login L (--set R[,R2] | --add R | --remove R)',
  summary: "change an account's roles",
  details: [
    '--login L    the account',
    '--set R      the roles it holds from now on (repeat or comma-separate for several)',
    '--add R      roles to add; --remove R roles to take away (either or both)',
    '',
    'Roles: clinician, security_officer, auditor, chief_admin; an account keeps at least one.',
    'Audited as account.role_changed with details.before and details.after; the account\'s open',
    'sessions end (one session.ended each, cause roles_changed), so the new roles hold from its',
    'next login. Safe to repeat: roles already so only have the sessions ended.',
  ].join('\n'),
  options: { login: { type: 'string' }, set: { type: 'string', multiple: true }, add: { type: 'string', multiple: true }, remove: { type: 'string', multiple: true } },
  async run(ctx, raw) {
    const args = checkValues('account roles', RolesArgs, raw.values);
    return ctx.withChanges(async (s) => {
      const { account, before, changed, ended } = await createAccountAdmin(s).changeRoles(cliActor(ctx), args);
      if (!changed) {
        ctx.io.stdout.write(`account ${account.login} already has the roles ${account.roles.join(', ')}; ${endedPhrase(ended)}\n`);
        return 0;
      }
      ctx.io.stdout.write(`changed the roles of account ${account.login} (${account.id}): ${before.join(', ')} -> ${account.roles.join(', ')}; ${endedPhrase(ended)}\n`);
      return 0;
    });
  },
};

export const accountCommands: readonly Command[] = [accountCreate, accountUnlock, accountResetPassword, accountBlock, accountUnblock, accountRoles, accountList];
