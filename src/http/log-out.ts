import type { Request } from 'express';
import type { AuditDetails, AuditSink } from '../audit/record';
import type { SessionUser } from '../strategies/session-user';
import { requestSource } from './request-source';
import { destroySession } from './session-writes';

/**
 * Logs the request's cardauth session out: `session.logout` is recorded first (no record, no
 * logout: a failure rejects and the session stays), then Passport's logout and the session's
 * end in Redis. `user` is the session's user, logged in or locked (a locked session may be
 * signed out too); `details` says how the logout came, e.g. `{ via: 'oidc', clientId }`.
 *
 * @example
 * await logOut(req, user, audit);
 * res.status(204).end();
 */
export async function logOut(req: Request, user: SessionUser, audit: AuditSink, details?: AuditDetails): Promise<void> {
  await audit.append({
    type: 'session.logout',
    outcome: 'success',
    subject: { accountId: user.accountId, login: user.login },
    source: { ...requestSource(req), agentId: user.agentId },
    sessionId: req.sessionID,
    ...(details ? { details } : {}),
  });
  await new Promise<void>((resolve, reject) => req.logout((err) => (err ? reject(err) : resolve())));
  await destroySession(req);
}
