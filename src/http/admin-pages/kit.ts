import { join } from 'node:path';
import express, { type ErrorRequestHandler, type Request, type RequestHandler, type Response, type Router } from 'express';
import { AUDITOR_ROLES, OFFICER_ROLES } from '../../admin/permissions';
import type { ChangedBy } from '../../admin/record-change';
import { CardauthError } from '../../errors';
import { errorMessage, type Logger } from '../../logger';
import type { Role } from '../../store/accounts';
import type { SessionUser } from '../../strategies/session-user';
import { actingAs, type ActorLookup } from '../acting-as';
import { CSRF_FIELD, csrfToken, requireCsrf } from '../csrf';
import { fill, messages, pickLang, roleName, type Lang, type MessageKey, type Messages } from '../i18n';
import { formatTime, VIEWS_DIR } from '../page-routes';
import type { RequireLoginOptions } from '../require-login';
import { requireRecentLogin } from '../require-recent-login';
import { safeRedirectPath } from '../safe-redirect';

/** The largest page form accepted (the router's Content-Length check has the same limit). */
const MAX_FORM_BYTES = 16 * 1024;

/** One workbench page: where it is, its nav label (also its title and heading), and how it shows. */
export interface AdminPage {
  /** `/admin/<name>`: the nav link, the GET route, where its forms go back to. */
  path: string;
  label: MessageKey;
  /** Who may open it and use its forms (and sees it in the nav). Default {@link OFFICER_ROLES}. */
  roles?: readonly Role[];
  /** Renders the page ({@link AdminPageKit.render}), as asked for or after an action (with its result or error). */
  show: (req: Request, res: Response, shown: Shown) => Promise<void>;
}

/** What an action did, for people: a message (`t[key]` filled with `params`) and, once, a secret. */
export interface Outcome {
  key: MessageKey;
  params?: Record<string, string | number>;
  /**
   * A one-time secret (a temporary password): the page is rendered at once (200, no-store) with
   * it, never stored (not even in the session for a redirect), so it is shown exactly once.
   */
  secret?: string;
  /** Shown with the result at once (200, no redirect, never stored), as a secret is: a CSV import's line-by-line report. */
  report?: unknown;
}

/** What a page shows beside its own content: an action's result, or its error (with the status). */
export interface Shown {
  status?: number;
  done?: Outcome;
  error?: CardauthError;
}

export interface AdminPageKitDeps {
  /** requireLogin of the server's session chain (a page: redirects to /login; a wrong role is ours). */
  requireLogin: (options: RequireLoginOptions) => RequestHandler;
  accounts: ActorLookup;
  requireAuditTrail: () => Promise<void>;
  /** CARDAUTH_ADMIN_STEP_UP_SEC. */
  stepUpSec: number;
  now: () => number;
  /** Where an infrastructure failure of a page is logged (never a request body). */
  logger: Pick<Logger, 'error'>;
}

/** What {@link createAdminPageKit} gives each page. */
export interface AdminPageKit {
  /** The GET guard: a logged-in officer or chief_admin. */
  view: RequestHandler[];
  /** The guard of a page's own routes: a logged-in account with one of these roles (a page's {@link AdminPage.roles}). */
  guard(roles?: readonly Role[]): RequestHandler[];
  /** The first page of the nav `req`'s user may open, or null. */
  home(req: Request): AdminPage | null;
  /**
   * Renders `views/admin/<view>.ejs` in the layout (`page` null: an error page, without the nav);
   * `locals.heading` (a text key and its params) titles it instead of the page's label.
   */
  render(req: Request, res: Response, shown: Shown, page: AdminPage | null, view: string, locals?: Record<string, unknown>): void;
  /**
   * The workbench router's last step: a refusal before the page (role, CSRF) as an HTML page,
   * and an infrastructure failure (Redis, the audit trail) logged and answered 503 as an HTML
   * page that says to try again: nothing was changed.
   */
  errors: ErrorRequestHandler;
  /** The nav, in order: every page the workbench mounts. */
  setNav(pages: readonly AdminPage[]): void;
  /** Mounts the page's GET. */
  page(router: Router, page: AdminPage): void;
  /**
   * Mounts a form's POST at `path`, going back to `page` (or to the form's `back` field, a path
   * under the page's: a filtered list, an account's own page); `maxBytes`: a larger form than the
   * usual 16 KB (a CSV import).
   */
  action(router: Router, path: string, page: AdminPage, run: (req: Request, by: ChangedBy) => Promise<Outcome>, opts?: { maxBytes?: number }): void;
  /** The server's clock (ms). */
  now: () => number;
}

