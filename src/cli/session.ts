import { z } from 'zod';
import { createSessionAdmin, type SessionView } from '../admin/sessions';
import { checkValues, flag, loginArg, requiredString } from './args';
import { cliActor, type Command } from './command';
import { isoTime, printList, type Column } from './output';

/** A session handle: the SHA-256 hex of its id, as `session list` prints it (and the audit's `sessionIdHash`). */
export const HANDLE = /^[0-9a-f]{64}$/;

const COLUMNS: Column<SessionView>[] = [
  { heading: 'HANDLE', cell: (s) => s.handle },
  { heading: 'LOGIN', cell: (s) => s.login },
  { heading: 'WORKSTATION', cell: (s) => s.workstation ?? undefined },
  { heading: 'CARD', cell: (s) => s.cardUid ?? undefined },
  { heading: 'SINCE', cell: (s) => isoTime(s.since ?? undefined) },
  { heading: 'LAST SEEN', cell: (s) => isoTime(s.lastSeen ?? undefined) },
  { heading: 'LOCKED', cell: (s) => (s.locked ? `${s.locked.reason} ${isoTime(s.locked.at) ?? ''}`.trim() : undefined) },
];

/** `cardauth session list`. */
export const sessionList: Command = {
  path: ['session', 'list'],
  usage: '[--login L] [--json]',
  summary: 'list the live sessions (logged in or locked), each by its handle, never its id',
  details: 'The handle is the SHA-256 of the session id, as the audit records it (sessionIdHash); end one with: cardauth session end --id HANDLE',
  options: { login: { type: 'string' }, json: { type: 'boolean' } },
  async run(ctx, raw) {
    const args = checkValues('session list', z.object({ login: loginArg.optional(), json: flag }), raw.values);
    return ctx.withServices(async (s) => {
      const admin = createSessionAdmin(s);
      const rows: SessionView[] = [];
      let cursor: string | undefined;
      do {
        const page = await admin.list({ login: args.login, limit: 500, cursor });
        rows.push(...page.sessions);
        cursor = page.cursor ?? undefined;
      } while (cursor !== undefined);
      printList(ctx.io.stdout, rows, COLUMNS, { json: args.json, empty: 'no live sessions' });
      return 0;
    });
  },
};

/** `cardauth session end`. */
export const sessionEnd: Command = {
  path: ['session', 'end'],
  usage: '--id HANDLE',
  summary: 'end one session on every node (its OpenID applications are logged out too); audited session.ended, cause officer',
  details: '--id HANDLE   the handle `cardauth session list` prints (64 hex digits)',
  options: { id: { type: 'string' } },
  async run(ctx, raw) {
    const args = checkValues('session end', z.object({ id: requiredString().regex(HANDLE, 'must be a session handle (64 hex digits, as session list prints it)') }), raw.values);
    return ctx.withChanges(async (s) => {
      const ended = await createSessionAdmin(s).end(cliActor(ctx), args.id);
      ctx.io.stdout.write(`ended the session of ${ended.login}${ended.workstation ? ` at ${ended.workstation}` : ''}\n`);
      return 0;
    });
  },
};

export const sessionCommands: readonly Command[] = [sessionList, sessionEnd];
