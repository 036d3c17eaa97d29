import { AUDIT_EVENT_TYPES } from '../../audit/events';
import type { AuditFilter } from '../../audit/query';
import { typesParam, uidParam } from '../../audit/query-params';
import { DAY_MS, parseDay } from '../../days';
import { isAccountId } from '../../store/accounts';
import { isAgentId } from '../../store/agents';
import type { MessageKey } from '../i18n';

/**
 * The auditor's filter (issue 11 §8) as the query string of the log viewer and its exports:
 * `since`, `until` (days, UTC, both included), `who` (a login, or an account id `acc_…`),
 * `type` (an event type, or a family as `card.*`, or a list of them as the JSON API and the CLI
 * take it: query-params.ts), `outcome`, `where` (an agent id `ag_…`, or a
 * workstation's name), `ip`, `uid` (hex digits, read by the same rule as the JSON API's and the
 * CLI's). A bad value is not an error page: the form says which field and how to write it.
 */

/** The filter's fields as the form shows them (strings, as typed). */
const FILTER_FIELDS = ['since', 'until', 'who', 'type', 'outcome', 'where', 'ip', 'uid'] as const;
type FilterForm = Record<(typeof FILTER_FIELDS)[number], string>;

/** The families of event types (the part before the dot), in the order of the README's table. */
export const AUDIT_FAMILIES: readonly string[] = [...new Set(AUDIT_EVENT_TYPES.map((t) => t.slice(0, t.indexOf('.'))))];

/** A filter as parsed: the service's filter, the form as typed, or the first bad field with the text that says how to write it. */
type ParsedFilter = { ok: true; filter: AuditFilter; form: FilterForm } | { ok: false; form: FilterForm; field: (typeof FILTER_FIELDS)[number]; message: MessageKey };

/**
 * Reads the filter from a query string (a repeated parameter counts as bad).
 *
 * @example
 * parseAuditFilter({ who: 'ivanova', outcome: 'failure' }) // => { ok: true, filter: { login: 'ivanova', outcome: 'failure' }, form }
 * parseAuditFilter({ since: '2026-02-30' }) // => { ok: false, field: 'since', message: 'audit_bad_since', form }
 */
export function parseAuditFilter(query: Record<string, unknown>): ParsedFilter {
  const form = Object.fromEntries(FILTER_FIELDS.map((k) => [k, typeof query[k] === 'string' ? (query[k] as string).trim().slice(0, 200) : ''])) as FilterForm;
  const bad = (field: (typeof FILTER_FIELDS)[number]): ParsedFilter => ({ ok: false, form, field, message: `audit_bad_${field}` });
  for (const k of FILTER_FIELDS) if (query[k] !== undefined && typeof query[k] !== 'string') return { ok: false, form, field: k, message: 'audit_bad_repeated' };
  const filter: AuditFilter = {};
  if (form.since) {
    const ms = parseDay(form.since);
    if (ms === undefined) return bad('since');
    filter.since = ms;
  }
  if (form.until) {
    const ms = parseDay(form.until);
    if (ms === undefined || (filter.since !== undefined && ms < filter.since)) return bad('until');
    filter.until = ms + DAY_MS; // the day included
  }
  if (form.who) {
    if (form.who.length > 64) return bad('who');
    if (isAccountId(form.who)) filter.accountId = form.who;
    else filter.login = form.who;
  }
  if (form.type) {
    const types = typesParam.safeParse(form.type);
    if (!types.success) return bad('type');
    filter.types = types.data;
  }
  if (form.outcome) {
    if (form.outcome !== 'success' && form.outcome !== 'failure') return bad('outcome');
    filter.outcome = form.outcome;
  }
  if (form.where) {
    if (form.where.length > 128) return bad('where');
    if (isAgentId(form.where)) filter.agentId = form.where;
    else filter.workstation = form.where;
  }
  if (form.ip) {
    if (!/^[0-9A-Fa-f.:]{2,45}$/.test(form.ip)) return bad('ip');
    filter.ip = form.ip;
  }
  if (form.uid) {
    const uid = uidParam.safeParse(form.uid);
    if (!uid.success) return bad('uid');
    filter.cardUid = uid.data;
  }
  return { ok: true, filter, form };
}

/** The form's non-empty fields as a query string (with `extra`), `?…` or ''. */
export function filterQuery(form: FilterForm, extra: Record<string, string> = {}): string {
  const p = new URLSearchParams();
  for (const k of FILTER_FIELDS) if (form[k]) p.set(k, form[k]);
  for (const [k, v] of Object.entries(extra)) p.set(k, v);
  const s = p.toString();
  return s ? `?${s}` : '';
}

/** The filter as an audit record of the read states it, as `audit list` does: `type=card.* outcome=failure`, or `all`. */
export function describeFilter(form: FilterForm): string {
  const parts = FILTER_FIELDS.flatMap((k) => (form[k] ? [`${k}=${form[k]}`] : []));
  return parts.length ? parts.join(' ') : 'all';
}