/**
 * The workbench's frame, shared by every page (src/http/admin-pages/*.ts):
 * - `view`: the GET guard: a logged-in officer or chief_admin (anyone else: 403 `forbidden`, an
 *   HTML page); no step-up for a read;
 * - `page(router, page)`: mounts the page's GET;
 * - `action(router, path, page, run)`: a form's POST: the role, the form body, the CSRF token
 *   (403 `csrf_failed`), the step-up (an older login is sent to `/login?reauth=1&next=<page>`
 *   before anything runs), the audit trail check, then `run` with who acts (the same use case
 *   the CLI and the JSON API call; no logic here). Its outcome is a 303 back to the page with a
 *   flash message, or, with a secret, the page at once; a refusal (4xx) re-renders the page
 *   with that status and a message for people; an infrastructure failure is the server's 503;
 * - `render(req, res, shown, page, view, locals)`: the layout (nav, skip link, `<main>`, the
 *   `aria-live` status, the error alert) around `views/admin/<view>.ejs`;
 * - `errors`: the router's last step: a refusal before the page (role, CSRF) as an HTML page.
 *
 * @example
 * const kit = createAdminPageKit({ requireLogin, accounts, requireAuditTrail, stepUpSec: 900, now });
 * kit.page(router, sessionsPage);
 * kit.action(router, '/admin/sessions/:handle/end', sessionsPage, (req, by) => admin.sessions.end(by, req.params.handle).then(...));
 */
