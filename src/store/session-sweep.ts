import type Redis from 'ioredis';
import { guard } from '../errors';
import { SESSION_KEY_PREFIX } from './session-locks';
import { defineSessionEnd } from './session-store';

/** Which logged-in sessions to end: those of this account, opened with this card, or through this agent. */
export type SessionMatch = { accountId: string } | { cardUid: string } | { agentId: string };

/** A session that was ended: its id (for the audit, which stores only its hash) and whose it was. */
export interface EndedSession {
  sessionId: string;
  accountId: string;
  login: string;
}

/** A live session as an officer's list shows it (src/admin/sessions.ts hides its id behind its hash). */
export interface LiveSession {
  sessionId: string;
  accountId: string;
  login: string;
  displayName?: string;
  workstation?: string;
  /** The client IP of the login, for sessions opened since it is stored. */
  ip?: string;
  agentId?: string;
  cardUid?: string;
  /** ms since epoch: the card + password login. */
  authTime?: number;
  /** ms since epoch; absent until the session's first request after the login. */
  lastSeen?: number;
  locked?: { reason: string; at: number };
}

export interface SessionSweep {
  /**
   * One SCAN step over the session keys (COUNT `count`): the logged-in (or
   * locked) sessions it found, and the cursor to go on from (`'0'`: done).
   * A step may answer none while the cursor goes on.
   */
  scan(cursor: string, count: number): Promise<{ cursor: string; sessions: LiveSession[] }>;
  /** Ends these sessions (by id) on every node, as {@link end} does. */
  endIds(sessionIds: readonly string[]): Promise<void>;
  /**
   * Ends every logged-in (or locked) session that matches, on every node: its
   * Redis key is deleted, so its next request finds no session. Answers the
   * sessions ended.
   */
  end(match: SessionMatch): Promise<EndedSession[]>;
}

/** The logged-in user of a stored connect-redis session, if it has one. */
function userOf(raw: string | null): { accountId: string; login: string; cardUid?: unknown; agentId?: unknown } | undefined {
  return sessionOf(raw)?.user;
}

type StoredUser = { accountId: string; login: string; displayName?: unknown; cardUid?: unknown; agentId?: unknown; workstation?: unknown; ip?: unknown; authTime?: unknown };

/** A stored connect-redis session's user, lock and last request, if it has a user. */
function sessionOf(raw: string | null): { user: StoredUser; locked?: unknown; lastSeen?: unknown } | undefined {
  if (raw === null) return undefined;
  try {
    const s = JSON.parse(raw) as { passport?: { user?: unknown }; locked?: unknown; lastSeen?: unknown };
    const user = s.passport?.user as Record<string, unknown> | undefined;
    return user && typeof user.accountId === 'string' && typeof user.login === 'string' ? { user: user as StoredUser, locked: s.locked, lastSeen: s.lastSeen } : undefined;
  } catch {
    return undefined; // not a session this server wrote; not ours to end
  }
}

const str = (v: unknown) => (typeof v === 'string' ? v : undefined);
const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);

/** The fields an officer sees of a stored session (unknown or ill-typed fields are left out). */
export function liveSession(sessionId: string, raw: string | null): LiveSession | undefined {
  const s = sessionOf(raw);
  if (!s) return undefined;
  const { user } = s;
  const lock = s.locked as { reason?: unknown; at?: unknown } | undefined;
  const out: LiveSession = { sessionId, accountId: user.accountId, login: user.login };
  const fields = { displayName: str(user.displayName), workstation: str(user.workstation), ip: str(user.ip), agentId: str(user.agentId), cardUid: str(user.cardUid), authTime: num(user.authTime), lastSeen: num(s.lastSeen) };
  for (const [k, v] of Object.entries(fields)) if (v !== undefined) (out as unknown as Record<string, unknown>)[k] = v;
  if (lock && typeof lock === 'object') out.locked = { reason: str(lock.reason) ?? 'unknown', at: num(lock.at) ?? 0 };
  return out;
}

/**
 * Ends sessions by account, card or agent, for an officer blocking or
 * revoking one (a stolen card must not keep a session that was opened with
 * it). An
 * administrative sweep, not a login path: it SCANs the session keys (SCAN
 * returns every key present for its whole run, so no session opened before
 * the revocation is missed, and logins after it are refused) and reads them
 * in batches. Each session is ended as the store ends one (deleted and
 * marked ended), so a request already in flight cannot write it back; the
 * session guard's own check of the account, card and agent
 * (createFactorCheck) is a second line behind that.
 *
 * @example
 * const sweep = createSessionSweep({ redis });
 * const ended = await sweep.end({ cardUid: '04A22BB25C6180' });
 */
export function createSessionSweep(deps: { redis: Redis; sessionMaxSec: number }): SessionSweep {
  const { redis } = deps;
  const prefix = SESSION_KEY_PREFIX;
  const endSessions = defineSessionEnd(redis, deps.sessionMaxSec);
  return {
    async scan(cursor, count) {
      const [next, keys] = await guard(redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', count), 'sessions');
      if (keys.length === 0) return { cursor: next, sessions: [] };
      const values = await guard(redis.mget(...keys), 'sessions');
      return { cursor: next, sessions: keys.flatMap((key, i) => liveSession(key.slice(prefix.length), values[i] ?? null) ?? []) };
    },
    async endIds(sessionIds) {
      await guard(endSessions(sessionIds), 'sessions');
    },
    async end(match) {
      const matches = (u: { accountId: string; cardUid?: unknown; agentId?: unknown }) =>
        'accountId' in match ? u.accountId === match.accountId : 'cardUid' in match ? u.cardUid === match.cardUid : u.agentId === match.agentId;
      const ended: EndedSession[] = [];
      let cursor = '0';
      do {
        const [next, keys] = await guard(redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500), 'sessions');
        cursor = next;
        if (keys.length === 0) continue;
        const values = await guard(redis.mget(...keys), 'sessions');
        const hit = keys.flatMap((key, i) => {
          const user = userOf(values[i] ?? null);
          return user && matches(user) ? [{ sessionId: key.slice(prefix.length), accountId: user.accountId, login: user.login }] : [];
        });
        if (hit.length === 0) continue;
        await guard(endSessions(hit.map((h) => h.sessionId)), 'sessions');
        ended.push(...hit.map(({ sessionId, accountId, login }) => ({ sessionId, accountId, login })));
      } while (cursor !== '0');
      return ended;
    },
  };
}
