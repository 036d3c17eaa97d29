import type { AuditLog } from '../audit/log';
import type { AuditEventInput, AuditSink } from '../audit/record';
import { CardauthError } from '../errors';
import { explain } from '../logger';
import type { Principal } from './permissions';

/**
 * Who makes an administrative change: for its audit records the actor
 * (`os:ivanova` from the command line; `acct:<id>` from the pages) and the
 * channel, merged into every record's details (`{ via: 'cli', host }`); for
 * the separation of duties (src/admin/permissions.ts) the principal whose
 * roles are checked: an account with its roles as stored now, or `system`
 * (the command line, run by the machine's administrator).
 */
export interface ChangedBy {
  actor: string;
  via: Readonly<Record<string, string>>;
  principal: Principal;
}

/** An audit record of a change, without the actor (ChangedBy adds it). */
export type ChangeRecord = Omit<AuditEventInput, 'actor'>;

/**
 * Fails closed before a change (or an audited read, which passes `nothing`
 * as 'nothing was shown'): reads the audit trail's head, and when that
 * fails (`audit:log` not a stream, an unreadable last record, the connection
 * lost since it was made) refuses with `audit_unavailable` and a message that
 * starts with `nothing` (by default 'nothing was changed'). A trail that
 * passes can still fail the append after the change (see {@link recordChange});
 * this only narrows that window to the change itself.
 *
 * @example
 * await requireAuditTrail(stores.audit); // then change, then recordChange(…)
 */
export async function requireAuditTrail(audit: Pick<AuditLog, 'head'>, nothing = 'nothing was changed'): Promise<void> {
  try {
    await audit.head();
  } catch (err) {
    throw new CardauthError('audit_unavailable', `${nothing}: the audit trail is not usable (${explain(err)})`, { cause: err });
  }
}

/** Appends `input` as `by`: its actor, and its channel in the details. */
export function appendAs(audit: AuditSink, by: ChangedBy, input: ChangeRecord): Promise<unknown> {
  return audit.append({ ...input, actor: by.actor, details: { ...input.details, ...by.via } });
}

/**
 * Records an administrative change in the audit log, after the change was
 * made (`done` says what was done, e.g. "card X was revoked"), once
 * {@link requireAuditTrail} checked the trail. If the record cannot be
 * written the change stands, and this fails with `audit_unavailable` and a
 * message that says both, so the operator can record it by hand.
 *
 * @example
 * await recordChange(audit, by, { type: 'card.revoked', outcome: 'success', reason: 'lost', cardUid }, `card ${cardUid} was revoked`);
 */
export async function recordChange(audit: AuditSink, by: ChangedBy, input: ChangeRecord, done: string): Promise<void> {
  try {
    await appendAs(audit, by, input);
  } catch (err) {
    // The message carries the cause; a caller prints the message alone.
    throw new CardauthError('audit_unavailable', `${done}, but its audit record (${input.type}) could not be written: ${explain(err)}; record it by hand`);
  }
}
