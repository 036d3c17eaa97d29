import type { IncomingMessage } from 'node:http';
import type Provider from 'oidc-provider';
import type { KoaContextWithOIDC } from 'oidc-provider';
import { errorMessage, type Logger } from '../logger';
import type { SessionUser } from '../strategies/session-user';
import type { BackchannelStore } from './backchannel-store';
import { loadDeferredSession } from './provider';

/**
 * Ties each authorization to the cardauth session it was made in, for back-channel logout:
 * once the authorization endpoint (or its resume) has answered a client that has a
 * `backchannel_logout_uri` with a code, and before that answer leaves, it stores the client's
 * `sid`, subject and grant under the cardauth session of the request (its session middleware
 * ran first, or runs now where mount.ts deferred it). If that write fails, the client gets no code: a 503
 * `temporarily_unavailable` instead, so no client holds tokens that a logout would miss.
 *
 * @example
 * linkSessions(provider, store, logger);
 */
export function linkSessions(provider: Provider, store: Pick<BackchannelStore, 'link'>, logger: Logger): void {
  // The provider emits this synchronously while it builds the answer, before the middleware below resumes.
  const answered = new WeakSet<object>();
  provider.on('authorization.success', (ctx: KoaContextWithOIDC) => answered.add(ctx));
  provider.use(async (ctx, next) => {
    await next();
    if (!answered.has(ctx)) return;
    const { client, session } = (ctx as KoaContextWithOIDC).oidc;
    if (!client?.backchannelLogoutUri) return;
    const req = ctx.req as IncomingMessage & { sessionID?: string; user?: SessionUser };
    try {
      // The resume after a login defers cardauth's session (mount.ts); the link needs its id.
      await loadDeferredSession(req);
      const sid = session?.sidFor(client.clientId);
      if (!req.sessionID || !session?.accountId || !sid) throw new Error('no cardauth session or provider sid to link');
      const grantId = session.grantIdFor(client.clientId);
      await store.link(req.sessionID, client.clientId, { sid, sub: session.accountId, login: req.user?.login ?? '', ...(grantId ? { grantId } : {}) });
    } catch (err) {
      logger.error('oidc_link_failed', { clientId: client.clientId, err: errorMessage(err) });
      ctx.remove('Location');
      ctx.set('Cache-Control', 'no-store');
      ctx.status = 503;
      ctx.body = { error: 'temporarily_unavailable', error_description: 'the login could not be completed; try again' };
    }
  });
}
