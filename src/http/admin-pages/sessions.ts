import { Router } from 'express';
import { z } from 'zod';
import type { SessionAdmin } from '../../admin/sessions';
import { CardauthError } from '../../errors';
import { parseQuery } from '../validate';
import type { AdminPage, AdminPageKit } from './kit';

const Query = z.strictObject({
  login: z.string().max(64).optional(),
  cursor: z.string().regex(/^[1-9]\d{0,19}$/).optional(),
  lang: z.string().optional(),
});
const HANDLE = /^[0-9a-f]{64}$/;
const PAGE_SIZE = 50;

/**
 * The sessions page (`/admin/sessions`): every live session, paged by the store's SCAN cursor
 * and filtered by login; an officer ends one (`POST /admin/sessions/:handle/end`, the same
 * SessionAdmin.end as the JSON API and `cardauth session end`).
 *
 * @example
 * router.use(createSessionsPage(kit, admin.sessions));
 */
export function createSessionsPage(kit: AdminPageKit, sessions: SessionAdmin): { page: AdminPage; router: Router } {
  const router = Router();
  const page: AdminPage = {
    path: '/admin/sessions',
    label: 'nav_sessions',
    async show(req, res, shown) {
      const q = parseQuery(req, Query);
      const login = q.login?.trim() || undefined;
      const list = await sessions.list({ login, cursor: q.cursor, limit: PAGE_SIZE });
      const query = (cursor?: string) => {
        const p = new URLSearchParams({ ...(login ? { login } : {}), ...(cursor ? { cursor } : {}) }).toString();
        return p ? `?${p}` : '';
      };
      kit.render(req, res, shown, page, 'sessions', {
        sessions: list.sessions,
        filter: { login: login ?? '' },
        firstHref: q.cursor ? `/admin/sessions${query()}` : '',
        nextHref: list.cursor ? `/admin/sessions${query(list.cursor)}` : '',
      });
    },
  };
  kit.page(router, page);
  kit.action(router, '/admin/sessions/:handle/end', page, async (req, by) => {
    const handle = String(req.params.handle);
    if (!HANDLE.test(handle)) throw new CardauthError('session_not_found', 'no live session has this handle');
    const ended = await sessions.end(by, handle);
    return { key: 'done_session_ended', params: { login: ended.login } };
  });
  return { page, router };
}
