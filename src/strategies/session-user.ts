import type { CardStepResult } from './card-step';
import type { LoginAccount } from './password-step';

/** What a successful card + password login hands to the session layer. */
export interface LoginResult {
  account: LoginAccount;
  card: CardStepResult;
  authTime: number;
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
  previousLogin: { at: number; workstation: string } | null;
}
