// @ts-check
// The MIS's own sessions: an in-memory table keyed by a random id, which the browser holds in
// the `mis.sid` cookie. A session is either a login under way (state, nonce, PKCE verifier) or
// a logged-in clinician (the ID token's sub, sid and name, and the ID token for the logout).
import { randomBytes } from 'node:crypto';

/**
 * @typedef {{ state: string, nonce: string, verifier: string, lang: string }} PendingLogin
 * @typedef {{ sub: string, sid: string | undefined, name: string, login: string, idToken: string }} Clinician
 * @typedef {{ pending?: PendingLogin, user?: Clinician, lang: string, expiresAt: number }} Session
 */

/** A login under way lives 10 minutes; a logged-in session at most 12 hours (cardauth's own ends it sooner, by back-channel). */
const PENDING_MS = 10 * 60_000;
const LOGGED_IN_MS = 12 * 3600_000;

/** @param {() => number} now */
export function createSessionTable(now = Date.now) {
  /** @type {Map<string, Session>} */
  const table = new Map();
  const newId = () => randomBytes(32).toString('base64url');
  /** @param {(s: Session) => boolean} match */
  const dropWhere = (match) => {
    let dropped = 0;
    for (const [id, s] of table) {
      if (match(s)) {
        table.delete(id);
        dropped++;
      }
    }
    return dropped;
  };
  return {
    /** @param {{ pending: PendingLogin, lang: string }} s @returns {string} the new id */
    startLogin(s) {
      const id = newId();
      table.set(id, { ...s, expiresAt: now() + PENDING_MS });
      return id;
    },
    /** Replaces a login under way with the clinician, under a new id (never the one the login started with). @param {string} id @param {Clinician} user */
    loggedIn(id, user) {
      const lang = table.get(id)?.lang ?? 'ru';
      table.delete(id);
      const fresh = newId();
      table.set(fresh, { user, lang, expiresAt: now() + LOGGED_IN_MS });
      return fresh;
    },
    /** @param {string | undefined} id @returns {Session | undefined} */
    get(id) {
      const s = id === undefined ? undefined : table.get(id);
      if (s && s.expiresAt <= now()) {
        table.delete(/** @type {string} */ (id));
        return undefined;
      }
      return s;
    },
    /** @param {string | undefined} id */
    drop(id) {
      if (id !== undefined) table.delete(id);
    },
    /** Drops every session of this cardauth login (`sid`), or, without one, of this user (`sub`); answers how many. @param {{ sid?: string, sub?: string }} who */
    dropLogin(who) {
      if (who.sid) return dropWhere((s) => s.user?.sid === who.sid);
      return dropWhere((s) => s.user !== undefined && s.user.sub === who.sub);
    },
    /** Forgets expired sessions. */
    sweep() {
      const t = now();
      return dropWhere((s) => s.expiresAt <= t);
    },
  };
}
