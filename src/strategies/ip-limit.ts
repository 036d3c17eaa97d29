import type { AuditSink } from '../audit/record';
import { CardauthError } from '../errors';
import { clientKey } from '../policy/client-key';
import type { GateState, Lockout, RequestSource } from '../policy/lockout';


export interface IpLimitDeps {
  lockout: Pick<Lockout, 'gate' | 'recordIpFailure' | 'recordJunk'>;
  audit: AuditSink;
  /** Single-use keys across nodes (SET NX with a TTL). */
  claimOnce: (key: string, ttlSec: number) => Promise<boolean>;
}

/** The login steps that check the client's limits, as their audit event type. */
export type IpLimitedStep = 'card.presented' | 'password.checked';

/** What the gate let through: whether junk from this IP is over its budget. */
export type OpenGate = Extract<GateState, { locked: false }>;

const rateLimited = () => new CardauthError('rate_limited', 'too many failed attempts from this address');

/**
 * The client's limits at the edge of a login step (УПД.4):
 *
 * - the IP's login budget, spent by refusals a real card at a real reader
 *   made (a statement refused after it used up a fresh login nonce, a wrong
 *   password): over it, every
 *   login step from that IP is `rate_limited` before anything it sent is read;
 * - the junk budgets of the IP and of the session, spent by refusals that no
 *   verified signature backs (a junk statement, a password with no card
 *   step). Junk never spends the login budget, so it cannot lock out the
 *   users behind one address. Over the session's, that session is refused
 *   outright; over the IP's, only junk is refused (valid statements still
 *   pass).
 *
 * A refusal is audited as the step's event with reason `ip_limited` or
 * `junk_limited`, but only the first per step, IP and period (a claimed key
 * lives as long as the limit), so a refused client cannot grow the audit
 * trail without bound.
 *
 * @example
 * const ipLimit = createIpLimit({ lockout, audit, claimOnce });
 * const gate = await ipLimit.check('card.presented', source, req.sessionID); // throws rate_limited
 * await ipLimit.junk('card.presented', source, req.sessionID, gate); // throws rate_limited over the junk budget
 */
export function createIpLimit(deps: IpLimitDeps) {
  /** Refuses, auditing the first refusal of its kind per step, IP and period. */
  const refuse = async (step: IpLimitedStep, reason: 'ip_limited' | 'junk_limited', source: RequestSource, sessionId: string, retryAfterMs: number): Promise<never> => {
    const ttlSec = Math.max(1, Math.ceil(retryAfterMs / 1000));
    const kind = reason === 'ip_limited' ? 'ipl' : 'jnk';
    if (await deps.claimOnce(`${kind}:${step}:${clientKey(source.ip)}`, ttlSec)) {
      await deps.audit.append({ type: step, outcome: 'failure', reason, source, sessionId, details: { lockedForSec: ttlSec } });
    }
    throw rateLimited();
  };

  return {
    /** Throws `rate_limited` when the IP's login budget or the session's junk budget is spent. */
    async check(step: IpLimitedStep, source: RequestSource, sessionId: string): Promise<OpenGate> {
      const gate = await deps.lockout.gate(source.ip, sessionId);
      if (!gate.locked) return gate;
      // A session over its own junk budget: refused, not audited again (the junk it sent was).
      if (gate.scope === 'session') throw rateLimited();
      return refuse(step, 'ip_limited', source, sessionId, gate.retryAfterMs);
    },
    /**
     * A refusal with no verified signature behind it: over the IP's junk
     * budget it is `rate_limited` (audited once per period) and the caller
     * records nothing; otherwise it is counted, and the caller audits it.
     */
    async junk(step: IpLimitedStep, source: RequestSource, sessionId: string, gate: OpenGate): Promise<void> {
      if (gate.junkLimited) return refuse(step, 'junk_limited', source, sessionId, gate.retryAfterMs);
      await deps.lockout.recordJunk(source.ip, sessionId);
    },
    /** The IP's login budget found spent at a later check (the password step's): refused, audited once per period. */
    limited: (step: IpLimitedStep, source: RequestSource, sessionId: string, retryAfterMs: number): Promise<never> => refuse(step, 'ip_limited', source, sessionId, retryAfterMs),
    /** A refusal that used up a fresh nonce (a card at a reader now): counted against the IP's login budget. */
    recordFailure: (ip: string): Promise<void> => deps.lockout.recordIpFailure(ip),
  };
}

export type IpLimit = ReturnType<typeof createIpLimit>;
