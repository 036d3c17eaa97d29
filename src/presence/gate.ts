import type { PresenceState } from './presence-store';
import { moscowDay } from './moscow-day';

/** What the feed's silence does to the gate: `allow` lets every gated login through, `deny` refuses them. */
export type OnSilent = 'allow' | 'deny';

/** The presence policy in force (CARDAUTH_PRESENCE_*). */
export interface PresencePolicy {
  /** The roles whose logins are gated; empty: the gate is off. */
  roles: readonly string[];
  silentSec: number;
  onSilent: OnSilent;
}

/** Why a gated login was refused (the audit's reason). */
export type PresenceRefusal = 'presence_absent' | 'presence_exited' | 'feed_silent';

/** The gate's decision for one gated login; `silent`: the feed was silent (and the policy allowed it). */
export type PresenceDecision = { allowed: true; silent: boolean } | { allowed: false; reason: PresenceRefusal };

/** Whether the gate applies to an account: one of its roles is gated, or an officer gated the account itself. */
export const gated = (policy: PresencePolicy, account: { roles: readonly string[]; presenceRequired?: boolean | undefined }): boolean =>
  account.presenceRequired === true || account.roles.some((r) => policy.roles.includes(r));

/**
 * The presence gate's rule (issue 10 §7), pure: a login is allowed only if the person's newest
 * pass is an entry on today's Moscow calendar day (so no exit after it). A feed with no
 * verified statement for `silentSec` (or none ever) is silent, and the policy decides.
 *
 * @example
 * decide(policy, { last: { direction: 'entry', at: now - 3600_000, skudId }, feedLast: now - 10_000 }, now) // => { allowed: true, silent: false }
 */
export function decide(policy: PresencePolicy, state: PresenceState, now: number): PresenceDecision {
  const silent = state.feedLast === null || now - state.feedLast > policy.silentSec * 1000;
  if (silent) return policy.onSilent === 'allow' ? { allowed: true, silent: true } : { allowed: false, reason: 'feed_silent' };
  const { last } = state;
  if (!last || moscowDay(last.at) !== moscowDay(now)) return { allowed: false, reason: 'presence_absent' };
  if (last.direction === 'exit') return { allowed: false, reason: 'presence_exited' };
  return { allowed: true, silent: false };
}
