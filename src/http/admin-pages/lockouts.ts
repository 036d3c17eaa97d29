import { Router } from 'express';
import { z } from 'zod';
import type { AccountAdmin } from '../../admin/accounts';
import type { AgentAdmin } from '../../admin/agents';
import type { CardAdmin } from '../../admin/cards';
import type { IpLockAdmin } from '../../admin/ip-lock';
import type { LockoutView } from '../../admin/lockouts';
import { normaliseUid } from '../../contract/uid';
import { parseBody, parseQuery } from '../validate';
import type { AdminPage, AdminPageKit } from './kit';

const cursor = z.string().regex(/^[1-9]\d{0,19}$/).optional();
const Query = z.strictObject({ cursor, cardCursor: cursor, lang: z.string().optional() });
const IpForm = z.object({ ip: z.string().trim().min(1).max(64) });
const PAGE_SIZE = 50;

/**
 * The lockouts page (`/admin/lockouts`): what the lockout has stopped now (LockoutView):
 * accounts and cards locked by failed password attempts, with the count and until when, and
 * the workstations the abuse rule suspended; each undone by its own use case, as the CLI and
 * the JSON API undo it (account unlock, card unlock, agent unsuspend), and a client IP's lock
 * lifted by its address (ip unlock).
 *
 * @example
 * const { page, router } = createLockoutsPage(kit, admin);
 */
export function createLockoutsPage(
  kit: AdminPageKit,
  admin: { accounts: Pick<AccountAdmin, 'unlock'>; cards: Pick<CardAdmin, 'unlock'>; agents: Pick<AgentAdmin, 'unsuspend'>; ipLocks: Pick<IpLockAdmin, 'unlock'>; lockouts: LockoutView },
): { page: AdminPage; router: Router } {
  const router = Router();
  const page: AdminPage = {
    path: '/admin/lockouts',
    label: 'nav_lockouts',
    async show(req, res, shown) {
      const q = parseQuery(req, Query);
      const [accounts, cards, agents] = await Promise.all([
        admin.lockouts.accounts({ cursor: q.cursor, limit: PAGE_SIZE }),
        admin.lockouts.cards({ cursor: q.cardCursor, limit: PAGE_SIZE }),
        admin.lockouts.suspendedAgents(),
      ]);
      const now = kit.now();
      kit.render(req, res, shown, page, 'lockouts', {
        locked: accounts.items.map((l) => ({ ...l, until: now + l.msLeft })),
        cards: cards.items.map((l) => ({ ...l, until: now + l.msLeft })),
        agents,
        firstHref: q.cursor ? '/admin/lockouts' : '',
        nextHref: accounts.cursor ? `/admin/lockouts?cursor=${accounts.cursor}` : '',
        cardsFirstHref: q.cardCursor ? '/admin/lockouts' : '',
        cardsNextHref: cards.cursor ? `/admin/lockouts?cardCursor=${cards.cursor}` : '',
      });
    },
  };
  kit.page(router, page);
  kit.action(router, '/admin/lockouts/:login/unlock', page, async (req, by) => {
    const { account, failures } = await admin.accounts.unlock(by, String(req.params.login));
    return { key: failures > 0 ? 'done_unlocked' : 'done_not_locked', params: { login: account.login, failures } };
  });
  kit.action(router, '/admin/lockouts/cards/:uid/unlock', page, async (req, by) => {
    const { binding, failures } = await admin.cards.unlock(by, normaliseUid(String(req.params.uid)));
    return { key: failures > 0 ? 'done_card_unlocked' : 'done_card_not_locked', params: { uid: binding.uid, failures } };
  });
  kit.action(router, '/admin/lockouts/agents/:id/unsuspend', page, async (req, by) => {
    const agent = await admin.agents.unsuspend(by, String(req.params.id));
    return { key: 'done_agent_unsuspended', params: { name: agent.name } };
  });
  kit.action(router, '/admin/lockouts/ip-unlock', page, async (req, by) => {
    const { ip } = parseBody(req, IpForm);
    const { failures } = await admin.ipLocks.unlock(by, ip);
    return { key: failures > 0 ? 'done_ip_unlocked' : 'done_ip_not_locked', params: { ip, failures } };
  });
  return { page, router };
}
