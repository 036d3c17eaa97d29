import type { AuditEventInput, AuditSink } from '../audit/record';
import { CardauthError } from '../errors';
import { decide, gated, type PresencePolicy } from './gate';
import type { PresenceStore } from './presence-store';

/** A gated login's decision and its audit record (`presence.allowed` or `presence.denied`). */
export interface GateOutcome {
  allowed: boolean;
  record: AuditEventInput;
}

/**
 * The presence gate at the login, after both factors passed and before the session opens
 * (createSessionOpener): null for an account not gated, by role or by its own flag (no Redis read);
 * otherwise the decision ({@link decide}) and its record, with the person's last pass and
 * whether the feed was silent.
 *
 * @example
 * const gate = createPresenceGate({ policy, presence, now: clock.now });
 * const outcome = await gate({ id, login, roles }); // null, or { allowed, record }
 */
export function createPresenceGate(deps: { policy: PresencePolicy; presence: Pick<PresenceStore, 'state'>; now: () => number }) {
  return async (account: { id: string; login: string; roles: readonly string[]; presenceRequired?: boolean | undefined }): Promise<GateOutcome | null> => {
    if (!gated(deps.policy, account)) return null;
    const state = await deps.presence.state(account.id);
    const decision = decide(deps.policy, state, deps.now());
    const details = {
      ...(state.last ? { lastDirection: state.last.direction, lastAt: new Date(state.last.at).toISOString(), skudId: state.last.skudId } : {}),
      feedLastAt: state.feedLast === null ? 'never' : new Date(state.feedLast).toISOString(),
      onSilent: deps.policy.onSilent,
    };
    const subject = { accountId: account.id, login: account.login };
    return decision.allowed
      ? { allowed: true, record: { type: 'presence.allowed', outcome: 'success', ...(decision.silent ? { reason: 'feed_silent' } : {}), subject, details } }
      : { allowed: false, record: { type: 'presence.denied', outcome: 'failure', reason: decision.reason, subject, details } };
  };
}

export type PresenceGate = ReturnType<typeof createPresenceGate>;

/**
 * A login through the presence gate, after both factors: the records to write with it, `records`
 * then the gate's (`records` alone for an account not gated, or with no gate). A refusal writes
 * `records` and `presence.denied` in one tick, and throws `presence_required`: nothing opens.
 *
 * @example
 * const records = await passPresenceGate(presenceGate, account, audit, result.records); // throws presence_required
 */
export async function passPresenceGate(
  gate: PresenceGate | undefined,
  account: Parameters<PresenceGate>[0],
  audit: AuditSink,
  records: readonly AuditEventInput[],
): Promise<readonly AuditEventInput[]> {
  const outcome = gate ? await gate(account) : null;
  if (!outcome) return records;
  if (!outcome.allowed) {
    await Promise.all([...records, outcome.record].map((r) => audit.append(r)));
    throw new CardauthError('presence_required', 'no entry through the access control today: check in at the entrance');
  }
  return [...records, outcome.record];
}
