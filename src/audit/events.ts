import type { AuditEventInput } from './record';

/**
 * The fields every record may carry besides `details` (domain.md §7), in the
 * order docs/audit-events.md lists them.
 */
export const COMMON_FIELDS = {
  type: 'the event type (this table)',
  outcome: '`success` or `failure`',
  reason: 'a snake_case code: required with `failure`; one of the event\'s reasons where it lists some',
  subject: '`accountId`, and `login`: the account, or the login claimed when none matched',
  actor: 'who made an administrative change: `os:<user>` (the command line), `acct:<id>` (the pages), or `system:<rule>`',
  source: 'where it came from: `agentId` and `workstation` (the card agent), `reader` (its reader), `ip` and `userAgent` (the request)',
  cardUid: 'the card UID, when a card was presented or is the object',
  sessionIdHash: 'SHA-256 of the session id (the log is handed the id, never stores it)',
  ts: 'UTC time with milliseconds, from the server clock',
  seq: 'its place in the chain, from 1',
  prev: "the previous record's hash",
  hash: 'SHA-256 of the canonical JSON of every other field',
  v: 'the record format version',
} as const;

/** The fields of an officer's change (src/admin/record-change.ts): how it was made. */
const BY_OFFICER = {
  via: '`cli` (the command line), `web` (the pages) or `server` (a job of the server itself)',
  host: 'with `cli` or `server`: the host it ran on',
  ip: "with `web`: the officer's IP",
  userAgent: "with `web`: the officer's browser",
} as const;

// The examples' people, cards and places.
const ACC = 'acc_1ae53b7b2b75088a';
const IVANOVA = { accountId: ACC, login: 'ivanova' } as const;
const UID = '04A22BB25C6180';
const SID = 'Zq3vN8c1xw0kJ5pLr7tYb2mHs9dFg4aE';
const AGENT = 'ag_5f0c2a9d41e7b316';
const SKUD = 'sk_b5df5f24c5c18978';
const FINGERPRINT = 'UyeRy24doPx45oeAWK-xavvbZAKSEnYijBKLsIB1i_M';
const READER = 'ACS ACR1252 1S CL Reader PICC 0';
const WORKSTATION = 'Терапия-каб-12';
const BROWSER = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36';
/** A login request: the card step's agent and reader, the browser. */
const AT_DESK = { agentId: AGENT, reader: READER, ip: '10.20.3.17', userAgent: BROWSER } as const;
/** A request of a logged-in browser: the session's agent, no card. */
const AT_BROWSER = { agentId: AGENT, ip: '10.20.3.17', userAgent: BROWSER } as const;
/** The same, once the session knows the agent's workstation. */
const AT_WORKSTATION = { ...AT_DESK, workstation: WORKSTATION } as const;
const OFFICER = 'acct:acc_743433083ec1bfe4';
const VIA_WEB = { via: 'web', ip: '10.20.1.5', userAgent: BROWSER } as const;
const VIA_CLI = { via: 'cli', host: 'auth-1' } as const;

/** Fields some events share. */
const IP_LIMITED_FIELDS = { lockedForSec: 'with `ip_limited` or `junk_limited`: seconds until the client IP may try again' } as const;
const UNLOCK_FIELDS = { ...BY_OFFICER, failures: 'the failed attempts it had', remainingSec: 'seconds its lock had left (0: it was not locked)', before: '`locked` or `unlocked`', after: '`unlocked`' } as const;
const SKUD_FIELDS = { ...BY_OFFICER, skudId: 'the integration', name: 'its name', fingerprint: 'the thumbprint of its key (RFC 7638)', alg: 'its algorithm' } as const;
const PRESENCE_FIELDS = { skudId: 'the integration of the last pass', lastAt: 'the last pass (ISO-8601 UTC)', lastDirection: 'its direction', feedLastAt: "the feed's last statement (ISO-8601 UTC)", onSilent: 'CARDAUTH_PRESENCE_ON_SILENT' } as const;
const CLIENT_FIELDS = { ...BY_OFFICER, clientId: 'the application', name: 'its name', public: '`true`: a public client (no secret)', redirectUris: 'its redirect URIs, space-separated' } as const;
const CLIENT_EXAMPLE = { outcome: 'success', actor: 'os:petrova', details: { clientId: 'mis', name: 'МИС поликлиники', public: false, redirectUris: 'https://mis.example.ru/oidc/callback', ...VIA_CLI } } as const;
const KEY_FILE_FIELDS = { ...BY_OFFICER, kid: 'the key id', alg: 'its algorithm', file: 'the keys file (absolute path)' } as const;
const BACKCHANNEL_FIELDS = { clientId: 'the application', cause: 'why: a lock reason, `expired`, `ended` or `provider_logout`', attempts: 'sends made', failure: "a failure: the last send's error, e.g. `http_503`" } as const;

/** One event type's entry: see {@link AUDIT_EVENTS}. */
export interface AuditEventDef {
  meaning: string;
  reasons?: readonly string[];
  later?: true;
  /** The `details` keys its records may carry, each with what it holds. */
  fields?: Readonly<Record<string, string>>;
  /** A realistic record of it as handed to the audit log, all but `type`. */
  example?: Omit<AuditEventInput, 'type'>;
}

/**
 * The one table of audit event types (docs/fstec.md, РСБ.1). Every record in the
 * audit trail names one of these dotted types, an outcome (`success` or
 * `failure`) and, for failures, a reason code.
 *
 * Where an event lists `reasons`, a record of that type may only carry one of
 * them; elsewhere any snake_case code is accepted. `later` marks a type that
 * nothing writes yet: it is reserved for the command or page that will make
 * that change (a test keeps the mark true). The README table is
 * rendered from this object by {@link auditEventsTable}, so add an event here
 * and nowhere else.
 *
 * Each event also lists its `fields`: the `details` keys its records may carry
 * (beyond the fields every record has, {@link COMMON_FIELDS}), each with what it
 * holds; and an `example`: a realistic record of it as the code hands it to the
 * audit log (all but `type`), with the `details` keys the code writes. Tests
 * check each example against the record schema and its fields, and the
 * details the login flows write against `fields`. docs/audit-events.md is
 * rendered from this object too (src/audit/events-doc.ts; `node
 * scripts/audit-docs.js` after `npm run build` rewrites it and the README
 * table).
 *
 * @example
 * AUDIT_EVENTS['card.presented'].reasons.includes('revoked_card') // => true
 */
