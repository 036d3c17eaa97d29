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

/**
 * Logs the login in (Passport: a new session id, the serializer opens the
 * session and writes `session.created` first) and resolves with what the
 * session stored, which is also left on `req.user`.
 *
 * @example
 * res.json(sessionView(await logIn(req, { account, card, authTime: now() })));
 */
export function logIn(req: Request, result: LoginResult): Promise<SessionUser> {
  return new Promise((resolve, reject) =>
    req.logIn(result as Express.User, (err) => {
      if (err) return reject(err);
      // Passport leaves the login result on req.user; the answer is what the session stored.
      const stored = req.session.passport?.user;
      if (!stored) return reject(new Error('session has no user after login'));
      req.user = stored;
      resolve(stored);
    }),
  );
}
