import type { ServerConfig } from '../config';
import { ROLES, type Role } from '../store/accounts';

/** What a session of an account may do (issue 10 §4): its idle lock, its lifetime, and how many may be live at once. */
export interface SessionRules {
  idleSec: number;
  maxSec: number;
  /** Live (logged-in or locked) sessions the account may have at once. */
  limit: number;
}

/** The built-in limits: a clinician works at one workstation at a time; an officer may have a second one open. */
const DEFAULT_LIMITS: Readonly<Record<Role, number>> = { clinician: 1, security_officer: 2, auditor: 2, chief_admin: 2 };

type RulesConfig = Pick<ServerConfig, 'CARDAUTH_SESSION_IDLE_SEC' | 'CARDAUTH_SESSION_MAX_SEC' | 'CARDAUTH_SESSION_LIMITS' | 'CARDAUTH_SESSION_IDLE_SEC_BY_ROLE' | 'CARDAUTH_SESSION_MAX_SEC_BY_ROLE'>;

/**
 * The session rules of an account by its roles: each role's value from the config (the per-role
 * keys, else the global CARDAUTH_SESSION_IDLE_SEC / CARDAUTH_SESSION_MAX_SEC, else the built-in
 * limit), and for several roles the strictest of each. An account with no known role gets the
 * strictest of all roles.
 *
 * @example
 * const rulesFor = createSessionRules(config);
 * rulesFor(['clinician']) // => { idleSec: 900, maxSec: 43200, limit: 1 }
 */
export function createSessionRules(config: RulesConfig): (roles: readonly string[]) => SessionRules {
  const byRole = new Map<string, SessionRules>(
    ROLES.map((r) => [
      r,
      {
        idleSec: config.CARDAUTH_SESSION_IDLE_SEC_BY_ROLE[r] ?? config.CARDAUTH_SESSION_IDLE_SEC,
        maxSec: config.CARDAUTH_SESSION_MAX_SEC_BY_ROLE[r] ?? config.CARDAUTH_SESSION_MAX_SEC,
        limit: config.CARDAUTH_SESSION_LIMITS[r] ?? DEFAULT_LIMITS[r],
      },
    ]),
  );
  return (roles) => {
    const own = roles.flatMap((r) => byRole.get(r) ?? []);
    const all = own.length > 0 ? own : [...byRole.values()];
    return {
      idleSec: Math.min(...all.map((x) => x.idleSec)),
      maxSec: Math.min(...all.map((x) => x.maxSec)),
      limit: Math.min(...all.map((x) => x.limit)),
    };
  };
}
