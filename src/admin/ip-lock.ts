import { isIP } from 'node:net';
import { CardauthError } from '../errors';
import type { Stores } from '../services';
import { authorize } from './permissions';
import { recordChange, type ChangedBy } from './record-change';

/**
 * An officer's view and unlock of the IP scope of the lockout (a client IP's login budget,
 * CARDAUTH_IP_ATTEMPTS): the command line only calls it. Run it once requireAuditTrail has passed.
 *
 * @example
 * const { failures, locked } = await createIpLockAdmin(stores).unlock(by, '192.0.2.7');
 */
export function createIpLockAdmin(s: Pick<Stores, 'lockout' | 'audit'>) {
  const checked = (ip: string): string => {
    if (isIP(ip) === 0) throw new CardauthError('bad_request', `not an IP address: "${ip.slice(0, 64)}"`);
    return ip;
  };
  return {
    /** The IP's count as stored: refusals, seconds left, whether it is spent (locked). */
    async show(ip: string): Promise<{ failures: number; remainingSec: number; locked: boolean }> {
      const { failures, msLeft, locked } = await s.lockout.ipCount(checked(ip));
      return { failures, remainingSec: Math.ceil(msLeft / 1000), locked };
    },

    /**
     * Clears the IP's login budget (an IPv6 address: its /64), ending its lock if it is spent;
     * audited as `ip.unlocked` with the actor, the count and before/after. `failures` 0: nothing
     * was counted, nothing changed, nothing recorded.
     */
    async unlock(by: ChangedBy, ip: string): Promise<{ failures: number; locked: boolean }> {
      await authorize(s.audit, by, 'ip.unlocked', undefined, { source: { ip } });
      const { failures, msLeft, locked } = await s.lockout.ipCount(checked(ip));
      if (failures === 0) return { failures, locked };
      await s.lockout.unlockIp(ip);
      await recordChange(
        s.audit,
        by,
        { type: 'ip.unlocked', outcome: 'success', source: { ip }, details: { failures, remainingSec: Math.ceil(msLeft / 1000), before: locked ? 'locked' : 'unlocked', after: 'unlocked' } },
        `IP ${ip} was unlocked`,
      );
      return { failures, locked };
    },
  };
}

export type IpLockAdmin = ReturnType<typeof createIpLockAdmin>;
