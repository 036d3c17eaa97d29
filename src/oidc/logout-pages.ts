import { join } from 'node:path';
import { renderFile } from 'ejs';
import type { Request, Response } from 'express';
import type { KoaContextWithOIDC } from 'oidc-provider';
import { messages, pickLang, type Messages } from '../http/i18n';
import { VIEWS_DIR } from '../http/page-routes';
import { securityHeaders } from '../http/security-headers';
import type { SessionUser } from '../strategies/session-user';

/** The Express request and response under a provider context (the provider runs inside cardauth's router). */
export const expressOf = (ctx: KoaContextWithOIDC) => ({ req: ctx.req as Request, res: ctx.res as unknown as Response });

/** The cardauth user of the request, logged in or locked (the session ran first: see mount.ts), if any. */
export const cardauthUserOf = (ctx: KoaContextWithOIDC): SessionUser | undefined => {
  const { req, res } = expressOf(ctx);
  return (req.user ?? res.locals.lockedUser) as SessionUser | undefined;
};

/**
 * Whether the logout request carries an `id_token_hint` (the provider has verified its
 * signature by now) that was issued in this very provider session: its `sid` is the session's
 * for that client and its `sub` the session's account. A third-party page that sends the
 * browser here has no such token, so the question that guards against such forced logouts
 * is not needed then; the application the user is working in proved it asks.
 */
function hintOfThisSession(ctx: KoaContextWithOIDC): boolean {
  const hint = ctx.oidc.entities.IdTokenHint?.payload;
  const { session, client } = ctx.oidc;
  if (!hint || !client || !session?.accountId) return false;
  const sid = session.sidFor(client.clientId);
  return sid !== undefined && hint.sid === sid && hint.sub === session.accountId;
}

const appName = (ctx: KoaContextWithOIDC) => {
  const client = ctx.oidc.client;
  return client ? String(client.clientName ?? client.clientId) : undefined;
};

/**
 * The OpenID provider's logout pages (`features.rpInitiatedLogout`), in cardauth's look and
 * language (Russian, or English by `?lang=en` and its cookie), with a page CSP of their own:
 * scripts and styles from cardauth's origin only, and forms that may post to cardauth and be
 * redirected to the validated `post_logout_redirect_uri` (browsers check `form-action` on
 * the redirect after a form's POST too).
 *
 * - `logoutSource`: the question "sign out?", for whom, and that every application signed in
 *   on this computer needs card + password again. "Sign out" ends the provider's session and
 *   cardauth's (mount.ts); "stay" ends only the asking application's sign-in. When the request
 *   carries an `id_token_hint` of this very session and the cardauth session (if any) is the
 *   same account, the page signs out at once (an external script clicks "Sign out"; without
 *   scripts the user clicks): a clinician who pressed "Выйти" in the MIS is not asked twice.
 * - `postLogoutSuccessSource`: when no `post_logout_redirect_uri` was given: "you are signed
 *   out", or, when the user chose to stay, that only the application's sign-in ended.
 *
 * @example
 * new Provider(issuer, { features: { rpInitiatedLogout: { enabled: true, ...createLogoutPages({ secure: false }) } } });
 */
export function createLogoutPages(deps: { secure: boolean }) {
  const headersFor = (formAction: string[]) =>
    securityHeaders({
      contentSecurityPolicy: {
        useDefaults: false,
        directives: { defaultSrc: ["'none'"], scriptSrc: ["'self'"], styleSrc: ["'self'"], imgSrc: ["'self'"], formAction: ["'self'", ...formAction], frameAncestors: ["'none'"], baseUri: ["'none'"] },
      },
      strictTransportSecurity: deps.secure,
    });
  const plainHeaders = headersFor([]);

  async function render(ctx: KoaContextWithOIDC, view: string, formAction: string[], locals: (t: Messages) => Record<string, unknown>) {
    const { req, res } = expressOf(ctx);
    const lang = pickLang(req, res);
    const t = messages(lang);
    const self = new URL(req.originalUrl, 'http://cardauth.invalid');
    self.searchParams.set('lang', t.other_lang_code);
    (formAction.length ? headersFor(formAction) : plainHeaders)(ctx.res);
    ctx.set('Cache-Control', 'no-store');
    ctx.type = 'html';
    ctx.body = await renderFile(join(VIEWS_DIR, view), { lang, t, langHref: self.pathname + self.search, ...locals(t) });
  }

  return {
    async logoutSource(ctx: KoaContextWithOIDC, form: string): Promise<void> {
      const user = cardauthUserOf(ctx);
      const accountId = ctx.oidc.session?.accountId;
      const auto = hintOfThisSession(ctx) && (!user || user.accountId === accountId);
      const back = ctx.oidc.params?.post_logout_redirect_uri;
      const app = appName(ctx);
      await render(ctx, 'logout.ejs', typeof back === 'string' ? [new URL(back).origin] : [], (t) => ({
        pageTitle: t.page_title_logout,
        appText: app ? t.logout_app.replace('{app}', app) : t.logout_some_app,
        who: user ? `${user.displayName} (${user.login})` : '',
        form,
        auto,
      }));
    },
    async postLogoutSuccessSource(ctx: KoaContextWithOIDC): Promise<void> {
      const app = appName(ctx);
      // Still logged in to cardauth: the user chose to stay, and only the application's sign-in ended.
      const stayed = app !== undefined && cardauthUserOf(ctx) !== undefined;
      await render(ctx, 'logged-out.ejs', [], (t) => ({
        pageTitle: t.page_title_logout,
        heading: stayed ? t.logged_out_app_title : t.logged_out_title,
        text: stayed ? t.logged_out_app_text.replace('{app}', app) : t.logged_out_text,
      }));
    },
  };
}

export type LogoutPages = ReturnType<typeof createLogoutPages>;
