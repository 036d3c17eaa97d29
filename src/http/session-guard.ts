import type { Request, RequestHandler, Response } from 'express';
import type { AuditEventInput, AuditSink } from '../audit/record';
import { CardauthError } from '../errors';
import type { FactorProblem } from '../strategies/factor-check';
import type { SessionUser } from '../strategies/session-user';
import type { SessionLocks } from '../store/session-locks';
import { requestSource } from './request-source';
import { destroySession, saveSession } from './session-writes';
import './session-data';

export interface SessionGuardOptions {
  /**
   * The idle lock and the lifetime of a session by its account's roles (createSessionRules: per role, the strictest of
   * several), for a session that does not carry its own (`idleSec`, `maxSec`, stored at its login).
   */
  rules: (roles: readonly string[]) => { idleSec: number; maxSec: number };
  now: () => number;
  audit: AuditSink;
  locks: Pick<SessionLocks, 'touch'>;
  /** Whether the session's account, card and agent still count (createFactorCheck); read at most every 15 s of activity. */
  factorProblem: (f: { accountId: string; uid: string; agentId: string }) => Promise<FactorProblem | null>;
}

/** lastSeen is rewritten at most this often, so most reads do not write the session. */
const LAST_SEEN_GRANULARITY_MS = 15_000;

/**
 * A page's own periodic check sends this header (value `1`): it is not the
 * user's activity, so it does not keep the session from the idle lock.
 */
export const BACKGROUND_HEADER = 'x-cardauth-background';

/**
 * Server-side session limits (УПД.8), on every request with a logged-in session, by the
 * rules of the roles it logged in with (issue 10 §4):
 * - past the absolute lifetime the session ends (`session.ended`, destroyed);
 * - once its account was blocked or its card or agent revoked it ends too
 *   (`session.ended`, reason `admin` with the cause), found when lastSeen is
 *   older than 15 s, so an active session is read again at most every 15 s:
 *   this catches what the officer's sweep (`account block`, `card revoke`,
 *   `agent revoke`) could not, e.g. a login that passed its checks just
 *   before the block;
 * - idle past the timeout it is locked (`session.locked`, reason `idle`);
 *   a request marked {@link BACKGROUND_HEADER} is checked like any other
 *   but does not count as activity;
 * - a locked session (idle, tap-out, switch) is no longer a user: `req.user`
 *   is removed and `res.locals.lockedUser` keeps who it was, for the lock
 *   screen and the unlock (same card + password).
 * `requireUser` then answers `session_locked` or `session_expired`.
 *
 * @example
 * app.use(passport.session(), sessionGuard({ rules: createSessionRules(config), now: clock.now, audit, locks, factorProblem }));
 */
export function sessionGuard(opts: SessionGuardOptions): RequestHandler {
  /** The checks that need Redis (and so a promise); `due`: lastSeen is older than its granularity. */
  async function check(req: Request, res: Response, user: SessionUser, now: number, lastSeen: number, due: boolean, idleMs: number, maxMs: number): Promise<void> {
    const about = { subject: { accountId: user.accountId, login: user.login }, source: { ...requestSource(req), agentId: user.agentId }, sessionId: req.sessionID };
    const end = (reason: 'expired' | 'admin', details?: { cause: string }) => endSession(req, res, opts.audit, { reason, ...about, ...(details ? { details } : {}) });
    if (now - user.authTime > maxMs) return end('expired');
    if (due) {
      const problem = await opts.factorProblem({ accountId: user.accountId, uid: user.cardUid, agentId: user.agentId });
      // A suspension (the abuse rule) refuses the agent's new statements; the sessions it opened
      // before stay: it is reversible, and an officer who believes the workstation compromised revokes it.
      if (problem && problem !== 'agent_suspended') return end('admin', { cause: problem });
    }
    const asLocked = () => {
      delete req.user;
      res.locals.lockedUser = user;
    };
    if (req.session.locked) return asLocked();
    if (now - lastSeen > idleMs) {
      await opts.audit.append({ type: 'session.locked', outcome: 'success', reason: 'idle', ...about });
      req.session.locked = { reason: 'idle', at: now };
      await saveSession(req);
      return asLocked();
    }
    // Patched in Redis rather than saved whole, so it cannot undo a concurrent tap-out lock.
    if (due && req.get(BACKGROUND_HEADER) !== '1') await opts.locks.touch(req.sessionID, now);
  }

  return (req, res, next) => {
    const user = req.user as SessionUser | undefined;
    if (!user) return next();
    const now = opts.now();
    const lastSeen = req.session.lastSeen ?? user.authTime;
    const due = now - lastSeen > LAST_SEEN_GRANULARITY_MS;
    const rules = user.idleSec !== undefined && user.maxSec !== undefined ? { idleSec: user.idleSec, maxSec: user.maxSec } : opts.rules(user.roles);
    const idleMs = rules.idleSec * 1000;
    const maxMs = rules.maxSec * 1000;
    // The hot path (an active, unlocked session seen in the last 15 s): nothing to read or write.
    if (!due && !req.session.locked && now - lastSeen <= idleMs && now - user.authTime <= maxMs) return next();
    check(req, res, user, now, lastSeen, due, idleMs, maxMs).then(() => next(), next);
  };
}

/**
 * Ends a session for good: its `session.ended` record first (no record, no
 * change), then the session is destroyed in Redis, and the request has no
 * user any more ({@link noUserError} then says `session_expired`).
 *
 * @example
 * await endSession(req, res, audit, { reason: 'unlock_failures', subject, sessionId: req.sessionID });
 */
export async function endSession(
  req: Request,
  res: Response,
  audit: AuditSink,
  record: Omit<AuditEventInput, 'type' | 'outcome'>,
): Promise<void> {
  await audit.append({ type: 'session.ended', outcome: 'success', ...record });
  await destroySession(req);
  delete req.user;
  res.locals.sessionEnded = true;
}

/** Why a request has no user: its session just ended, or it never logged in. */
export const noUserError = (res: Response): CardauthError =>
  res.locals.sessionEnded ? new CardauthError('session_expired', 'session ended; log in again') : new CardauthError('unauthenticated', 'log in first');

/** Lets only an authenticated, unlocked session through (УПД.9: everything but the login flow needs one). */
export const requireUser: RequestHandler = (req, res, next) => {
  if (req.user) return next();
  if (res.locals.lockedUser) return next(new CardauthError('session_locked', 'session locked; present your card and password to unlock'));
  next(noUserError(res));
};
