import type { Request } from 'express';
import { CardauthError } from '../errors';

/**
 * Saves the session now and resolves once Redis has it. express-session
 * would save it on its own only as the answer goes out, too late to change
 * a 200 into a 503: a nonce, a passed card step or a lock would be answered
 * for a session that was never stored. A failure rejects with `unavailable`.
 *
 * @example
 * req.session.cardStep = card;
 * await saveSession(req);
 * res.json({ next: 'password' });
 */
export function saveSession(req: Request): Promise<void> {
  return new Promise((resolve, reject) =>
    req.session.save((err: unknown) => (err ? reject(new CardauthError('unavailable', 'session store unavailable', { cause: err })) : resolve())),
  );
}
