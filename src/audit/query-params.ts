import { z } from 'zod';
import { parseDay } from '../days';
import { AUDIT_EVENT_TYPES, type AuditEventType } from './events';
import type { AuditFilter } from './query';

/**
 * The audit query's parameters as people type them, shared by `cardauth audit list|export` and
 * `GET /admin/api/audit`, so both read them alike. Zod schemas; their messages name the value's
 * form, never more than 40 characters of the value.
 */

/** `session.created,card.*`: event types, or a family of them by its prefix. */
export const typesParam = z.string().transform((v, ctx) => {
  const types = new Set<AuditEventType>();
  for (const word of v.split(',').map((w) => w.trim()).filter(Boolean)) {
    const family = word.endsWith('.*') ? word.slice(0, -1) : undefined;
    const matched = AUDIT_EVENT_TYPES.filter((t) => (family ? t.startsWith(family) : t === word));
    if (matched.length === 0) {
      ctx.addIssue({ code: 'custom', message: `"${word.slice(0, 40)}" is not an audit event type (see the README's table; a family such as session.* works too)` });
      return z.NEVER;
    }
    for (const t of matched) types.add(t);
  }
  if (types.size === 0) {
    ctx.addIssue({ code: 'custom', message: 'required' });
    return z.NEVER;
  }
  return [...types];
});

const TIME = /^\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,3})?)?(?:Z|[+-]\d{2}:\d{2}))?$/;

/** A date (UTC midnight) or a date and time with its offset (`audit list --since`, `card bind --expires`); answers ms since epoch. */
export const timeParam = z.string().transform((v, ctx) => {
  // The day must exist (parseDay): Date.parse would roll 2026-02-30 over into March.
  const day = TIME.test(v) ? parseDay(v.slice(0, 10)) : undefined;
  const ms = day === undefined ? NaN : v.length === 10 ? day : Date.parse(v);
  if (!Number.isFinite(ms)) {
    ctx.addIssue({ code: 'custom', message: `"${v.slice(0, 40)}" is not a date (2026-11-25) or a time with its offset (2026-11-25T09:00+03:00)` });
    return z.NEVER;
  }
  return ms;
});


/** A card UID as presented: hex digits, separators (space, `:`, `-`) allowed. */
export const uidParam = z.string().regex(/^[\s:-]*(?:[0-9A-Fa-f][\s:-]*){2,32}$/, 'hex digits, e.g. 04A22BB25C6180');

/** The parameters by the names people type them (`--account`, `?account=`), parsed. */
export interface AuditFilterParams {
  type?: AuditEventType[];
  outcome?: 'success' | 'failure';
  login?: string;
  uid?: string;
  agent?: string;
  account?: string;
  workstation?: string;
  ip?: string;
  since?: number;
  until?: number;
}

/**
 * The query service's filter from the parameters as typed.
 *
 * @example
 * toAuditFilter({ account: 'acc_1', type: ['session.created'] }) // => { accountId: 'acc_1', types: ['session.created'] }
 */
export function toAuditFilter(a: AuditFilterParams): AuditFilter {
  const f: AuditFilter = {};
  if (a.type) f.types = a.type;
  if (a.outcome) f.outcome = a.outcome;
  if (a.login !== undefined) f.login = a.login;
  if (a.uid !== undefined) f.cardUid = a.uid;
  if (a.agent !== undefined) f.agentId = a.agent;
  if (a.account !== undefined) f.accountId = a.account;
  if (a.workstation !== undefined) f.workstation = a.workstation;
  if (a.ip !== undefined) f.ip = a.ip;
  if (a.since !== undefined) f.since = a.since;
  if (a.until !== undefined) f.until = a.until;
  return f;
}

/**
 * The filter as an audit record of the read states it: the parameters as given, `name=value`
 * in the order of `names`, or `all` (`audit list|export` and `GET /admin/api/audit`).
 *
 * @example
 * describeParams({ type: 'card.*', login: 'x' }, ['type', 'login']) // => 'type=card.* login=x'
 */
export function describeParams(values: Record<string, unknown>, names: readonly string[]): string {
  const parts = names.flatMap((k) => (typeof values[k] === 'string' ? [`${k}=${values[k] as string}`] : []));
  return parts.length ? parts.join(' ') : 'all';
}
