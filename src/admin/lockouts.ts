import type { Stores } from '../services';
import type { Agent } from '../store/agents';
import { accountView, type AccountView } from './account-view';

/** A page of what is locked now, and where the next page starts (null: the last). */
export interface LockedPage<T> {
  items: T[];
  cursor: string | null;
}

/**
 * What the lockout has stopped now, for the officer's lockouts page (reads; the unlocks are the
 * accounts', cards', agents' and IPs' own use cases): accounts and cards locked by failed
 * password attempts, each page by SCAN steps over the lockout's counters (from `cursor` until
 * at least `limit` are found or the keyspace ends), and the agents the abuse rule suspended.
 *
 * @example
 * const { items } = await createLockoutView(stores).accounts({ limit: 50 });
 */
export function createLockoutView(s: Pick<Stores, 'lockout' | 'accounts' | 'cards' | 'agents'>) {
  const scan = async (scope: 'account' | 'card', q: { cursor?: string | undefined; limit: number }) => {
    const found: Array<{ id: string; failures: number; msLeft: number }> = [];
    let cursor = q.cursor ?? '0';
    do {
      const step = await s.lockout.scanLocked(scope, cursor, 1000);
      cursor = step.cursor;
      found.push(...step.locked);
    } while (cursor !== '0' && found.length < q.limit);
    return { found, cursor: cursor === '0' ? null : cursor };
  };

  return {
    /** Accounts locked by failed password attempts, with the count and the time the lock has left. */
    async accounts(q: { cursor?: string | undefined; limit: number }): Promise<LockedPage<{ account: AccountView; failures: number; msLeft: number }>> {
      const { found, cursor } = await scan('account', q);
      const items = [];
      for (const f of found) {
        const account = await s.accounts.get(f.id);
        if (account) items.push({ account: accountView(account), failures: f.failures, msLeft: f.msLeft });
      }
      return { items, cursor };
    },

    /** Cards locked by failed password attempts (the card scope), with their account. */
    async cards(q: { cursor?: string | undefined; limit: number }): Promise<LockedPage<{ uid: string; login: string | null; displayName: string | null; failures: number; msLeft: number }>> {
      const { found, cursor } = await scan('card', q);
      const items = [];
      for (const f of found) {
        const binding = await s.cards.get(f.id);
        const owner = binding ? await s.accounts.get(binding.accountId) : null;
        items.push({ uid: f.id, login: owner?.login ?? null, displayName: owner?.displayName ?? null, failures: f.failures, msLeft: f.msLeft });
      }
      return { items, cursor };
    },

    /** The agents the abuse rule suspended, as listed (`agent list`). */
    async suspendedAgents(): Promise<Array<Pick<Agent, 'id' | 'name' | 'fingerprint' | 'suspendedAt'>>> {
      return (await s.agents.list()).filter((a) => a.status === 'suspended').map(({ id, name, fingerprint, suspendedAt }) => ({ id, name, fingerprint, ...(suspendedAt !== undefined ? { suspendedAt } : {}) }));
    },
  };
}

export type LockoutView = ReturnType<typeof createLockoutView>;
