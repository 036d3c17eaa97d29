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
  },
  'password.checked': {
    meaning: 'The password step of the login ran.',
    reasons: ['wrong_password', 'unknown_account', 'card_mismatch', 'account_blocked', 'locked', 'card_locked', 'ip_limited', 'junk_limited', 'no_card_step', 'card_step_used_up', 'card_revoked', 'card_expired', 'agent_revoked', 'agent_suspended'],
  },
  'login.refused': {
    meaning:
      'Both factors passed but no session opened. `session_limit`: the account already had its roles\' number of live sessions (CARDAUTH_SESSION_LIMITS; `details.limit`); the login answered 409 with the other sessions.',
    reasons: ['session_limit'],
  },
  'account.locked': { meaning: 'An account was locked after failed attempts (ИАФ.3, УПД.4).' },
  'account.unlocked': { meaning: "An account's failed password attempts were cleared, ending any lock on it; `actor` says by whom. Refused (`privileged_account`) unless a `chief_admin` unlocks an account that holds `security_officer`, `auditor` or `chief_admin`." },
  'card.locked': {
    meaning:
      "A card was locked after failed password attempts following its card step (CARDAUTH_CARD_LOCKOUT_ATTEMPTS; actor `system:lockout`): its card steps are refused (`card_locked`) until the lock ends or an officer unlocks it.",
  },
  'card.unlocked': {
    meaning:
      "A card's failed password attempts were cleared, ending any lock on it (`card unlock`, `POST /admin/api/cards/:uid/unlock`): `actor`, the card's account, `details.before` and `details.after` (`locked` or `unlocked`), the count and the time the lock had left.",
  },
  'ip.unlocked': {
    meaning: "A client IP's login budget (CARDAUTH_IP_ATTEMPTS; an IPv6 address as its /64) was cleared by an officer (`ip unlock`): `actor`, `source.ip`, `details.before`/`after` (`locked` or `unlocked`), the count and the time the lock had left. Its junk budgets stay.",
  },
  // sessions
  'session.created': { meaning: 'Login succeeded and a session was created. Written before the session: no record, no session.' },
  'session.logout': { meaning: "The user logged out: `POST /auth/logout`, or confirmed an application's OpenID logout (`/oidc/session/end`; `details.via` `oidc` and the `clientId`)." },
  'session.locked': { meaning: 'A session was locked (УПД.8).', reasons: ['idle', 'tapout', 'switch', 'request'] },
  'session.unlocked': { meaning: 'An unlock (card + password) of a locked session succeeded or failed.' },
  'session.ended': {
    meaning:
      "A session was ended other than by logout. Reason `limit`: its account's user ended it from a login at the account's session limit (CARDAUTH_SESSION_LIMITS; cause `session_limit`, the account itself the actor). Reason `admin`: by an officer, `details.cause` saying why (`officer`: that one session, `cardauth session end` or `POST /admin/api/sessions/:handle/end`; or the block, revocation or role change that ended it); `read_only`: an auditor's refused end (nothing ended); `presence_exit`: the access-control feed reported the person's exit (`details.skudId`).",
    reasons: ['limit', 'admin', 'unlock_failures', 'expired', 'read_only', 'presence_exit'],
  },
  // cards
  'card.bound': { meaning: 'A card UID was bound to an account (`card bind`, or the new card of `card replace`, with `details.replaces`); `details.expiresAt` when the binding expires.' },
  'card.revoked': { meaning: 'A card was revoked: `card revoke`, `card lost` (reason `lost`), or the old card of `card replace` (reason `replaced`, with `details.replacedBy`); `details.before` (`active` or `expired`) and `details.after` are its status.' },
  'card.enrollment_requested': {
    meaning:
      'Self-enrollment (CARDAUTH_SELF_ENROLLMENT): after an unknown card, a login and the right password asked for that card; success: a pending request (`details.expiresAt`), waiting for an officer. A refusal answers the generic login failure: `unknown_account`, `has_card` (the account has an active card; the password is not checked), `card_bound` (the card got a binding since), `card_pending` (another account asked for it first). A wrong password is `password.checked`, as at any login.',
    reasons: ['unknown_account', 'has_card', 'card_bound', 'card_pending'],
  },
  'card.enrollment_approved': {
    meaning: 'An officer approved a pending self-enrollment (`card approve`, `POST /admin/api/cards/pending/:uid/approve`): the card is bound as by `card bind`; `details` the request (agent, workstation, requested) and `before` `pending`, `after` `active`. A refusal: `read_only`, `own_account`, `privileged_account`.',
  },
  'card.enrollment_rejected': {
    meaning: 'An officer rejected a pending self-enrollment (`card reject`, `POST /admin/api/cards/pending/:uid/reject`) with a note (`details.note`): the request is gone and the card free. A refusal: `read_only`.',
  },
  'card.imported': {
    meaning:
      'Cards were bound from a CSV file (`card import`), all or nothing: the file name, its SHA-256 and the counts; one `card.bound` follows per card bound, with `details.import` the same SHA-256. A dry run, or a file with a bad line, binds nothing and is not recorded.',
  },
  'card.desk_read': {
    meaning:
      "An officer read a card at their own desk reader on the workbench's cards page (`POST /admin/api/cards/desk-read`), to bind it: the UID (`cardUid`) and, when it is bound, its owner (`subject`). No login and no card step: the statement is checked as at the login (an approved agent seen at the officer's IP, the nonce of the officer's session, once); a refusal names why, as `card.presented` does.",
    reasons: ['uid_random', 'uid_malformed', 'uid_length', 'bad_statement', 'bad_signature', 'statement_expired', 'wrong_audience', 'replayed_nonce', 'agent_unknown', 'agent_not_approved', 'workstation_mismatch'],
  },
  'card.reissued': { meaning: 'A revoked card UID was bound again, deliberately, with a reason (to the same or another account).' },
  'card.tapout': {
    meaning:
      'The agent reported a tap-out or card removal for a card with live sessions. A refused event (a reason as for `card.presented`) is recorded only as the first of its client IP in a minute; the later ones are counted, and `details.unrecordedRefusals` of the IP\'s next record says how many (its first refusal of a later minute, or its one `rate_limited` record of a minute in which it went over CARDAUTH_AGENT_EVENTS_PER_MIN).',
  },
  // accounts and passwords
  'account.created': { meaning: 'An account was created.' },
  'account.blocked': {
    meaning:
      'An account was blocked (`account block`; ИАФ.1); its open sessions end, each with its own `session.ended`. Reason `inactive`: unused for CARDAUTH_INACTIVE_BLOCK_DAYS (`account block-inactive`, or the server\'s hourly sweep with actor `system:inactivity`), with `details.lastActivity` and `details.days`.',
  },
  'account.unblocked': { meaning: 'A blocked account was unblocked (`account unblock`).' },
  'account.role_changed': {
    meaning: "An account's roles changed (`account roles`, `POST /admin/api/accounts/:login/roles`): `details.before` and `details.after`, comma-separated; its open sessions end, each with its own `session.ended`.",
  },
  'password.changed': {
    meaning:
      'A user changed their own password (`POST /auth/password/change`; `details.due`: `temporary`, `expired` or `none`, a change at will). A refusal names the rule: `password_weak`, `password_contains_name`, `password_reused` (a wrong current password is a `password.checked` failure).',
  },
  'password.reset': { meaning: 'An officer gave an account a one-time password (`account reset-password`), to be changed at the next login; never the password. The demo also writes it when it resets its own accounts.' },
  'password.expired': { meaning: 'A login passed both factors with a password older than CARDAUTH_PASSWORD_MAX_AGE_DAYS: it must be changed before the session opens.' },
  // card agents
  'agent.enrolled': { meaning: 'A workstation card agent asked to be enrolled.' },
  'agent.registered': { meaning: "An enrolled agent's public key was registered." },
  'agent.approved': { meaning: 'An administrator approved an agent; its statements are now accepted.' },
  'agent.revoked': { meaning: 'An agent was revoked; its statements are refused from now on.' },
  // the presence gate (СКУД, docs/presence.md)
  'skud.added': { meaning: 'An access-control integration key was registered (`skud add`): its id, name and key fingerprint.' },
  'skud.removed': { meaning: 'An access-control integration was removed (`skud remove`); its statements are refused from now on.' },
  'skud.statement': {
    meaning:
      'A signed statement reached `POST /skud/events`: success (one that carried events; a heartbeat is not recorded) with `details.skudId`, `accepted`, `unknown` and `ended`; a refusal names why (`skud_unknown`: no such integration key; `replayed_jti`: its `jti` was seen before). Refusals are recorded as the first of their client IP in a minute, the rest counted (`details.unrecordedRefusals`), as `card.tapout` refusals are.',
    reasons: ['bad_statement', 'bad_signature', 'statement_expired', 'wrong_audience', 'skud_unknown', 'replayed_jti', 'rate_limited'],
  },
  'account.presence_changed': { meaning: "An officer gated an account's logins by presence whatever its roles, or stopped (`skud account --gate on` or `off`): `details.before` and `details.after` (`on`, `off`)." },
  'presence.reported': { meaning: 'One pass the access-control feed reported (`details`: `skudId`, `direction` entry or exit, `at`, `door`). `unknown_person`: its login names no account (not stored); `bad_time`: dated more than 5 minutes ahead of the server\'s clock or more than a day ago (not stored: a pass from the future would outrank the real ones after it).', reasons: ['unknown_person', 'bad_time'] },
  'presence.allowed': { meaning: 'A gated login (CARDAUTH_PRESENCE_ROLES) passed the presence gate: the person entered today and has not left. Reason `feed_silent`: the feed was silent and CARDAUTH_PRESENCE_ON_SILENT is `allow`.', reasons: ['feed_silent'] },
  'presence.denied': {
    meaning: 'A gated login was refused by the presence gate after both factors passed: `presence_absent` (no entry today), `presence_exited` (an exit after the entry), `feed_silent` (the feed silent, CARDAUTH_PRESENCE_ON_SILENT `deny`). `details`: the last pass and the feed\'s last statement.',
    reasons: ['presence_absent', 'presence_exited', 'feed_silent'],
  },
  'agent.suspended': {
    meaning:
      'Alert: an approved agent was suspended by the abuse rule, CARDAUTH_AGENT_REFUSALS unknown or refused cards at its readers within CARDAUTH_AGENT_REFUSALS_WINDOW_SEC (actor `system:abuse`, `details.count`); its statements are refused (`agent_suspended`) until an officer unsuspends it.',
    reasons: ['refused_cards'],
  },
  'agent.unsuspended': { meaning: 'An officer brought a suspended agent back to approved (`agent unsuspend`, `POST /admin/api/agents/:id/unsuspend`); its refused-card count starts again.' },
  // the OpenID provider's applications and signing keys
  'oidc.client_added': { meaning: 'An application (an MIS) was registered with the OpenID provider (`client add`): its id, name, type and redirect URIs; never its secret.' },
  'oidc.client_removed': { meaning: 'An application was removed from the OpenID provider (`client remove`).' },
  'oidc.client_secret_rotated': { meaning: "A confidential application's secret was replaced (`client rotate-secret`); the old one stopped working." },
  // the OpenID provider's signing keys file (CARDAUTH_OIDC_JWKS_FILE); one record per key
  'oidc.key_added': { meaning: 'A signing key was made in a keys file (`oidc keys init`, `oidc keys add`): its `kid`, `alg` and the file; never key material.' },
  'oidc.key_activated': { meaning: 'A signing key was made the one that signs for its algorithm (`oidc keys use`): its `kid`, `alg` and the file.' },
  'oidc.key_dropped': { meaning: 'A signing key was removed from a keys file (`oidc keys drop`): its `kid`, `alg` and the file.' },
  'oidc.backchannel_delivered': {
    meaning:
      'An application that had tokens for a cardauth session that ended or locked was sent its back-channel logout token and answered 200/204 (OpenID Connect Back-Channel Logout); its grant was revoked. `details`: `clientId`, `cause` (the lock reason `tapout`, `switch`, `idle`, `request`; `expired`; `ended`: a logout, an officer, failed unlocks; `provider_logout`: sent by the provider itself when an application ended its session at `/oidc/session/end`) and `attempts`.',
  },
  'oidc.backchannel_failed': {
    meaning:
      'A back-channel logout was given up (its grant was revoked all the same): `retries_exhausted` after CARDAUTH_OIDC_LOGOUT_ATTEMPTS sends (`details.failure`: the last one\'s, e.g. `http_503`, `ECONNREFUSED`), `client_gone` when the application was removed or has no back-channel URI any more, `not_retried` for one the provider sent itself (`provider_logout`), which it tries once.',
    reasons: ['retries_exhausted', 'client_gone', 'not_retried'],
  },
  // the audit trail and configuration
  'audit.viewed': { meaning: 'Someone read the audit trail (`audit list`, `details.via` `cli`; the auditor\'s JSON API `GET /admin/api/audit…`, `web`): how many records were shown, and the filter.' },
  'audit.exported': { meaning: 'Someone exported the audit trail (`audit export`): how many records, the format, the file name and the filter.' },
  'audit.verified': {
    meaning:
      "The hash chain and its signed checkpoints were verified (`audit verify`): `details.count`, the head, the checkpoints checked and the records after the last (`unprotected`; `checkpoints` `none` when there is no audit key). A failure names the kind of break as its reason, and the first broken record (`brokenSeq`, `brokenId`), the detail (`break`: `hash_mismatch`, `prev_mismatch`, `seq_gap`, `seq_repeated`, `malformed`, `head_before_checkpoint`, `checkpoint_mismatch`, `head_not_in_chain`, `bad_signature`, `unknown_kid`, `checkpoint_malformed`) and the checkpoint (`checkpointId`) when one shows it (docs/audit.md).",
    reasons: ['record_edited', 'record_deleted', 'tail_truncated', 'record_inserted', 'checkpoint_forged'],
  },
  // the audit key file (CARDAUTH_AUDIT_KEYS_FILE) that signs the checkpoints; one record per key
  'audit.key_added': { meaning: 'An audit checkpoint key was made in a key file (`audit keys init`, `audit keys add`): its `kid`, `alg` and the file; never key material.' },
  'audit.key_activated': { meaning: 'An audit checkpoint key was made the one that signs (`audit keys activate`): its `kid`, `alg` and the file.' },
  'audit.write_failed': { meaning: 'Audit writes failed (those logins failed closed); recorded with their count and start once the trail is writable again (РСБ.5).', reasons: ['trail_unwritable'] },
  'config.changed': { meaning: 'The configuration changed.', later: true },
  'policy.applied': {
    meaning:
      'The server started with its policy (`cardauth serve`): the profile (CARDAUTH_POLICY_PROFILE), each password and lockout value and where it came from (`profile`, `file` or `env`). `below_profile`: CARDAUTH_ALLOW_BELOW_PROFILE let values weaker than the profile through, named in `details.belowProfile`.',
    reasons: ['below_profile'],
  },
} as const satisfies Record<string, { meaning: string; reasons?: readonly string[]; later?: true }>;

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
  const def: { meaning: string; reasons?: readonly string[] } = AUDIT_EVENTS[type];
  return def.reasons;
}

/**
 * True for a type nothing writes yet (see {@link AUDIT_EVENTS}).
 *
 * @example
 * notWrittenYet('audit.exported') // => true
 */
export function notWrittenYet(type: AuditEventType): boolean {
  const def: { meaning: string; later?: true } = AUDIT_EVENTS[type];
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