export const AUDIT_EVENTS = {
  // login: card step, password step, lockout
  'card.presented': {
    meaning:
      "A card statement reached the server (card step of the login). `expired_card`: its binding is past its expiry (`card bind --expires`). `workstation_mismatch`: it came from a client IP its agent's workstation was not seen at (CARDAUTH_WORKSTATION_IP_EXEMPT).",
    reasons: [
      'unknown_card',
      'revoked_card',
      'expired_card',
      'uid_random',
      'uid_malformed',
      'uid_length',
      'bad_statement',
      'bad_signature',
      'statement_expired',
      'wrong_audience',
      'replayed_nonce',
      'agent_unknown',
      'agent_not_approved',
      'agent_suspended',
      'card_locked',
      'workstation_mismatch',
      'ip_limited',
      'junk_limited',
    ],
    fields: IP_LIMITED_FIELDS,
    example: { outcome: 'failure', reason: 'revoked_card', subject: { accountId: ACC }, source: AT_DESK, cardUid: UID, sessionId: SID },
  },
  'password.checked': {
    meaning: 'The password step of the login ran.',
    reasons: ['wrong_password', 'unknown_account', 'card_mismatch', 'account_blocked', 'locked', 'card_locked', 'ip_limited', 'junk_limited', 'no_card_step', 'card_step_used_up', 'card_revoked', 'card_expired', 'agent_revoked', 'agent_suspended'],
    fields: IP_LIMITED_FIELDS,
    example: { outcome: 'failure', reason: 'wrong_password', subject: IVANOVA, source: AT_DESK, cardUid: UID, sessionId: SID },
  },
  'login.refused': {
    meaning:
      'Both factors passed but no session opened. `session_limit`: the account already had its roles\' number of live sessions (CARDAUTH_SESSION_LIMITS; `details.limit`); the login answered 409 with the other sessions.',
    reasons: ['session_limit'],
    fields: { limit: "the number of live sessions the account's roles allow" },
    example: { outcome: 'failure', reason: 'session_limit', subject: IVANOVA, source: AT_WORKSTATION, cardUid: UID, sessionId: SID, details: { limit: 1 } },
  },
  'account.locked': {
    meaning: 'An account was locked after failed attempts (ИАФ.3, УПД.4; CARDAUTH_LOCKOUT_ATTEMPTS; actor `system:lockout`), with the card, agent, reader, client and session of the attempt that locked it.',
    fields: {},
    example: { outcome: 'success', reason: 'failed_attempts', actor: 'system:lockout', subject: { accountId: ACC }, source: AT_DESK, cardUid: UID, sessionId: SID },
  },
  'account.unlocked': {
    meaning: "An account's failed password attempts were cleared, ending any lock on it; `actor` says by whom. Refused (`privileged_account`) unless a `chief_admin` unlocks an account that holds `security_officer`, `auditor` or `chief_admin`.",
    fields: { ...BY_OFFICER, failures: 'the failed attempts it had', remainingSec: 'seconds its lock had left (0: it was not locked)', before: 'the failed attempts, as text', after: '`0`' },
    example: { outcome: 'success', actor: OFFICER, subject: IVANOVA, details: { failures: 5, remainingSec: 612, before: '5', after: '0', ...VIA_WEB } },
  },
  'card.locked': {
    meaning:
      "A card was locked after failed password attempts following its card step (CARDAUTH_CARD_LOCKOUT_ATTEMPTS; actor `system:lockout`): its card steps are refused (`card_locked`) until the lock ends or an officer unlocks it.",
    fields: {},
    example: { outcome: 'success', reason: 'failed_attempts', actor: 'system:lockout', subject: { accountId: ACC }, source: AT_DESK, cardUid: UID, sessionId: SID },
  },
  'card.unlocked': {
    meaning:
      "A card's failed password attempts were cleared, ending any lock on it (`card unlock`, `POST /admin/api/cards/:uid/unlock`): `actor`, the card's account, `details.before` and `details.after` (`locked` or `unlocked`), the count and the time the lock had left.",
    fields: UNLOCK_FIELDS,
    example: { outcome: 'success', actor: OFFICER, subject: IVANOVA, cardUid: UID, details: { failures: 3, remainingSec: 3540, before: 'locked', after: 'unlocked', ...VIA_WEB } },
  },
  'ip.unlocked': {
    meaning: "A client IP's login budget (CARDAUTH_IP_ATTEMPTS; an IPv6 address as its /64) was cleared by an officer (`ip unlock`): `actor`, `source.ip`, `details.before`/`after` (`locked` or `unlocked`), the count and the time the lock had left. Its junk budgets stay.",
    fields: UNLOCK_FIELDS,
    example: { outcome: 'success', actor: 'os:petrova', source: { ip: '10.20.3.17' }, details: { failures: 600, remainingSec: 48, before: 'locked', after: 'unlocked', ...VIA_CLI } },
  },
  // sessions
  'session.created': {
    meaning: 'Login succeeded and a session was created. Written before the session: no record, no session.',
    fields: { amr: 'how the user authenticated: `sc pwd` (smart card and password)' },
    example: { outcome: 'success', subject: IVANOVA, source: AT_WORKSTATION, cardUid: UID, sessionId: SID, details: { amr: 'sc pwd' } },
  },
  'session.logout': {
    meaning: "The user logged out: `POST /auth/logout`, or confirmed an application's OpenID logout (`/oidc/session/end`; `details.via` `oidc` and the `clientId`).",
    fields: { via: '`oidc`: confirmed at an application\'s OpenID logout', clientId: 'with `via` `oidc`: the application' },
    example: { outcome: 'success', subject: IVANOVA, source: AT_BROWSER, sessionId: SID },
  },
  'session.locked': {
    meaning: 'A session was locked (УПД.8).',
    reasons: ['idle', 'tapout', 'switch', 'request'],
    fields: { lockedAt: 'a tap-out lock whose first record failed, recorded later: when it locked' },
    example: { outcome: 'success', reason: 'tapout', subject: { accountId: ACC }, source: AT_DESK, cardUid: UID, sessionId: SID },
  },
  'session.unlocked': {
    meaning: 'An unlock (card + password) of a locked session succeeded or failed.',
    fields: { failures: "a failure: the session's failed unlocks so far" },
    example: { outcome: 'failure', reason: 'login_failed', subject: IVANOVA, source: AT_DESK, cardUid: UID, sessionId: SID, details: { failures: 1 } },
  },
  'session.ended': {
    meaning:
      "A session was ended other than by logout. Reason `limit`: its account's user ended it from a login at the account's session limit (CARDAUTH_SESSION_LIMITS; cause `session_limit`, the account itself the actor). Reason `admin`: by an officer, `details.cause` saying why (`officer`: that one session, `cardauth session end` or `POST /admin/api/sessions/:handle/end`; or the block, revocation or role change that ended it); `read_only`: an auditor's refused end (nothing ended); `presence_exit`: the access-control feed reported the person's exit (`details.skudId`).",
    reasons: ['limit', 'admin', 'unlock_failures', 'expired', 'read_only', 'presence_exit'],
    fields: { ...BY_OFFICER, cause: 'with `admin`: `officer`, `card_revoked`, `agent_revoked`, `account_blocked`, `roles_changed` or `password_reset`; with `limit`: `session_limit`', skudId: 'with `presence_exit`: the access-control integration' },
    example: { outcome: 'success', reason: 'admin', actor: OFFICER, subject: IVANOVA, source: { agentId: AGENT, workstation: WORKSTATION }, cardUid: UID, sessionId: SID, details: { cause: 'officer', ...VIA_WEB } },
  },
  // cards
  'card.bound': {
    meaning: 'A card UID was bound to an account (`card bind`, or the new card of `card replace`, with `details.replaces`); `details.expiresAt` when the binding expires.',
    fields: { ...BY_OFFICER, label: 'the label given to the card', expiresAt: 'when the binding expires (ISO-8601 UTC)', replaces: 'with `card replace`: the old card UID', import: 'with `card import`: the SHA-256 of the file' },
    example: { outcome: 'success', actor: 'os:petrova', subject: IVANOVA, cardUid: UID, details: { label: 'ЕКП', expiresAt: '2027-03-01T00:00:00.000Z', ...VIA_CLI } },
  },
  'card.revoked': {
    meaning: 'A card was revoked: `card revoke`, `card lost` (reason `lost`), or the old card of `card replace` (reason `replaced`, with `details.replacedBy`); `details.before` (`active` or `expired`) and `details.after` are its status.',
    fields: { ...BY_OFFICER, before: '`active` or `expired`', after: '`revoked`', replacedBy: 'with reason `replaced`: the new card UID' },
    example: { outcome: 'success', reason: 'lost', actor: 'os:petrova', subject: IVANOVA, cardUid: UID, details: { before: 'active', after: 'revoked', ...VIA_CLI } },
  },
  'card.enrollment_requested': {
    meaning:
      'Self-enrollment (CARDAUTH_SELF_ENROLLMENT): after an unknown card, a login and the right password asked for that card; success: a pending request (`details.expiresAt`), waiting for an officer. A refusal answers the generic login failure: `unknown_account`, `has_card` (the account has an active card; the password is not checked), `card_bound` (the card got a binding since), `card_pending` (another account asked for it first). A wrong password is `password.checked`, as at any login.',
    reasons: ['unknown_account', 'has_card', 'card_bound', 'card_pending'],
    fields: { expiresAt: 'when the pending request lapses (ISO-8601 UTC)' },
    example: { outcome: 'success', subject: { accountId: ACC, login: 'ivanova' }, source: AT_WORKSTATION, cardUid: UID, sessionId: SID, details: { expiresAt: '2026-03-09T07:41:09.512Z' } },
  },
  'card.enrollment_approved': {
    meaning: 'An officer approved a pending self-enrollment (`card approve`, `POST /admin/api/cards/pending/:uid/approve`): the card is bound as by `card bind`; `details` the request (agent, workstation, requested) and `before` `pending`, `after` `active`. A refusal: `read_only`, `own_account`, `privileged_account`.',
    fields: { ...BY_OFFICER, agentId: 'the agent the request came from', workstation: 'its workstation', requestedAt: 'when it was asked for (ISO-8601 UTC)', label: 'the label given to the card', before: '`pending`', after: '`active`' },
    example: { outcome: 'success', actor: OFFICER, subject: IVANOVA, cardUid: UID, details: { agentId: AGENT, workstation: WORKSTATION, requestedAt: '2026-03-02T07:41:09.512Z', label: 'ЕКП', before: 'pending', after: 'active', ...VIA_WEB } },
  },
  'card.enrollment_rejected': {
    meaning: 'An officer rejected a pending self-enrollment (`card reject`, `POST /admin/api/cards/pending/:uid/reject`) with a note (`details.note`): the request is gone and the card free. A refusal: `read_only`.',
    fields: { ...BY_OFFICER, agentId: 'the agent the request came from', workstation: 'its workstation', requestedAt: 'when it was asked for (ISO-8601 UTC)', note: "the officer's note", before: '`pending`', after: '`rejected`' },
    example: { outcome: 'success', actor: OFFICER, subject: IVANOVA, cardUid: UID, details: { agentId: AGENT, workstation: WORKSTATION, requestedAt: '2026-03-02T07:41:09.512Z', note: 'не та карта', before: 'pending', after: 'rejected', ...VIA_WEB } },
  },
  'card.imported': {
    meaning:
      'Cards were bound from a CSV file (`card import`), all or nothing: the file name, its SHA-256 and the counts; one `card.bound` follows per card bound, with `details.import` the same SHA-256. A dry run, or a file with a bad line, binds nothing and is not recorded.',
    fields: { ...BY_OFFICER, file: 'the file name', sha256: 'its SHA-256', lines: 'its card lines', bound: 'cards bound', alreadyBound: 'lines already bound as given (left as they were)' },
    example: { outcome: 'success', actor: 'os:petrova', details: { file: 'cards-2026-03.csv', sha256: 'a4ea3864a6cdb4a189e853441b278511e7497579da9a3c4ddadd0502e34d7c40', lines: 40, bound: 38, alreadyBound: 2, ...VIA_CLI } },
  },
  'card.desk_read': {
    meaning:
      "An officer read a card at their own desk reader on the workbench's cards page (`POST /admin/api/cards/desk-read`), to bind it: the UID (`cardUid`) and, when it is bound, its owner (`subject`). No login and no card step: the statement is checked as at the login (an approved agent seen at the officer's IP, the nonce of the officer's session, once); a refusal names why, as `card.presented` does.",
    reasons: ['uid_random', 'uid_malformed', 'uid_length', 'bad_statement', 'bad_signature', 'statement_expired', 'wrong_audience', 'replayed_nonce', 'agent_unknown', 'agent_not_approved', 'workstation_mismatch'],
    fields: {},
    example: { outcome: 'success', actor: OFFICER, subject: IVANOVA, source: AT_DESK, cardUid: UID, sessionId: SID },
  },
  'card.reissued': {
    meaning: 'A revoked card UID was bound again, deliberately, with a reason (to the same or another account).',
    fields: { ...BY_OFFICER, reissueReason: 'why the revoked UID is bound again', label: 'the label given to the card', expiresAt: 'when the binding expires (ISO-8601 UTC)', replaces: 'with `card replace`: the old card UID' },
    example: { outcome: 'success', actor: 'os:petrova', subject: IVANOVA, cardUid: UID, details: { reissueReason: 'card_found', ...VIA_CLI } },
  },
  'card.tapout': {
    meaning:
      'The agent reported a tap-out or card removal for a card with live sessions; `subject` is the card\'s account, as in the `session.locked` of each session it locked. A refused event (a reason as for `card.presented`) is recorded only as the first of its client IP in a minute; the later ones are counted, and `details.unrecordedRefusals` of the IP\'s next record says how many (its first refusal of a later minute, or its one `rate_limited` record of a minute in which it went over CARDAUTH_AGENT_EVENTS_PER_MIN).',
    fields: { signal: '`tap`, `removed` or `switch`', sessionsLocked: 'sessions it locked', unrecordedRefusals: "a refusal: the client IP's refusals since its last record that got none" },
    example: { outcome: 'success', subject: { accountId: ACC }, source: AT_DESK, cardUid: UID, details: { signal: 'tap', sessionsLocked: 1 } },
  },
  // accounts and passwords
  'account.created': {
    meaning: 'An account was created.',
    fields: { ...BY_OFFICER, roles: 'its roles, comma-separated', before: 'a refusal: empty (none yet)', after: 'a refusal: the roles asked for' },
    example: { outcome: 'success', actor: 'os:petrova', subject: IVANOVA, details: { roles: 'clinician', ...VIA_CLI } },
  },
  'account.blocked': {
    meaning:
      'An account was blocked (`account block`; ИАФ.1); its open sessions end, each with its own `session.ended`. Reason `inactive`: unused for CARDAUTH_INACTIVE_BLOCK_DAYS (`account block-inactive`, or the server\'s hourly sweep with actor `system:inactivity`), with `details.lastActivity` and `details.days`.',
    fields: { ...BY_OFFICER, note: "the officer's note", before: '`active`', after: '`blocked`', lastActivity: 'with `inactive`: its last use (ISO-8601 UTC)', days: 'with `inactive`: CARDAUTH_INACTIVE_BLOCK_DAYS' },
    example: { outcome: 'success', actor: OFFICER, subject: IVANOVA, details: { note: 'уволена', before: 'active', after: 'blocked', ...VIA_WEB } },
  },
  'account.unblocked': {
    meaning: 'A blocked account was unblocked (`account unblock`).',
    fields: { ...BY_OFFICER, note: "the officer's note", before: '`blocked`', after: '`active`' },
    example: { outcome: 'success', actor: OFFICER, subject: IVANOVA, details: { before: 'blocked', after: 'active', ...VIA_WEB } },
  },
  'account.role_changed': {
    meaning: "An account's roles changed (`account roles`, `POST /admin/api/accounts/:login/roles`): `details.before` and `details.after`, comma-separated; its open sessions end, each with its own `session.ended`.",
    fields: { ...BY_OFFICER, before: 'the roles it had, comma-separated', after: 'the roles it has (a refusal: asked for)' },
    example: { outcome: 'success', actor: OFFICER, subject: IVANOVA, details: { before: 'clinician', after: 'clinician,auditor', ...VIA_WEB } },
  },
  'password.changed': {
    meaning:
      'A user changed their own password (`POST /auth/password/change`; `details.due`: `temporary`, `expired` or `none`, a change at will). A refusal names the rule: `password_weak`, `password_contains_name`, `password_reused` (a wrong current password is a `password.checked` failure).',
    fields: { due: '`temporary`, `expired` or `none` (a change at will)' },
    example: { outcome: 'success', subject: IVANOVA, source: AT_DESK, cardUid: UID, sessionId: SID, details: { due: 'expired' } },
  },
  'password.reset': {
    meaning: 'An officer gave an account a one-time password (`account reset-password`), to be changed at the next login; never the password. The demo also writes it when it resets its own accounts.',
    fields: { ...BY_OFFICER, temporary: '`true`: the password must be changed at the next login' },
    example: { outcome: 'success', actor: OFFICER, subject: IVANOVA, details: { temporary: true, ...VIA_WEB } },
  },
  'password.expired': {
    meaning: 'A login passed both factors with a password older than CARDAUTH_PASSWORD_MAX_AGE_DAYS: it must be changed before the session opens.',
    fields: { changedAt: 'when the password was set (ms since 1970, UTC)', maxAgeDays: 'CARDAUTH_PASSWORD_MAX_AGE_DAYS' },
    example: { outcome: 'success', subject: IVANOVA, source: AT_DESK, cardUid: UID, sessionId: SID, details: { changedAt: 1764566400000, maxAgeDays: 90 } },
  },
  // card agents
  'agent.enrolled': {
    meaning: 'A workstation card agent asked to be enrolled.',
    fields: { fingerprint: 'the thumbprint of its public key (RFC 7638)', resumed: '`true`: a retry that completed an earlier enrollment' },
    example: { outcome: 'success', source: { agentId: AGENT, ip: '10.20.3.17', userAgent: 'cardauth-agent/0.1.0', workstation: WORKSTATION }, details: { fingerprint: FINGERPRINT } },
  },
  'agent.registered': {
    meaning: "An enrolled agent's public key was registered.",
    fields: { ...BY_OFFICER, fingerprint: 'the thumbprint of its public key (RFC 7638)', alg: '`EdDSA` or `ES256`' },
    example: { outcome: 'success', actor: 'os:petrova', source: { agentId: AGENT, workstation: WORKSTATION }, details: { fingerprint: FINGERPRINT, alg: 'EdDSA', ...VIA_CLI } },
  },
  'agent.approved': {
    meaning: 'An administrator approved an agent; its statements are now accepted.',
    fields: { ...BY_OFFICER, fingerprint: 'the thumbprint of its public key (RFC 7638)', before: '`pending`', after: '`approved`' },
    example: { outcome: 'success', actor: 'os:petrova', source: { agentId: AGENT, workstation: WORKSTATION }, details: { fingerprint: FINGERPRINT, before: 'pending', after: 'approved', ...VIA_CLI } },
  },
  'agent.revoked': {
    meaning: 'An agent was revoked; its statements are refused from now on.',
    fields: { ...BY_OFFICER, fingerprint: 'the thumbprint of its public key (RFC 7638)', before: 'its status before', after: '`revoked`' },
    example: { outcome: 'success', actor: 'os:petrova', source: { agentId: AGENT, workstation: WORKSTATION }, details: { fingerprint: FINGERPRINT, before: 'approved', after: 'revoked', ...VIA_CLI } },
  },
  // the presence gate (СКУД, docs/presence.md)
  'skud.added': {
    meaning: 'An access-control integration key was registered (`skud add`): its id, name and key fingerprint.',
    fields: SKUD_FIELDS,
    example: { outcome: 'success', actor: 'os:petrova', details: { skudId: SKUD, name: 'Проходная', fingerprint: FINGERPRINT, alg: 'EdDSA', ...VIA_CLI } },
  },
  'skud.removed': {
    meaning: 'An access-control integration was removed (`skud remove`); its statements are refused from now on.',
    fields: SKUD_FIELDS,
    example: { outcome: 'success', actor: 'os:petrova', details: { skudId: SKUD, name: 'Проходная', fingerprint: FINGERPRINT, alg: 'EdDSA', ...VIA_CLI } },
  },
  'skud.statement': {
    meaning:
      'A signed statement reached `POST /skud/events`: success (one that carried events; a heartbeat is not recorded) with `details.skudId`, `accepted`, `unknown` and `ended`; a refusal names why (`skud_unknown`: no such integration key; `replayed_jti`: its `jti` was seen before). Refusals are recorded as the first of their client IP in a minute, the rest counted (`details.unrecordedRefusals`), as `card.tapout` refusals are.',
    reasons: ['bad_statement', 'bad_signature', 'statement_expired', 'wrong_audience', 'skud_unknown', 'replayed_jti', 'rate_limited'],
    fields: { skudId: 'the integration', accepted: 'passes stored', unknown: 'passes naming no account', ended: 'sessions ended by an exit', refused: 'passes refused (e.g. `bad_time`)', unrecordedRefusals: "a refusal: the client IP's refusals since its last record that got none" },
    example: { outcome: 'success', source: { ip: '10.20.9.4', userAgent: 'skud-bridge/2.3' }, details: { skudId: SKUD, accepted: 3, unknown: 0, ended: 1, refused: 0 } },
  },
  'account.presence_changed': {
    meaning: "An officer gated an account's logins by presence whatever its roles, or stopped (`skud account --gate on` or `off`): `details.before` and `details.after` (`on`, `off`).",
    fields: { ...BY_OFFICER, before: '`on` or `off`', after: '`on` or `off`' },
    example: { outcome: 'success', actor: 'os:petrova', subject: IVANOVA, details: { before: 'off', after: 'on', ...VIA_CLI } },
  },
  'presence.reported': {
    meaning: 'One pass the access-control feed reported (`details`: `skudId`, `direction` entry or exit, `at`, `door`). `unknown_person`: its login names no account (not stored); `bad_time`: dated more than 5 minutes ahead of the server\'s clock or more than a day ago (not stored: a pass from the future would outrank the real ones after it).',
    reasons: ['unknown_person', 'bad_time'],
    fields: { skudId: 'the integration', direction: '`entry` or `exit`', at: 'when (ISO-8601 UTC)', door: 'the door' },
    example: { outcome: 'success', subject: IVANOVA, source: { ip: '10.20.9.4', userAgent: 'skud-bridge/2.3' }, details: { skudId: SKUD, direction: 'entry', at: '2026-03-02T05:55:00.000Z', door: 'Проходная 1' } },
  },
  'presence.allowed': {
    meaning: 'A gated login (CARDAUTH_PRESENCE_ROLES) passed the presence gate: the person entered today and has not left. Reason `feed_silent`: the feed was silent and CARDAUTH_PRESENCE_ON_SILENT is `allow`.',
    reasons: ['feed_silent'],
    fields: PRESENCE_FIELDS,
    example: { outcome: 'success', subject: IVANOVA, details: { skudId: SKUD, lastAt: '2026-03-02T05:55:00.000Z', lastDirection: 'entry', feedLastAt: '2026-03-02T07:40:00.000Z', onSilent: 'deny' } },
  },
  'presence.denied': {
    meaning: 'A gated login was refused by the presence gate after both factors passed: `presence_absent` (no entry today), `presence_exited` (an exit after the entry), `feed_silent` (the feed silent, CARDAUTH_PRESENCE_ON_SILENT `deny`). `details`: the last pass and the feed\'s last statement.',
    reasons: ['presence_absent', 'presence_exited', 'feed_silent'],
    fields: PRESENCE_FIELDS,
    example: { outcome: 'failure', reason: 'presence_exited', subject: IVANOVA, details: { skudId: SKUD, lastAt: '2026-03-02T07:12:00.000Z', lastDirection: 'exit', feedLastAt: '2026-03-02T07:40:00.000Z', onSilent: 'deny' } },
  },
  'agent.suspended': {
    meaning:
      'Alert: an approved agent was suspended by the abuse rule, CARDAUTH_AGENT_REFUSALS unknown or refused cards at its readers within CARDAUTH_AGENT_REFUSALS_WINDOW_SEC (actor `system:abuse`, `details.count`); its statements are refused (`agent_suspended`) until an officer unsuspends it.',
    reasons: ['refused_cards'],
    fields: { count: 'unknown or refused cards at its readers in the window', windowSec: 'CARDAUTH_AGENT_REFUSALS_WINDOW_SEC', before: '`approved`', after: '`suspended`' },
    example: { outcome: 'failure', reason: 'refused_cards', actor: 'system:abuse', source: { agentId: AGENT, ip: '10.20.3.17', userAgent: BROWSER }, details: { count: 10, windowSec: 300, before: 'approved', after: 'suspended' } },
  },
  'agent.unsuspended': {
    meaning: 'An officer brought a suspended agent back to approved (`agent unsuspend`, `POST /admin/api/agents/:id/unsuspend`); its refused-card count starts again.',
    fields: { ...BY_OFFICER, fingerprint: 'the thumbprint of its public key (RFC 7638)', before: '`suspended`', after: '`approved`' },
    example: { outcome: 'success', actor: OFFICER, source: { agentId: AGENT, workstation: WORKSTATION }, details: { fingerprint: FINGERPRINT, before: 'suspended', after: 'approved', ...VIA_WEB } },
  },
  // the OpenID provider's applications and signing keys
  'oidc.client_added': {
    meaning: 'An application (an MIS) was registered with the OpenID provider (`client add`): its id, name, type and redirect URIs; never its secret.',
    fields: CLIENT_FIELDS,
    example: CLIENT_EXAMPLE,
  },
  'oidc.client_removed': {
    meaning: 'An application was removed from the OpenID provider (`client remove`).',
    fields: CLIENT_FIELDS,
    example: CLIENT_EXAMPLE,
  },
  'oidc.client_secret_rotated': {
    meaning: "A confidential application's secret was replaced (`client rotate-secret`); the old one stopped working.",
    fields: CLIENT_FIELDS,
    example: CLIENT_EXAMPLE,
  },
  // the OpenID provider's signing keys file (CARDAUTH_OIDC_JWKS_FILE); one record per key
  'oidc.key_added': {
    meaning: 'A signing key was made in a keys file (`oidc keys init`, `oidc keys add`): its `kid`, `alg` and the file; never key material.',
    fields: KEY_FILE_FIELDS,
    example: { outcome: 'success', actor: 'os:root', details: { kid: 'rs-2026-03', alg: 'RS256', file: '/etc/cardauth/oidc-keys.json', ...VIA_CLI } },
  },
  'oidc.key_activated': {
    meaning: 'A signing key was made the one that signs for its algorithm (`oidc keys use`): its `kid`, `alg` and the file.',
    fields: KEY_FILE_FIELDS,
    example: { outcome: 'success', actor: 'os:root', details: { kid: 'rs-2026-03', alg: 'RS256', file: '/etc/cardauth/oidc-keys.json', ...VIA_CLI } },
  },
  'oidc.key_dropped': {
    meaning: 'A signing key was removed from a keys file (`oidc keys drop`): its `kid`, `alg` and the file.',
    fields: KEY_FILE_FIELDS,
    example: { outcome: 'success', actor: 'os:root', details: { kid: 'rs-2025-09', alg: 'RS256', file: '/etc/cardauth/oidc-keys.json', ...VIA_CLI } },
  },
  'oidc.backchannel_delivered': {
    meaning:
      'An application that had tokens for a cardauth session that ended or locked was sent its back-channel logout token and answered 200/204 (OpenID Connect Back-Channel Logout); its grant was revoked. `details`: `clientId`, `cause` (the lock reason `tapout`, `switch`, `idle`, `request`; `expired`; `ended`: a logout, an officer, failed unlocks; `provider_logout`: sent by the provider itself when an application ended its session at `/oidc/session/end`) and `attempts`.',
    fields: BACKCHANNEL_FIELDS,
    example: { outcome: 'success', subject: IVANOVA, sessionId: SID, details: { clientId: 'mis', cause: 'tapout', attempts: 1 } },
  },
  'oidc.backchannel_failed': {
    meaning:
      'A back-channel logout was given up (its grant was revoked all the same): `retries_exhausted` after CARDAUTH_OIDC_LOGOUT_ATTEMPTS sends (`details.failure`: the last one\'s, e.g. `http_503`, `ECONNREFUSED`), `client_gone` when the application was removed or has no back-channel URI any more, `not_retried` for one the provider sent itself (`provider_logout`), which it tries once.',
    reasons: ['retries_exhausted', 'client_gone', 'not_retried'],
    fields: BACKCHANNEL_FIELDS,
    example: { outcome: 'failure', reason: 'retries_exhausted', subject: IVANOVA, sessionId: SID, details: { clientId: 'mis', cause: 'ended', attempts: 5, failure: 'ECONNREFUSED' } },
  },
  // the audit trail and configuration
  'audit.viewed': {
    meaning:
      "Someone read the audit trail: `audit list` (`details.via` `cli`), the auditor's JSON API (`GET /admin/api/audit…`, `web`) or an auditor's page (`web`: the log viewer, a record, the integrity panel, the chart): how many records were shown, and the filter (on the pages `who=… outcome=…`, `id=<stream id>` for one record, `integrity`, `chart since=… until=…`).",
    fields: { ...BY_OFFICER, count: 'records shown', filter: 'the filter, as given' },
    example: { outcome: 'success', actor: 'os:sidorova', details: { count: 50, filter: 'login=ivanova since=2026-03-01', ...VIA_CLI } },
  },
  'audit.exported': {
    meaning: "Someone exported the audit trail (`audit export`, or the export buttons of the auditor's log viewer): how many records, the format, the file name (the CLI) and the filter. Written before the file or the download is made.",
    fields: { ...BY_OFFICER, count: 'records written', format: '`jsonl` or `csv`', file: 'the file written', filter: 'the filter, as given, or `seq=N..M`' },
    example: { outcome: 'success', actor: 'os:sidorova', details: { count: 1204, format: 'csv', file: 'ivanova-march.csv', filter: 'login=ivanova since=2026-03-01', ...VIA_CLI } },
  },
  'audit.archived': {
    meaning:
      "Retention ran (`audit retain`, docs/audit-retention.md): records older than CARDAUTH_AUDIT_RETENTION_DAYS were archived, the archive read back and verified, anchored and trimmed from Redis: `details.archive` (file name), `sha256`, `fromSeq`, `toSeq`, `count`, `cutoff`, and the entries trimmed (`trimmedLog`, `trimmedCheckpoints`, `trimmedOthers`); `resumed` when it finished a run that stopped after anchoring. A failure trimmed nothing: `chain_broken` (the live chain did not verify), `archive_unwritten` (the archive could not be written), `archive_unverified` (the archive read back did not verify; `details.why`; it was removed), `archive_missing` (finishing a stopped run: the archive the newest anchor names is not in CARDAUTH_AUDIT_ARCHIVE_DIR, does not verify or has another seal than the anchor; `details.why`).",
    reasons: ['chain_broken', 'archive_unwritten', 'archive_unverified', 'archive_missing'],
    fields: {
      ...BY_OFFICER,
      archive: 'the archive file name',
      sha256: 'its SHA-256',
      fromSeq: 'the first record archived',
      toSeq: 'the last record archived',
      count: 'records archived',
      cutoff: 'records older than this (ISO-8601 UTC) were due',
      trimmedLog: 'entries trimmed from audit:log',
      trimmedCheckpoints: 'entries trimmed from audit:checkpoints',
      trimmedOthers: 'entries trimmed from the intake and index streams',
      resumed: '`true`: it finished a run that stopped after anchoring',
      break: 'with `chain_broken`: the kind of break',
      brokenSeq: 'with `chain_broken`: the first broken record',
      why: 'with `archive_unverified` or `archive_missing`: what failed',
    },
    example: { outcome: 'success', actor: 'os:archivist', details: { archive: 'audit-1-182340.jsonl.gz', sha256: '5d1c0e7b9a3f2468ace0bdf13579b2d4c6e8f0a1b3c5d7e9f2a4c6e8b0d1f3a5', fromSeq: 1, toSeq: 182340, count: 182340, cutoff: '2025-03-02T03:00:00.000Z', trimmedLog: 182340, trimmedCheckpoints: 1823, trimmedOthers: 910004, ...VIA_CLI } },
  },
  'audit.verified': {
    meaning:
      "The hash chain and its signed checkpoints were verified (`audit verify`): `details.count`, the head, the checkpoints checked and the records after the last (`unprotected`; `checkpoints` `none` when there is no audit key). A failure names the kind of break as its reason, and the first broken record (`brokenSeq`, `brokenId`), the detail (`break`: `hash_mismatch`, `prev_mismatch`, `seq_gap`, `seq_repeated`, `malformed`, `head_before_checkpoint`, `checkpoint_mismatch`, `head_not_in_chain`, `bad_signature`, `unknown_kid`, `checkpoint_malformed`) and the checkpoint (`checkpointId`) when one shows it (docs/audit.md).",
    reasons: ['record_edited', 'record_deleted', 'tail_truncated', 'record_inserted', 'checkpoint_forged'],
    fields: { ...BY_OFFICER, count: 'records checked', headSeq: 'the head', headHash: "the head's hash", checkpoints: 'checkpoints verified, or `none`', unprotected: 'records after the last checkpoint', lastCheckpointSeq: 'the last checkpoint', break: 'a failure: the kind of break found', brokenSeq: 'a failure: the first broken record', brokenId: 'its stream id', checkpointId: 'the checkpoint that shows it' },
    example: { outcome: 'success', actor: 'os:sidorova', details: { count: 18342, headSeq: 18342, headHash: '9c0f6a1e3b7d25480c1f4e6a2b9d8c7e5f3a1b0c9d8e7f6a5b4c3d2e1f0a9b8c', checkpoints: 184, unprotected: 42, lastCheckpointSeq: 18300, ...VIA_CLI } },
  },
  // the audit key file (CARDAUTH_AUDIT_KEYS_FILE) that signs the checkpoints; one record per key
  'audit.key_added': {
    meaning: 'An audit checkpoint key was made in a key file (`audit keys init`, `audit keys add`): its `kid`, `alg` and the file; never key material.',
    fields: KEY_FILE_FIELDS,
    example: { outcome: 'success', actor: 'os:root', details: { kid: 'audit-2026-03', alg: 'EdDSA', file: '/etc/cardauth/audit-keys.json', ...VIA_CLI } },
  },
  'audit.key_activated': {
    meaning: 'An audit checkpoint key was made the one that signs (`audit keys activate`): its `kid`, `alg` and the file.',
    fields: KEY_FILE_FIELDS,
    example: { outcome: 'success', actor: 'os:root', details: { kid: 'audit-2026-03', alg: 'EdDSA', file: '/etc/cardauth/audit-keys.json', ...VIA_CLI } },
  },
  'audit.intake_rejected': {
    meaning:
      'An entry in the audit intake (`audit:intake`, docs/audit.md) was not an event exactly as this node writes one: not written by a cardauth node (a bug, or someone with the server\'s Redis login), or by a node of another version, with an event type or reason this one does not know (every node must run the same version; that writer then refuses its action). It is chained as this record in its place, at the time of its stream id (the epoch for an id set past any date), so appends go on and nothing is dropped unseen: `details.entry` (its stream id; it stays in the intake) and `sha256` (of its fields as stored: the canonical JSON of the field and value list).',
    reasons: ['unreadable_entry'],
    fields: { entry: "the intake entry's stream id", sha256: 'SHA-256 of the canonical JSON of its fields and values' },
    example: { outcome: 'failure', reason: 'unreadable_entry', details: { entry: '1772436731204-0', sha256: '3b9f2c71d04e8a65f1c2b7e093d4a8f6e15c2d7b9a0f3e6c8d1b4a7f2e5c9d03' } },
  },
  'audit.write_failed': {
    meaning: 'Audit writes failed (those logins failed closed); recorded once the trail is writable again (РСБ.5), by the next good write or the next `/readyz` probe: `details.failedWrites`, `since` (the first failure), `lastFailure`, and `downMs`, how long the trail was down (from the first failure to the first good write).',
    reasons: ['trail_unwritable'],
    fields: { failedWrites: 'writes that failed', since: 'the first of them (ISO-8601 UTC)', lastFailure: 'the last of them', downMs: 'ms from the first failure to the first good write' },
    example: { outcome: 'failure', reason: 'trail_unwritable', details: { failedWrites: 14, since: '2026-03-02T07:38:51.204Z', lastFailure: '2026-03-02T07:41:03.950Z', downMs: 133217 } },
  },
  'config.changed': {
    meaning:
      "The server started (`cardauth serve`) with a configuration that differs from the last start's (kept in Redis under `cardauth:config:last`): one record per key, `details.key` with its `before` and `after` (a key new or gone since has no `before` or `after`); a secret (REDIS_URL, CARDAUTH_SESSION_SECRET) or the path of a private key file (CARDAUTH_OIDC_JWKS_FILE, CARDAUTH_AUDIT_KEYS_FILE) only `redacted`, never a value. With no last start kept (the first, or the key was removed) one record with `details.baseline` and the number of `keys`, so a removed key shows too. The nodes of a cluster share the last start: a node whose own keys (e.g. CARDAUTH_HOST) differ from the last node started records them.",
    fields: { key: 'the configuration key', before: 'its value at the last start', after: 'its value now', redacted: '`true`: a secret or a private key file, its values left out', baseline: '`true`: no last start kept', keys: 'with `baseline`: how many keys were kept' },
    example: { outcome: 'success', details: { key: 'CARDAUTH_LOCKOUT_ATTEMPTS', before: '5', after: '3' } },
  },
  'policy.applied': {
    meaning:
      'The server started with its policy (`cardauth serve`): the profile (CARDAUTH_POLICY_PROFILE), each password and lockout value and where it came from (`profile`, `file` or `env`). `below_profile`: CARDAUTH_ALLOW_BELOW_PROFILE let values weaker than the profile through, named in `details.belowProfile`.',
    reasons: ['below_profile'],
    fields: { profile: 'CARDAUTH_POLICY_PROFILE', profileFrom: 'where it came from: `default`, `file` or `env`', allowBelowProfile: 'CARDAUTH_ALLOW_BELOW_PROFILE', minLength: 'its value', minLengthFrom: '`profile`, `file` or `env`', minAlphabet: 'its value', minAlphabetFrom: '`profile`, `file` or `env`', maxAgeDays: 'its value', maxAgeDaysFrom: '`profile`, `file` or `env`', history: 'its value', historyFrom: '`profile`, `file` or `env`', lockoutAttempts: 'its value', lockoutAttemptsFrom: '`profile`, `file` or `env`', lockoutWindowSec: 'its value', lockoutWindowSecFrom: '`profile`, `file` or `env`', lockoutDurationSec: 'its value', lockoutDurationSecFrom: '`profile`, `file` or `env`', belowProfile: 'with `below_profile`: the keys below it, comma-separated' },
    example: { outcome: 'success', details: { profile: 'fstec-2026', profileFrom: 'default', allowBelowProfile: false, minLength: 12, minLengthFrom: 'profile', minAlphabet: 70, minAlphabetFrom: 'profile', maxAgeDays: 90, maxAgeDaysFrom: 'profile', history: 24, historyFrom: 'profile', lockoutAttempts: 3, lockoutAttemptsFrom: 'env', lockoutWindowSec: 900, lockoutWindowSecFrom: 'profile', lockoutDurationSec: 900, lockoutDurationSecFrom: 'profile' } },
  },
} as const satisfies Record<string, AuditEventDef>;

