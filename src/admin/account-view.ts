import { isoTime } from '../clock';
import type { Account } from '../store/accounts';

/** An account as the CLI, the JSON API and the pages show it: never the password hash. */
export interface AccountView {
  id: string;
  login: string;
  displayName: string;
  roles: string[];
  status: string;
  createdAt: string | undefined;
  passwordChangedAt: string | undefined;
  lastLoginAt: string | null;
  lastLoginWorkstation: string | null;
}

/**
 * Picks what may be shown (an allow-list, so a new secret field never leaks).
 *
 * @example
 * (await accounts.list()).map(accountView) // no passwordHash in any element
 */
export function accountView(a: Account): AccountView {
  return {
    id: a.id,
    login: a.login,
    displayName: a.displayName,
    roles: [...a.roles],
    status: a.status,
    createdAt: isoTime(a.createdAt),
    passwordChangedAt: isoTime(a.passwordChangedAt),
    lastLoginAt: isoTime(a.lastLogin?.at) ?? null,
    lastLoginWorkstation: a.lastLogin?.workstation ?? null,
  };
}
