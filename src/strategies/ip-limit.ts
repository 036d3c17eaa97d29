import type { AuditEventInput } from '../audit/record';
import { CardauthError } from '../errors';
import type { Lockout } from '../policy/lockout';
import type { RequestSource } from './card-step';

export interface IpLimitDeps {
  lockout: Pick<Lockout, 'checkIp' | 'recordIpFailure'>;
  audit: { append(input: AuditEventInput): Promise<unknown> };
  /** Single-use keys across nodes (SET NX with a TTL). */
  claimOnce: (key: string, ttlSec: number) => Promise<boolean>;
}

/** The login steps that check the client IP's failure limit, as their audit event type. */
export type IpLimitedStep = 'card.presented' | 'password.checked';

/**
 * The per-IP failure limit at the edge of a login step (УПД.4): a client
 * over it is refused with `rate_limited` before anything it sent is read.
 * The refusal is audited as the step's event with reason `ip_limited`, but
 * only the first one per step, IP and lock period (a claimed key lives as
 * long as the lock), so a refused client cannot grow the audit trail
 * without bound.
 *
 * @example
 * const ipLimit = createIpLimit({ lockout, audit, claimOnce });
 * await ipLimit.check('card.presented', source, req.sessionID); // throws rate_limited
 * await ipLimit.recordFailure(source.ip);
 */
export function createIpLimit(deps: IpLimitDeps) {
  return {
    async check(step: IpLimitedStep, source: RequestSource, sessionId: string): Promise<void> {
      const state = await deps.lockout.checkIp(source.ip);
      if (!state.locked) return;
      const ttlSec = Math.max(1, Math.ceil(state.retryAfterMs / 1000));
      if (await deps.claimOnce(`ipl:${step}:${source.ip}`, ttlSec)) {
        await deps.audit.append({ type: step, outcome: 'failure', reason: 'ip_limited', source, sessionId, details: { lockedForSec: ttlSec } });
      }
      throw new CardauthError('rate_limited', 'too many failed attempts from this address');
    },
    recordFailure: (ip: string): Promise<void> => deps.lockout.recordIpFailure(ip),
  };
}

export type IpLimit = ReturnType<typeof createIpLimit>;
