import type { AuditSink } from '../audit/record';
import { CardauthError } from '../errors';
import type { Role } from '../store/accounts';
import { recordChange, type ChangedBy, type ChangeRecord } from './record-change';

/**
 * Whose roles an administrative change is checked against: an account (a
 * logged-in officer on the pages, its roles as stored when it acts), or
 * `system`: the command line, run on the server by the machine's
 * administrator, who can read the config and reach Redis anyway, so a role
 * check there would only pretend. The system passes every check.
 */
export type Principal = 'system' | { accountId: string; roles: readonly Role[] };

/**
 * The roles that make an account privileged: only a `chief_admin` manages such accounts (УПД.4).
 * They are also who may reach the admin API (and the presence status) at all; what each may do
 * there, the use case decides.
 */
export const PRIVILEGED_ROLES: readonly Role[] = Object.freeze(['security_officer', 'auditor', 'chief_admin'] as const);

/**
 * The officers: the roles that may change anything (and open the workbench's pages and the desk
 * read); an `auditor` (or a clinician) only reads.
 */
export const OFFICER_ROLES: readonly Role[] = Object.freeze(['security_officer', 'chief_admin'] as const);
/** Who reads the audit trail (issue 11 §8): the auditor only. */
export const AUDITOR_ROLES: readonly Role[] = Object.freeze(['auditor'] as const);

/** Each administrative change, named by the audit event it writes. */
export type AdminAction =
  | 'account.created'
  | 'account.blocked'
  | 'account.unblocked'
  | 'account.unlocked'
  | 'account.role_changed'
  | 'password.reset'
  | 'card.bound'
  | 'card.revoked'
  | 'card.enrollment_approved'
  | 'card.enrollment_rejected'
  | 'card.unlocked'
  | 'agent.registered'
  | 'agent.approved'
  | 'agent.revoked'
  | 'agent.unsuspended'
  | 'ip.unlocked'
  | 'session.ended'
  | 'skud.added'
  | 'skud.removed'
  | 'account.presence_changed';

/**
 * Changes nobody makes to their own account: binding a card to it (or approving its self-enrollment), unlocking it or its card,
 * changing its roles, resetting its password (an officer changes their own password at the login page),
 * gating it by presence.
 */
const NOT_ON_OWN: ReadonlySet<AdminAction> = new Set(['card.bound', 'card.enrollment_approved', 'card.unlocked', 'account.unlocked', 'account.role_changed', 'password.reset', 'account.presence_changed']);

/**
 * Changes that give or restore access to an account, or change who holds a role: on an account
 * that holds (or would hold) a privileged role, only a `chief_admin` makes them. Revoking a card
 * takes access away and stays with every officer (a lost card is revoked by whoever is at the desk).
 * Gating an account by presence (or ending that) is a chief_admin's on a privileged account too.
 */
const CHIEF_FOR_PRIVILEGED: ReadonlySet<AdminAction> = new Set([
  'account.created',
  'account.blocked',
  'account.unblocked',
  'account.unlocked',
  'account.role_changed',
  'password.reset',
  'card.bound',
  'card.enrollment_approved',
  'account.presence_changed',
  'card.unlocked',
]);

/** The account a change is about: as stored, and for a creation or a role change, the roles it would hold. */
export interface ChangeTarget {
  accountId?: string | undefined;
  login?: string | undefined;
  roles: readonly Role[];
  newRoles?: readonly Role[] | undefined;
}

/**
 * An account as a change's target.
 *
 * @example
 * await authorize(s.audit, by, 'card.bound', targetOf(account));
 */
export const targetOf = (a: { id: string; login: string; roles: readonly Role[] }): ChangeTarget => ({ accountId: a.id, login: a.login, roles: a.roles });

/** Why a change is refused: `read_only` (no officer role), `own_account`, `privileged_account` (needs a chief_admin). */
export type Refusal = 'read_only' | 'own_account' | 'privileged_account';

const MESSAGES: Record<Refusal, string> = {
  read_only: 'this change needs the security_officer or chief_admin role',
  own_account: 'nobody makes this change to their own account',
  privileged_account: 'only a chief_admin changes an account that holds security_officer, auditor or chief_admin',
};

/**
 * The separation of duties (issue 10 §6), as a pure rule: why `principal` may not make `action`
 * (to `target`), or null when it may.
 *
 * @example
 * refusal({ accountId: 'acc_…1', roles: ['auditor'] }, 'account.blocked', { roles: ['clinician'] }) // => 'read_only'
 * refusal('system', 'account.role_changed', { roles: ['chief_admin'] })                            // => null
 */
export function refusal(principal: Principal, action: AdminAction, target?: ChangeTarget): Refusal | null {
  if (principal === 'system') return null;
  if (!principal.roles.some((r) => OFFICER_ROLES.includes(r))) return 'read_only';
  if (!target) return null;
  if (NOT_ON_OWN.has(action) && target.accountId !== undefined && target.accountId === principal.accountId) return 'own_account';
  const privileged = [...target.roles, ...(target.newRoles ?? [])].some((r) => PRIVILEGED_ROLES.includes(r));
  if (privileged && CHIEF_FOR_PRIVILEGED.has(action) && !principal.roles.includes('chief_admin')) return 'privileged_account';
  return null;
}

/** What a change is about besides an account, for its refusal's record: the card, or the agent or IP (`source`), or an id in `details`. */
type ChangeObject = Pick<ChangeRecord, 'cardUid' | 'source' | 'details'>;

/**
 * Checks the separation of duties before a change: a refused change is audited (its own event
 * type, outcome `failure`, reason `read_only`, `own_account` or `privileged_account`, with the
 * actor, the target account and what else it was about, `about`: the card, agent or IP) and fails
 * with `forbidden` (403); nothing was changed. Every use case in src/admin calls it first, so the
 * command line and the pages get the same checks.
 *
 * @example
 * await authorize(s.audit, by, 'account.unlocked', account); // throws forbidden for an officer's own account
 * await authorize(s.audit, by, 'agent.approved', undefined, { source: { agentId: id } });
 */
export async function authorize(audit: AuditSink, by: ChangedBy, action: AdminAction, target?: ChangeTarget, about: ChangeObject = {}): Promise<void> {
  const why = refusal(by.principal, action, target);
  if (!why) return;
  await recordChange(
    audit,
    by,
    {
      type: action,
      outcome: 'failure',
      reason: why,
      ...about,
      ...(target?.accountId !== undefined ? { subject: { accountId: target.accountId, login: target.login } } : {}),
      ...(target?.newRoles ? { details: { ...about.details, before: target.roles.join(','), after: target.newRoles.join(',') } } : {}),
    },
    `the refused ${action} changed nothing`,
  );
  throw new CardauthError('forbidden', MESSAGES[why]);
}
