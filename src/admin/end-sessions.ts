import { CardauthError } from '../errors';
import { explain } from '../logger';
import type { Stores } from '../services';
import type { EndedSession, LiveSession, SessionMatch } from '../store/session-sweep';
import { recordChange, type ChangedBy, type ChangeRecord } from './record-change';

/** What ended the sessions: a card or agent revoked, an account blocked or given new roles. */
export interface EndedBy {
  /** For messages, e.g. `card 04A2…`, `agent ag_…` or `account ivanova`. */
  what: string;
  match: SessionMatch;
  cause: 'card_revoked' | 'agent_revoked' | 'account_blocked' | 'roles_changed' | 'password_reset';
  /** The change's own record (the revocation, the block, the role change); absent when it was made before (a repeat). */
  change?: ChangeRecord;
}

/**
 * The `session.ended` record (reason `admin`) of a session an officer's change ended, with why (`cause`) and
 * what it was opened with (`factor`: its card, its agent).
 *
 * @example
 * endedRecord(e, 'officer', { cardUid: '04A2…' })
 */
export function endedRecord(e: EndedSession, cause: string, factor: Pick<ChangeRecord, 'cardUid' | 'source'>): ChangeRecord {
  return { type: 'session.ended', outcome: 'success', reason: 'admin', subject: { accountId: e.accountId, login: e.login }, sessionId: e.sessionId, ...factor, details: { cause } };
}

/**
 * What a live session was opened with, for its `session.ended` record: its card, its agent and workstation.
 *
 * @example
 * endedRecord(found, 'officer', factorOf(found))
 */
export function factorOf(s: Pick<LiveSession, 'cardUid' | 'agentId' | 'workstation'>): Pick<ChangeRecord, 'cardUid' | 'source'> {
  const { cardUid, agentId, workstation } = s;
  return { ...(cardUid !== undefined ? { cardUid } : {}), ...(agentId !== undefined ? { source: { agentId, ...(workstation !== undefined ? { workstation } : {}) } } : {}) };
}

const DONE: Record<EndedBy['cause'], string> = { card_revoked: 'revoked', agent_revoked: 'revoked', account_blocked: 'blocked', roles_changed: 'given new roles', password_reset: 'given a one-time password' };

/**
 * What revoking a card or an agent and blocking an account do once the store
 * has revoked (or found revoked) it, or blocked the account: end the sessions
 * opened with it, then write the change's record, then one `session.ended`
 * (reason `admin`, with the cause) per session. A revoked factor or a blocked
 * account must not leave a session running for the rest of its 12 hours, so
 * the sessions end before any record; if they cannot be ended, the
 * revocation is still recorded and this fails saying to do it again (a
 * repeat only ends the sessions). Answers how many sessions ended.
 *
 * @example
 * const ended = await endSessionsOf(stores, by, { what: `card ${uid}`, match: { cardUid: uid }, cause: 'card_revoked', change: record });
 */
export async function endSessionsOf(s: Pick<Stores, 'sessions' | 'audit'>, by: ChangedBy, f: EndedBy): Promise<number> {
  const { what, match, cause, change } = f;
  const verb = DONE[cause];
  let ended;
  try {
    ended = await s.sessions.end(match);
  } catch (err) {
    if (change) await recordChange(s.audit, by, change, `${what} was ${verb} (its open sessions could not be ended)`);
    const done = change ? `was ${verb} and audited` : `is ${verb}`;
    throw new CardauthError('unavailable', `${what} ${done}, but its open sessions could not be ended: ${explain(err)}; run the command again to end them`, { cause: err });
  }
  if (change) await recordChange(s.audit, by, change, `${what} was ${verb} and ${ended.length} open session(s) ended`);
  for (const e of ended) {
    await recordChange(
      s.audit,
      by,
      endedRecord(e, cause, 'cardUid' in match ? { cardUid: match.cardUid } : 'agentId' in match ? { source: { agentId: match.agentId } } : {}),
      `${ended.length} open session(s) were ended, but not all of their session.ended records were written`,
    );
  }
  return ended.length;
}
