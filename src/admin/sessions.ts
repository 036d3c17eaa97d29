import { sha256Hex } from '../audit/record';
import { CardauthError } from '../errors';
import type { Stores } from '../services';
import type { LiveSession } from '../store/session-sweep';
import { endedRecord, factorOf } from './end-sessions';
import { authorize } from './permissions';
import { recordChange, type ChangedBy } from './record-change';

/**
 * A live session as an officer sees it. `handle` is the SHA-256 hex of the session id, the
 * `sessionIdHash` its audit records carry: it names the session without being a usable id.
 */
export interface SessionView {
  handle: string;
  accountId: string;
  login: string;
  /** The display name the session opened with. */
  displayName: string | null;
  workstation: string | null;
  agentId: string | null;
  cardUid: string | null;
  /** ms since epoch: the card + password login. */
  since: number | null;
  /** ms since epoch; null until the first request after the login. */
  lastSeen: number | null;
  locked: { reason: string; at: number } | null;
}

/** A page of {@link SessionView}s; `cursor` goes on to the next page, null on the last. */
export interface SessionPage {
  sessions: SessionView[];
  cursor: string | null;
}

const view = (s: LiveSession): SessionView => ({
  handle: sha256Hex(s.sessionId),
  accountId: s.accountId,
  login: s.login,
  displayName: s.displayName ?? null,
  workstation: s.workstation ?? null,
  agentId: s.agentId ?? null,
  cardUid: s.cardUid ?? null,
  since: s.authTime ?? null,
  lastSeen: s.lastSeen ?? null,
  locked: s.locked ?? null,
});

/**
 * The officer's view of live sessions (issue 10 §4): list every logged-in or locked session,
 * and end any one of them on every node. Listing is a read any admin role may make (the
 * admin API lets only those in); ending is the `session.ended` admin action: an auditor is
 * refused (audited), an officer may end any session, their own or a chief_admin's included
 * (it takes access away, as revoking a card does).
 *
 * @example
 * const sessions = createSessionAdmin(stores);
 * const { sessions: page, cursor } = await sessions.list({ limit: 50 });
 * await sessions.end(by, page[0].handle);
 */
export function createSessionAdmin(s: Pick<Stores, 'sessions' | 'audit'>) {
  return {
    /**
     * One page of live sessions (of `login` alone when given), by SCAN steps of `limit` keys
     * from `cursor`: at least `limit` sessions unless it is the last page (a step's batch is
     * answered whole, so a page may hold a few more), never the whole store at once. A session
     * opened or ended while paging may be missed or shown twice, as SCAN goes.
     */
    async list(q: { login?: string | undefined; limit: number; cursor?: string | undefined }): Promise<SessionPage> {
      const sessions: SessionView[] = [];
      let cursor = q.cursor ?? '0';
      do {
        const step = await s.sessions.scan(cursor, q.limit);
        cursor = step.cursor;
        sessions.push(...step.sessions.filter((x) => q.login === undefined || x.login === q.login).map(view));
      } while (cursor !== '0' && sessions.length < q.limit);
      return { sessions, cursor: cursor === '0' ? null : cursor };
    },

    /**
     * Ends the session whose handle this is, on every node (the store's END script: deleted,
     * marked ended, and flagged for its OpenID clients' back-channel logout), then writes
     * `session.ended` (reason `admin`, cause `officer`) with the officer and the session's
     * account. An unknown handle (or a session that ended already) is `session_not_found`.
     */
    async end(by: ChangedBy, handle: string): Promise<SessionView> {
      let found: LiveSession | undefined;
      let cursor = '0';
      do {
        const step = await s.sessions.scan(cursor, 500);
        cursor = step.cursor;
        found = step.sessions.find((x) => sha256Hex(x.sessionId) === handle);
      } while (!found && cursor !== '0');
      if (!found) throw new CardauthError('session_not_found', 'no live session has this handle');
      await authorize(s.audit, by, 'session.ended', { accountId: found.accountId, login: found.login, roles: [] });
      await s.sessions.endIds([found.sessionId]);
      await recordChange(s.audit, by, endedRecord(found, 'officer', factorOf(found)), `the session of ${found.login} was ended`);
      return view(found);
    },
  };
}

export type SessionAdmin = ReturnType<typeof createSessionAdmin>;
