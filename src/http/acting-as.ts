import type { Request } from 'express';
import type { ChangedBy } from '../admin/record-change';
import { CardauthError } from '../errors';
import { ROLES } from '../store/accounts';
import type { SessionUser } from '../strategies/session-user';
import { requestSource } from './request-source';

/** The acting account as stored now: its roles, not those its session opened with. */
export interface ActorLookup {
  get(id: string): Promise<{ id: string; roles: readonly string[]; status: 'active' | 'blocked' } | null>;
}

/**
 * Who a logged-in request acts as, for the officer's use cases: `acct:<id>` via `web` from the
 * client's IP and user agent (domain.md §7: the source of every record), with the account's roles as stored (a blocked or vanished account is `forbidden`).
 * The admin JSON API and the workbench pages both use it, so both act alike.
 *
 * @example
 * await admin.accounts.block(await actingAs(accounts, req), { login: 'ivanova' });
 */
export async function actingAs(accounts: ActorLookup, req: Request): Promise<ChangedBy> {
  const me = await accounts.get((req.user as SessionUser).accountId);
  if (!me || me.status !== 'active') throw new CardauthError('forbidden', 'this account may not act');
  const roles = ROLES.filter((r) => me.roles.includes(r));
  const { ip, userAgent } = requestSource(req);
  return { actor: `acct:${me.id}`, via: { via: 'web', ip, ...(userAgent !== undefined ? { userAgent } : {}) }, principal: { accountId: me.id, roles } };
}
