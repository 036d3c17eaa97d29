import type {} from 'express-session';
import type { PasswordChangeReason } from '../policy/password-lifecycle';
import type { CardStepResult } from '../strategies/card-step';
import type { EnrollmentCandidate } from '../strategies/self-enroll';
import type { SessionUser } from '../strategies/session-user';
import type { SessionLock } from '../store/session-locks';

/**
 * What the session holds besides `passport.user` (see SessionUser).
 * Module augmentation of express-session's SessionData.
 */
declare module 'express-session' {
  interface SessionData {
    /** Pre-auth: a nonce was issued to this session (makes it worth saving). */
    preauthAt?: number;
    /** Pre-auth: the card step passed; the password step may follow. */
    cardStep?: CardStepResult;
    /** Pre-auth: the card step refused an unknown card that a self-enrollment may ask for (CARDAUTH_SELF_ENROLLMENT). */
    enrollCandidate?: EnrollmentCandidate;
    /**
     * Pre-auth: both factors passed, but the password must be changed before the session opens
     * (POST /auth/password/change). Who and with which card; never a password or its hash.
     */
    passwordChange?: { accountId: string; login: string; card: CardStepResult; reason: PasswordChangeReason; at: number };
    /** Written by Passport on login (see SessionUser). */
    passport?: { user?: SessionUser };
    /** Set when the session is locked (idle, tap-out, switch); only card + password unlock it. */
    locked?: SessionLock;
    /** Last request seen, ms; refreshed coarsely to keep reads write-free. */
    lastSeen?: number;
    /** The CSRF token of this session's page forms (src/http/csrf.ts). */
    csrf?: string;
    /** The result of the last workbench action, shown once by the page it redirected to (never a secret). */
    flash?: { key: string; params: Record<string, string | number> };
  }
}

export {};
