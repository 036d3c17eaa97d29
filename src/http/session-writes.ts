import { randomBytes } from 'node:crypto';
import type { Request } from 'express';
import { CardauthError } from '../errors';
import type { LoginResult, SessionUser } from '../strategies/session-user';
import './session-data';

// The session writes an answer must wait for. express-session would save a
// changed session on its own only as the answer goes out, too late to turn a
// 200 into a 503. A failure rejects with `unavailable`.

const settle = (what: string, resolve: () => void, reject: (e: unknown) => void) => (err: unknown) =>
  err ? reject(new CardauthError('unavailable', `session store unavailable (${what})`, { cause: err })) : resolve();

/**
 * Saves the session now and resolves once Redis has it: a nonce, a passed
 * card step or a lock is never answered for a session that was not stored.
 *
 * @example
 * req.session.cardStep = card;
 * await saveSession(req);
 * res.json({ next: 'password' });
 */
export function saveSession(req: Request): Promise<void> {
  return new Promise((resolve, reject) => req.session.save(settle('save', resolve, reject)));
}

/**
 * Destroys the session in Redis and resolves once it is gone.
 *
 * @example
 * await destroySession(req);
 * res.status(204).end();
 */
export function destroySession(req: Request): Promise<void> {
  return new Promise((resolve, reject) => req.session.destroy(settle('destroy', resolve, reject)));
}

/** The id a login chose for its session ahead of Passport's regeneration (createLogIn). */
const NEXT_SESSION_ID = Symbol('cardauth.nextSessionId');
type WithNextId = Request & { [NEXT_SESSION_ID]?: string };

/** A new session id: 24 random bytes, base64url, as express-session's own. */
const newSessionId = () => randomBytes(24).toString('base64url');

/**
 * express-session's `genid`: the id a login chose ahead (createLogIn), once; otherwise a new one.
 *
 * @example
 * app.use(session({ genid: sessionIdFor, store, secret }));
 */
export function sessionIdFor(req: Request): string {
  const r = req as WithNextId;
  const id = r[NEXT_SESSION_ID] ?? newSessionId();
  delete r[NEXT_SESSION_ID];
  return id;
}

/** Opens a session for a login under the id it will have: its records first (createSessionOpener). */
export type OpenSession = (result: LoginResult, sessionId: string, req: Request) => Promise<SessionUser>;

/**
 * Logs a login in: the session's id is chosen first and the session opened under it (its
 * audit records written: no record, no session) while the request's own session is still
 * untouched, so an audit outage answers 503 and leaves, say, a passed card step for a retry.
 * Only then does Passport regenerate the session, taking that id (sessionIdFor as `genid`),
 * and store the user. Resolves with what the session stored, also left on `req.user`.
 *
 * @example
 * const logIn = createLogIn((result, id, req) => openSession(result, id, requestSource(req)));
 * res.json(sessionView(await logIn(req, { account, card, authTime: now(), records: [] })));
 */
export function createLogIn(open: OpenSession): (req: Request, result: LoginResult) => Promise<SessionUser> {
  return async (req, result) => {
    const id = newSessionId();
    const user = await open(result, id, req);
    (req as WithNextId)[NEXT_SESSION_ID] = id;
    return new Promise((resolve, reject) =>
      req.logIn(user as Express.User, (err) => {
        delete (req as WithNextId)[NEXT_SESSION_ID];
        if (err) return reject(err);
        const stored = req.session.passport?.user;
        if (!stored || req.sessionID !== id) return reject(new Error('the session was not stored under its chosen id'));
        req.user = stored;
        resolve(stored);
      }),
    );
  };
}
