import { endedRecord, factorOf } from '../admin/end-sessions';
import { sha256Hex, type AuditEventInput, type AuditSink } from '../audit/record';
import { CardauthError } from '../errors';
import { passPresenceGate, type PresenceGate } from '../presence/login-gate';
import type { RequestSource } from '../policy/lockout';
import type { SessionRules } from '../policy/session-rules';
import type { SessionSlots } from '../store/session-slots';
import type { LiveSession, SessionSweep } from '../store/session-sweep';
import type { AccountStore } from '../store/accounts';
import { cardAudit } from './card-step';
import type { LoginResult, SessionUser } from './session-user';

export interface SessionOpenerDeps {
  audit: AuditSink;
  accounts: Pick<AccountStore, 'recordLogin'>;
  /** The account's session slots; taking one also indexes the session by card and agent for tap-out. */
  slots: SessionSlots;
  /** Ends sessions by id on every node, as an officer's end does. */
  sessions: Pick<SessionSweep, 'endIds'>;
  /** The session rules of an account's roles (createSessionRules). */
  rules: (roles: readonly string[]) => SessionRules;
  sessionTtlSec: number;
  /** The presence gate (CARDAUTH_PRESENCE_ROLES, an account's own flag); null for an account not gated, at no cost. */
  presenceGate?: PresenceGate;
}

/** Where a login comes from, and what it asks besides (createLogIn reads it off the request). */
export interface OpenContext {
  source: RequestSource;
  /** The request's own session, which the login replaces (an unlock's locked one): not counted against the limit. */
  replacing: string;
  /** Handles (SHA-256 of the id) of the account's other sessions to end when the limit is reached. */
  endSessions: readonly string[];
}

/** Another session of the account, as the login at its limit shows it: a handle, never its id. */
export interface OtherSession {
  handle: string;
  workstation: string | null;
  ip: string | null;
  /** ISO time of its card + password login. */
  since: string | null;
  locked: boolean;
}

const other = (s: LiveSession): OtherSession => ({
  handle: sha256Hex(s.sessionId),
  workstation: s.workstation ?? null,
  ip: s.ip ?? null,
  since: s.authTime !== undefined ? new Date(s.authTime).toISOString() : null,
  locked: s.locked !== undefined,
});

/**
 * Turns a successful login into the session payload, under the id the session will
 * have (createLogIn runs it before Passport regenerates the session, so a failure here
 * leaves the request's own session, e.g. a passed card step, as it was).
 *
 * First it takes one of the account's session slots (issue 10 §4: its roles' limit of live
 * sessions, counted atomically across nodes). At the limit, when the login names some of the
 * other sessions (`endSessions`, their handles; both factors were proven in this same request),
 * those end on every node as an officer's end does (`session.ended`, reason `limit`, cause
 * `session_limit`, the account itself the actor) and the slot is taken again; if still full,
 * nothing opens: `login.refused` (reason `session_limit`) is written with the login's records
 * and the login answers 409 `session_limit` with the other sessions.
 *
 * Then it writes the login's records (the password step's success, an unlock's,
 * then `session.created`, handed to the audit log in one tick so its group commit writes
 * them in one script call), so if the audit cannot be written the session is never saved
 * (no audit record, no session) and the slot is given back. Then it stores this login as
 * the account's last one and keeps the previous one, and the failed attempts on the account
 * since, to show the user (УПД.6).
 *
 * @example
 * const logIn = createLogIn((result, id, req) => openSession(result, id, { source: requestSource(req), replacing: req.sessionID, endSessions: [] }));
 */
export function createSessionOpener(deps: SessionOpenerDeps) {
  return async function openSession(result: LoginResult, sessionId: string, ctx: OpenContext): Promise<SessionUser> {
    const { account, card, authTime } = result;
    const subject = { accountId: account.id, login: account.login };
    const about = cardAudit(card, { ...ctx.source, workstation: card.workstation });
    // The presence gate, for a gated account: after both factors, before a slot is taken or
    // another session ended. A refusal writes the login's records and the gate's, and opens nothing.
    const records = await passPresenceGate(deps.presenceGate, account, deps.audit, result.records);
    const rules = deps.rules(account.roles);
    const slot = {
      accountId: account.id,
      sessionId,
      replacing: ctx.replacing,
      agentId: card.agentId,
      uid: card.uid,
      now: authTime,
      expiresAt: authTime + rules.maxSec * 1000,
      limit: rules.limit,
      cardIndexTtlSec: deps.sessionTtlSec,
    };
    let taken = await deps.slots.take(slot);
    if (!taken.ok && ctx.endSessions.length > 0) {
      const chosen = taken.live.filter((s) => ctx.endSessions.includes(sha256Hex(s.sessionId)));
      if (chosen.length > 0) {
        // The records first: an end the audit could not record does not happen (it may show an
        // end that then failed, never an end without its record).
        await Promise.all(chosen.map((s) => deps.audit.append({ ...endedRecord(s, 'session_limit', factorOf(s)), reason: 'limit', actor: `acct:${account.id}` })));
        await deps.sessions.endIds(chosen.map((s) => s.sessionId));
        taken = await deps.slots.take(slot);
      }
    }
    if (!taken.ok) {
      const refused: AuditEventInput = { type: 'login.refused', outcome: 'failure', reason: 'session_limit', subject, ...about, sessionId: ctx.replacing, details: { limit: rules.limit } };
      await Promise.all([...records, refused].map((r) => deps.audit.append(r)));
      throw new CardauthError('session_limit', `this account already has its ${rules.limit} session(s); end one to log in`, { answer: { limit: rules.limit, sessions: taken.live.map(other) } });
    }
    const created: AuditEventInput = { type: 'session.created', outcome: 'success', subject, ...about, sessionId, details: { amr: 'sc pwd' } };
    // The records are appended in one tick, so the audit log's group commit writes them in one
    // script call. Then, and only then, this login becomes the account's last one: a session
    // that failed here must not show as a login.
    try {
      await Promise.all([...records, created].map((r) => deps.audit.append(r)));
    } catch (err) {
      await deps.slots.release(account.id, sessionId).catch(() => undefined); // else the pending key frees it within a minute
      throw err;
    }
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
      ip: ctx.source.ip,
      idleSec: rules.idleSec,
      maxSec: rules.maxSec,
      previousLogin: previous,
      failedAttempts,
    };
  };
}
