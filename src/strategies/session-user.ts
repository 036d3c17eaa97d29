import type { AuditEventInput } from '../audit/record';
import type { CardStepResult } from './card-step';
import type { LoginAccount } from './password-step';

/** What a successful card + password login hands to the session layer. */
export interface LoginResult {
  account: LoginAccount;
  card: CardStepResult;
  authTime: number;
  /**
   * The login's audit records still to be written, in order (the password step's success, an
   * unlock's): the session opener appends them in one batch with `session.created`.
   */
  records: AuditEventInput[];
}

/**
 * What Redis stores for a logged-in session (under `passport.user`).
 * `amr` follows RFC 8176: `sc` smart card, `pwd` password; the factor level
 * is derived from it, never stored as a flag.
 */
export interface SessionUser {
  accountId: string;
  login: string;
  displayName: string;
  roles: string[];
  amr: ['sc', 'pwd'];
  authTime: number;
  cardUid: string;
  agentId: string;
  workstation: string;
  reader: string;
  /** The client IP of the login (shown to the same account's next login at its session limit). */
  ip?: string;
  /** The idle lock and lifetime of its roles at the login (createSessionRules), for the session guard and the back-channel logout worker. */
  idleSec?: number;
  maxSec?: number;
  previousLogin: { at: number; workstation: string } | null;
  /** Failed password attempts and card-locked refusals on the account since `previousLogin` (absent in a session opened before it was counted). */
  failedAttempts?: number;
}
