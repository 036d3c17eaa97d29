import type { AuditEventInput, AuditSink } from '../audit/record';
import type { RequestSource } from '../policy/lockout';
import type { AccountStore } from '../store/accounts';
import { cardAudit } from './card-step';
import type { LoginResult, SessionUser } from './session-user';

export interface SessionOpenerDeps {
  audit: AuditSink;
  accounts: Pick<AccountStore, 'recordLogin'>;
  locks: { bind(sessionId: string, agentId: string, uid: string, ttlSec: number): Promise<void> };
  sessionTtlSec: number;
}

/**
 * Turns a successful login into the session payload, under the id the session will
 * have (createLogIn runs it before Passport regenerates the session, so a failure here
 * leaves the request's own session, e.g. a passed card step, as it was): it writes the login's records first (the password step's success, an unlock's,
 * then `session.created`, handed to the audit log in one tick so its group commit writes
 * them in one script call), so if the audit cannot be written the session is never saved
 * (no audit record, no session), and, in the same round trip, indexes the session by card and
 * agent for tap-out. Then it stores this login as the account's last one and keeps the
 * previous one, and the failed attempts on the account since, to show the user (УПД.6).
 *
 * @example
 * const logIn = createLogIn((result, id, req) => openSession(result, id, requestSource(req)));
 */
export function createSessionOpener(deps: SessionOpenerDeps) {
  return async function openSession(result: LoginResult, sessionId: string, source: RequestSource): Promise<SessionUser> {
    const { account, card, authTime } = result;
    const created: AuditEventInput = {
      type: 'session.created',
      outcome: 'success',
      subject: { accountId: account.id, login: account.login },
      ...cardAudit(card, { ...source, workstation: card.workstation }),
      sessionId,
      details: { amr: 'sc pwd' },
    };
    // The records are appended in one tick, so the audit log's group commit writes them in one
    // script call; alongside, the session is indexed by card and agent so a tap-out can find and
    // lock it (an entry whose session is never saved, because the audit failed, names nothing and
    // the card's next tap-out drops it). Then, and only then, this login becomes the account's
    // last one: a session that failed here must not show as a login.
    await Promise.all([...[...result.records, created].map((r) => deps.audit.append(r)), deps.locks.bind(sessionId, card.agentId, card.uid, deps.sessionTtlSec)]);
    const { previous, failedAttempts } = await deps.accounts.recordLogin(account.id, { at: authTime, workstation: card.workstation });
    return {
      accountId: account.id,
      login: account.login,
      displayName: account.displayName,
      roles: [...account.roles],
      amr: ['sc', 'pwd'],
      authTime,
      cardUid: card.uid,
      agentId: card.agentId,
      workstation: card.workstation,
      reader: card.reader,
      previousLogin: previous,
      failedAttempts,
    };
  };
}
