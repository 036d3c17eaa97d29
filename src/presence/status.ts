import type { PresencePolicy } from './gate';
import type { SkudStore } from './integrations';
import { moscowDay } from './moscow-day';

/** One integration as the status shows it (times as ISO strings, null for never). */
export interface IntegrationStatus {
  id: string;
  name: string;
  fingerprint: string;
  lastStatementAt: string | null;
  lastEventAt: string | null;
  /** No verified statement (a heartbeat counts) for CARDAUTH_PRESENCE_SILENT_SEC. */
  silent: boolean;
  eventsToday: number;
}

export interface PresenceStatus {
  policy: { gate: 'on' | 'off'; roles: string[]; silentSec: number; onSilent: 'allow' | 'deny' };
  /** The Moscow calendar day "today" means. */
  today: string;
  integrations: IntegrationStatus[];
}

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

/**
 * The presence feed's status (`cardauth skud status`, `GET /admin/api/presence`): the policy in
 * force and, per integration, its last statement and event, whether it is silent and how many
 * events it reported today.
 *
 * @example
 * const status = createPresenceStatus({ skud, policy, now: clock.now });
 * (await status()).integrations[0].silent // => false
 */
export function createPresenceStatus(deps: { skud: Pick<SkudStore, 'list' | 'eventsOn'>; policy: PresencePolicy; now: () => number }) {
  return async (): Promise<PresenceStatus> => {
    const now = deps.now();
    const today = moscowDay(now);
    const integrations: IntegrationStatus[] = [];
    for (const i of await deps.skud.list()) {
      integrations.push({
        id: i.id,
        name: i.name,
        fingerprint: i.fingerprint,
        lastStatementAt: iso(i.lastStatementAt),
        lastEventAt: iso(i.lastEventAt),
        silent: i.lastStatementAt === null || now - i.lastStatementAt > deps.policy.silentSec * 1000,
        eventsToday: await deps.skud.eventsOn(i.id, today),
      });
    }
    const { roles, silentSec, onSilent } = deps.policy;
    return { policy: { gate: roles.length > 0 ? 'on' : 'off', roles: [...roles], silentSec, onSilent }, today, integrations };
  };
}