export function createAdminPageKit(deps: AdminPageKitDeps): AdminPageKit {
  const loggedIn = deps.requireLogin({});
  const mayOpen = (req: Request, page: AdminPage) => (page.roles ?? OFFICER_ROLES).some((r) => (req.user as SessionUser).roles.includes(r));
  const roleGuard = (roles: readonly Role[]): RequestHandler[] => [
    loggedIn,
    (req, _res, next) => {
      const user = req.user as SessionUser;
      next(roles.some((r) => user.roles.includes(r)) ? undefined : new CardauthError('forbidden', 'this page is not for this role'));
    },
  ];
  const view = roleGuard(OFFICER_ROLES);
  /** A logged-in auditor with no officer's role (a clinician never gets past the guards but to an error page). */
  const isAuditorOnly = (req: Request): boolean => {
    const roles = (req.user as SessionUser | undefined)?.roles ?? [];
    return AUDITOR_ROLES.some((r) => roles.includes(r)) && !OFFICER_ROLES.some((r) => roles.includes(r));
  };
  const guard = (roles?: readonly Role[]) => (roles ? roleGuard(roles) : view);
  const formOf = (limit: number) => express.urlencoded({ extended: false, limit, parameterLimit: 100, type: 'application/x-www-form-urlencoded' });
  const form = formOf(MAX_FORM_BYTES);
  let nav: readonly AdminPage[] = [];

  /** The text for people of a refusal: `err_<code>` in the page's language, else the generic one. */
  const errorText = (t: Messages, err: CardauthError): string => {
    const key = `err_${err.code}` as MessageKey;
    return key in t ? fill(t[key], {}) : t.err_generic;
  };

  const render = (req: Request, res: Response, shown: Shown, page: AdminPage | null, view: string, { heading, ...locals }: Record<string, unknown> = {}) => {
    const lang: Lang = pickLang(req, res);
    const t = messages(lang);
    const flash = req.session?.flash;
    if (flash) delete req.session.flash;
    const done = shown.done ?? (flash ? { key: flash.key as MessageKey, params: flash.params } : undefined);
    // The workbench named for whom it is: the auditor's for one who holds no officer's role.
    const auditorOnly = isAuditorOnly(req);
    res.status(shown.status ?? 200);
    res.setHeader('Cache-Control', 'no-store');
    res.render(join(VIEWS_DIR, 'admin', `${view}.ejs`), {
      // The templates ship with the package: compile each once (with its includes), whatever
      // the app's `view cache` (off unless NODE_ENV=production, and then every page compiled
      // them again per request).
      cache: true,
      lang,
      t,
      pageTitle: page ? t[page.label] : t.admin_error_title,
      workbenchTitle: auditorOnly ? t.auditor_title : t.admin_title,
      toWorkbench: auditorOnly ? t.to_auditor_workbench : t.to_workbench,
      heading: heading ? fill(t[(heading as Outcome).key], (heading as Outcome).params ?? {}) : '',
      user: req.user ?? null,
      nav: page ? nav.filter((p) => mayOpen(req, p)).map((p) => ({ path: p.path, label: t[p.label], current: p === page })) : null,
      csrfField: CSRF_FIELD,
      csrf: page && req.user ? csrfToken(req) : '',
      done: done ? { text: fill(t[done.key], done.params ?? {}), secret: done.secret ?? '' } : null,
      error: shown.error ? { code: shown.error.code, text: errorText(t, shown.error) } : null,
      fill,
      roleName: (role: string) => roleName(t, role),
      time: (ms: number | null | undefined) => (ms ? formatTime(ms, lang) : ''),
      iso: (ms: number | null | undefined) => (ms ? new Date(ms).toISOString() : ''),
      ...locals,
    });
  };

  const errors: ErrorRequestHandler = (err, req, res, next) => {
    if (res.headersSent) return next(err);
    if (err instanceof CardauthError && err.status < 500) return render(req, res, { status: err.status, error: err }, null, 'error');
    // Anything else is ours or the infrastructure's: logged as the server's error handler logs
    // it, the person told to try again (a library's own 4xx, e.g. a body too large, goes on).
    if (!(err instanceof CardauthError) && typeof (err as { status?: unknown })?.status === 'number' && (err as { status: number }).status < 500) return next(err);
    const failure = err instanceof CardauthError ? err : new CardauthError('unavailable', 'service temporarily unavailable', { cause: err });
    deps.logger.error('request_failed', { method: req.method, path: req.path, code: failure.code, err: errorMessage(failure.cause ?? err) });
    res.setHeader('Retry-After', '5');
    render(req, res, { status: 503, error: new CardauthError('unavailable', 'service temporarily unavailable') }, null, 'error');
  };

  return {
    view,
    guard,
    home: (req) => nav.find((p) => mayOpen(req, p)) ?? null,
    render,
    errors,
    setNav(pages: readonly AdminPage[]) {
      nav = pages;
    },
    page(router: Router, page: AdminPage) {
      router.get(page.path, ...guard(page.roles), async (req, res) => page.show(req, res, {}));
    },
    action(router: Router, path: string, page: AdminPage, run: (req: Request, by: ChangedBy) => Promise<Outcome>, opts: { maxBytes?: number } = {}) {
      /** The form's `back` when it is a same-origin path under the page's, else the page. */
      const backOf = (req: Request): string => {
        const back = safeRedirectPath((req.body as Record<string, unknown> | undefined)?.back, page.path);
        return back === page.path || back.startsWith(`${page.path}/`) || back.startsWith(`${page.path}?`) ? back : page.path;
      };
      const stepUp = requireRecentLogin({ maxAgeSec: deps.stepUpSec, now: deps.now, back: backOf });
      router.post(path, ...guard(page.roles), opts.maxBytes ? formOf(opts.maxBytes) : form, requireCsrf, stepUp, async (req, res) => {
        let outcome: Outcome;
        try {
          const by = await actingAs(deps.accounts, req);
          await deps.requireAuditTrail();
          outcome = await run(req, by);
        } catch (err) {
          if (err instanceof CardauthError && err.status < 500) return page.show(req, res, { status: err.status, error: err });
          throw err;
        }
        if (outcome.secret !== undefined || outcome.report !== undefined) return page.show(req, res, { done: outcome });
        req.session.flash = { key: outcome.key, params: outcome.params ?? {} };
        res.redirect(303, backOf(req));
      });
    },
    now: deps.now,
  };
}