/** A dotted audit event type such as `card.presented`. */
export type AuditEventType = keyof typeof AUDIT_EVENTS;

/**
 * Every event type, in table order.
 *
 * @example
 * AUDIT_EVENT_TYPES.includes('session.created') // => true
 */
export const AUDIT_EVENT_TYPES = Object.keys(AUDIT_EVENTS) as [AuditEventType, ...AuditEventType[]];

/**
 * The reason codes a type allows, or `undefined` when any code is accepted.
 *
 * @example
 * auditReasons('session.locked') // => ['idle', 'tapout', 'switch', 'request']
 */
export function auditReasons(type: AuditEventType): readonly string[] | undefined {
  const def: AuditEventDef = AUDIT_EVENTS[type];
  return def.reasons;
}

/**
 * True for a type nothing writes yet (see {@link AUDIT_EVENTS}).
 *
 * @example
 * notWrittenYet('audit.exported') // => true
 */
export function notWrittenYet(type: AuditEventType): boolean {
  const def: AuditEventDef = AUDIT_EVENTS[type];
  return def.later === true;
}

/**
 * The README table of audit events, rendered from {@link AUDIT_EVENTS}.
 *
 * @example
 * auditEventsTable().split('\n')[0] // => '| event | meaning |'
 */
export function auditEventsTable(): string {
  const rows = AUDIT_EVENT_TYPES.map((type) => {
    const reasons = auditReasons(type);
    const tail = reasons ? ` Reasons: ${reasons.map((r) => `\`${r}\``).join(', ')}.` : '';
    const later = notWrittenYet(type) ? ' *Not written yet: reserved for the command that will make this change.*' : '';
    return `| \`${type}\` | ${AUDIT_EVENTS[type].meaning}${tail}${later} |`;
  });
  return ['| event | meaning |', '|---|---|', ...rows].join('\n');
}

/**
 * An event type's entry, as the common shape (its `fields` and `example` may be
 * missing while an event is new: a test asks for them).
 *
 * @example
 * auditEventDef('session.created').fields // => { amr: 'how the user authenticated: `sc pwd` (smart card and password)' }
 */
export function auditEventDef(type: AuditEventType): AuditEventDef {
  return AUDIT_EVENTS[type];
}
