import { isoTime } from '../clock';
import type { Agent } from '../store/agents';
import type { CardBinding } from '../store/cards';

/**
 * Cards and agents as the command line (`--json`) and the admin API answer them: times as ISO
 * strings, absent fields null. One shape for both, so a script moving from the CLI to the API
 * reads the same fields.
 */

/** A binding as `card list --json` and the admin API show it. */
export interface CardView {
  uid: string;
  accountId: string;
  status: string;
  label: string;
  boundAt: string | undefined;
  boundBy: string;
  revokedAt: string | null;
  revokedBy: string | null;
  revokeReason: string | null;
  reissueReason: string | null;
  expiresAt: string | null;
  replaces: string | null;
  replacedBy: string | null;
}

/**
 * A binding for `card list`, times as ISO strings.
 *
 * @example
 * (await cards.listForAccount(id)).map(cardView)
 */
export function cardView(b: CardBinding): CardView {
  return {
    uid: b.uid,
    accountId: b.accountId,
    status: b.status,
    label: b.label,
    boundAt: isoTime(b.boundAt),
    boundBy: b.boundBy,
    revokedAt: isoTime(b.revokedAt) ?? null,
    revokedBy: b.revokedBy ?? null,
    revokeReason: b.revokeReason ?? null,
    reissueReason: b.reissueReason ?? null,
    expiresAt: isoTime(b.expiresAt) ?? null,
    replaces: b.replaces ?? null,
    replacedBy: b.replacedBy ?? null,
  };
}

/** An agent as `agent list --json` and the admin API show it (the public key itself only by its fingerprint). */
export interface AgentView {
  id: string;
  name: string;
  status: string;
  alg: string;
  fingerprint: string;
  createdAt: string | undefined;
  approvedBy: string | null;
  approvedAt: string | null;
  revokedBy: string | null;
  revokedAt: string | null;
  suspendedAt: string | null;
}

/**
 * An agent for `agent list`, times as ISO strings.
 *
 * @example
 * (await agents.list()).map(agentView)
 */
export function agentView(a: Agent): AgentView {
  return {
    id: a.id,
    name: a.name,
    status: a.status,
    alg: a.alg,
    fingerprint: a.fingerprint,
    createdAt: isoTime(a.createdAt),
    approvedBy: a.approvedBy ?? null,
    approvedAt: isoTime(a.approvedAt) ?? null,
    revokedBy: a.revokedBy ?? null,
    revokedAt: isoTime(a.revokedAt) ?? null,
    suspendedAt: isoTime(a.suspendedAt) ?? null,
  };
}
