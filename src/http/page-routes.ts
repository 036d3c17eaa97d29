import { join } from 'node:path';
import express, { Router, type Request, type Response } from 'express';
import type { SessionUser } from '../strategies/session-user';
import { messages, pickLang, roleName, type Lang } from './i18n';
import { safeRedirectPath } from './safe-redirect';

/** The views folder (templates and static assets), the same from src/ and dist/. */
export const VIEWS_DIR = join(__dirname, '..', '..', 'views');

export interface PageRoutesDeps {
  publicOrigin: string;
  agentUrl: string;
  /** `A-B` when the page must find its user's agent among loopback ports (terminal servers), else empty. */
  agentPorts: string;
  demo: boolean;
  /** CARDAUTH_SELF_ENROLLMENT: after a refused card the page offers the password form, to request that card. */
  selfEnrollment: boolean;
}

/** A time for people: Moscow time, in the page's language. */
export function formatTime(ms: number, lang: Lang): string {
  // Clinics in St. Petersburg: show Moscow time; the audit keeps UTC.
  return new Intl.DateTimeFormat(lang === 'ru' ? 'ru-RU' : 'en-GB', { dateStyle: 'long', timeStyle: 'medium', timeZone: 'Europe/Moscow' }).format(ms);
}

/** JSON for a `<script type="application/json">` block: `<` escaped so it cannot close the tag. */
const jsonForScript = (v: unknown) => JSON.stringify(v).replace(/</g, '\\u003c');

/**
 * Server-rendered pages (Russian by default): `/login` and `/home`, and the
 * static assets under `/assets`. Everything else needs a session (УПД.9).
 *
 * @example
 * app.use(createPageRoutes({ publicOrigin, agentUrl, demo: false }));
 */
export function createPageRoutes(deps: PageRoutesDeps): Router {
  const router = Router();
  router.use('/assets', express.static(join(VIEWS_DIR, 'assets'), { index: false, fallthrough: false, maxAge: '1h' }));

  router.get('/', (req, res) => res.redirect(303, req.user ? '/home' : '/login'));
  router.get('/favicon.ico', (_req, res) => res.status(204).end());

  /** The login page; for a locked session, the lock screen (who it is, nothing of the content). */
  const renderLogin = (req: Request, res: Response, next: string) => {
    const lang = pickLang(req, res);
    const t = messages(lang);
    const locked = res.locals.lockedUser as SessionUser | undefined;
    res.setHeader('Cache-Control', 'no-store');
    res.render(join(VIEWS_DIR, 'login.ejs'), {
      lang,
      t,
      pageTitle: locked ? t.page_title_locked : t.title,
      messagesJson: jsonForScript(t),
      agentUrl: deps.agentUrl,
      agentPorts: deps.agentPorts,
      origin: deps.publicOrigin,
      next,
      demo: deps.demo,
      selfEnrollment: deps.selfEnrollment,
      locked: locked ? { displayName: locked.displayName, login: locked.login } : null,
    });
  };

  // `reauth=1` (the OpenID provider's `prompt=login` or an elapsed `max_age`): the form even for a logged-in user.
  router.get('/login', (req: Request, res: Response) => {
    const next = safeRedirectPath(req.query.next, '/home');
    if (req.user && req.query.reauth !== '1') return res.redirect(303, next);
    renderLogin(req, res, next);
  });

  router.get('/home', (req: Request, res: Response) => {
    const user = req.user as SessionUser | undefined;
    if (!user && res.locals.lockedUser) return renderLogin(req, res, '/home');
    if (!user) return res.redirect(303, '/login?next=%2Fhome');
    const lang = pickLang(req, res);
    const t = messages(lang);
    res.setHeader('Cache-Control', 'no-store');
    res.render(join(VIEWS_DIR, 'home.ejs'), {
      lang,
      t,
      pageTitle: t.page_title_home,
      // home.js needs only its own texts
      messagesJson: jsonForScript({ logout_failed: t.logout_failed }),
      roleName: (role: string) => roleName(t, role),
      agentPorts: deps.agentPorts,
      user,
      agentUrl: deps.agentUrl,
      authTimeIso: new Date(user.authTime).toISOString(),
      authTimeText: formatTime(user.authTime, lang),
      prevIso: user.previousLogin ? new Date(user.previousLogin.at).toISOString() : '',
      prevText: user.previousLogin ? formatTime(user.previousLogin.at, lang) : '',
    });
  });
  return router;
}
