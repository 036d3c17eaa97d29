import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { z } from 'zod';
import { CardauthError } from './errors';
import { breachText, DEFAULT_PROFILE, PROFILE_NAMES, PROFILES, profileBreaches, type ProfileKey, type ProfileName } from './policy-profiles';

/**
 * The one place that reads the environment. Every key is declared once below,
 * with its default and a description: the README's table is generated from
 * this list (`cardauth config table`) and a test keeps the two equal.
 *
 * Sources, later wins: built-in defaults, an optional JSON config file
 * (`--config FILE`, keys named as the environment variables), the environment.
 * A bad or missing value stops start-up with one line that names the key.
 */

/** A plain decimal integer in [min, max]: no sign, point, exponent, hex, spaces or empty (which Number() would take as 0). */
const int = (min: number, max: number) =>
  z.string().transform((v, ctx) => {
    const n = /^\d+$/.test(v) ? Number(v) : NaN;
    if (n >= min && n <= max) return n;
    ctx.addIssue({ code: 'custom', message: `must be a whole number from ${min} to ${max}` });
    return z.NEVER;
  });
/** Empty (unset), or 1 to 36500 days. */
const optionalDays = z.union([z.literal('').transform(() => undefined), int(1, 36500)], { error: 'must be empty (no retention) or a whole number of days from 1 to 36500' });
/** 0 (off), or 7 to 3650 days. */
const inactiveDays = int(0, 3650).refine((v) => v === 0 || v >= 7, { message: 'must be 0 (off) or a whole number of days from 7 to 3650' });
/** The account roles (src/store/accounts.ts ROLES, which a neutral module may not import; a test keeps the two equal). */
export const ROLE_NAMES = ['clinician', 'security_officer', 'auditor', 'chief_admin'] as const;
type Role = (typeof ROLE_NAMES)[number];
const ROLES: readonly Role[] = ROLE_NAMES;
/**
 * Per-role values `role=N,role=N` (e.g. `clinician=1,chief_admin=2`), each a whole number in
 * [min, max]; a role left out keeps its default. Empty: none set.
 */
const roleValues = (min: number, max: number) =>
  z.string().transform((v, ctx): Readonly<Partial<Record<Role, number>>> => {
    const out: Partial<Record<Role, number>> = {};
    for (const part of v.split(',').map((t) => t.trim()).filter(Boolean)) {
      const [role = '', value = '', ...rest] = part.split('=').map((t) => t.trim());
      const problem = !ROLES.includes(role as Role)
        ? `"${role}" is not a role (${ROLES.join(', ')})`
        : rest.length > 0 || !/^\d+$/.test(value) || Number(value) < min || Number(value) > max
          ? `${role}: must be a whole number from ${min} to ${max}`
          : Object.hasOwn(out, role)
            ? `${role}: given twice`
            : undefined;
      if (problem) {
        ctx.addIssue({ code: 'custom', message: `${problem}; write role=value, comma-separated` });
        return z.NEVER;
      }
      out[role as Role] = Number(value);
    }
    return Object.freeze(out);
  });
const bool = z.enum(['true', 'false', '1', '0', 'yes', 'no']).transform((v) => v === 'true' || v === '1' || v === 'yes');
/** Comma-separated role names, each once; empty: none. */
const roleList = z.string().transform((v, ctx) => {
  const parts = [...new Set(v.split(',').map((p) => p.trim()).filter(Boolean))];
  const bad = parts.find((p) => !(ROLE_NAMES as readonly string[]).includes(p));
  if (bad === undefined) return parts;
  ctx.addIssue({ code: 'custom', message: `"${bad}" is not a role (${ROLE_NAMES.join(', ')})` });
  return z.NEVER;
});
/** `auto`, or a yes/no as `bool` takes it. */
const autoOrBool = z.union([z.literal('auto'), bool], { error: 'must be auto, true or false' });
const origin = z.string().transform((v, ctx) => {
  try {
    const u = new URL(v);
    if ((u.protocol !== 'http:' && u.protocol !== 'https:') || u.origin !== v.replace(/\/$/, '')) throw new Error();
    return u.origin;
  } catch {
    ctx.addIssue({ code: 'custom', message: 'must be an origin such as https://mis.example.ru (scheme, host, optional port; no path)' });
    return z.NEVER;
  }
});
const originList = z.string().transform((v, ctx) => {
  const parts = v.split(',').map((s) => s.trim()).filter(Boolean);
  const out: string[] = [];
  for (const p of parts) {
    const r = origin.safeParse(p);
    if (!r.success) {
      ctx.addIssue({ code: 'custom', message: `"${p}" is not an origin such as https://mis.example.ru` });
      return z.NEVER;
    }
    out.push(r.data);
  }
  if (out.length === 0) {
    // An empty list would make the agent refuse every page.
    ctx.addIssue({ code: 'custom', message: 'must name at least one origin such as https://mis.example.ru' });
    return z.NEVER;
  }
  return out;
});
/** A port `47800`, or a range `47800-47831` (at most 256 ports); never port 0, which no page could find. */
const portRange = z.string().transform((v, ctx) => {
  const m = /^(\d{1,5})(?:-(\d{1,5}))?$/.exec(v.trim());
  const from = Number(m?.[1]);
  const to = m?.[2] === undefined ? from : Number(m[2]);
  if (!m || from < 1 || from > 65535 || to > 65535 || to < from || to - from > 255) {
    ctx.addIssue({ code: 'custom', message: 'must be a port from 1 to 65535 such as 47800, or a range from low to high such as 47800-47831 (at most 256 ports)' });
    return z.NEVER;
  }
  return { from, to };
});
const optionalPortRange = z.string().transform((v, ctx) => {
  if (v.trim() === '') return null;
  const r = portRange.safeParse(v);
  if (!r.success) {
    ctx.addIssue({ code: 'custom', message: r.error.issues[0]?.message ?? 'invalid' });
    return z.NEVER;
  }
  return r.data;
});
const SECRET_MIN = 32;
/** Comma-separated secrets (rotation: the first signs, all verify), each at least 32 characters. */
const secretList = z.string().transform((v, ctx) => {
  const secrets = v.split(',');
  for (const [i, s] of secrets.entries()) {
    if (s.length >= SECRET_MIN) continue;
    const which = secrets.length > 1 ? `secret ${i + 1} of ${secrets.length}` : 'the secret';
    ctx.addIssue({ code: 'custom', message: `${which} is ${s === '' ? 'empty (a stray comma?)' : 'too short'}; each must be at least ${SECRET_MIN} characters of random data` });
    return z.NEVER;
  }
  return Object.freeze(secrets);
});
/**
 * An Express `trust proxy` setting, parsed once into the value `app.set('trust proxy', …)` takes:
 * a hop count (a number, at least 1), names, addresses and CIDR ranges (the string, comma-separated),
 * or `false` (Express's own default) for none, which empty and 0 hops both mean.
 */
const PROXY_NAMES = new Set(['loopback', 'linklocal', 'uniquelocal']);
/** An IP address, or a CIDR range `address/bits`. */
const isIpRange = (token: string): boolean => {
  const [ip = '', bits, ...rest] = token.split('/');
  const family = isIP(ip);
  if (family === 0 || rest.length > 0) return false;
  return bits === undefined || (/^\d+$/.test(bits) && Number(bits) <= (family === 4 ? 32 : 128));
};
const proxyAddress = (token: string): boolean => PROXY_NAMES.has(token) || isIpRange(token);
const trustProxy = z.string().transform((v, ctx): number | string | false => {
  if (v === '') return false;
  if (/^\d+$/.test(v)) return Number(v) || false;
  if (v.split(',').every((t) => proxyAddress(t.trim()))) return v;
  ctx.addIssue({ code: 'custom', message: 'must be a hop count, or loopback, linklocal, uniquelocal, IP addresses and CIDR ranges, comma-separated' });
  return z.NEVER;
});
/** A bind address only this machine can reach. */
const isLoopbackHost = (host: string) => host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
/** Comma-separated IP addresses and CIDR ranges; empty for none. */
const ipRangeList = z.string().transform((v, ctx): readonly string[] => {
  const ranges = v.split(',').map((t) => t.trim()).filter(Boolean);
  const bad = ranges.find((t) => !isIpRange(t));
  if (bad === undefined) return Object.freeze(ranges);
  ctx.addIssue({ code: 'custom', message: `"${bad}" is not an IP address or a CIDR range such as 10.20.0.0/16` });
  return z.NEVER;
});
/** A redis:// or rediss:// URL with a host, as ioredis parses it (WHATWG URL); `redis://` alone would silently mean localhost. */
const redisUrl = z.string().refine((v) => {
  if (!/^rediss?:\/\//.test(v)) return false;
  try {
    return new URL(v).hostname !== '';
  } catch {
    return false;
  }
}, 'must be a redis:// or rediss:// URL with a host, such as redis://127.0.0.1:6379');

interface KeyDef<S extends z.ZodType> {
  schema: S;
  default?: string;
  description: string;
  secret?: boolean;
  /** Its default comes from the policy profile (CARDAUTH_POLICY_PROFILE), which also sets its floor. */
  profile?: true;
}
const key = <S extends z.ZodType>(schema: S, description: string, dflt?: string, isSecret = false): KeyDef<S> => ({
  schema,
  description,
  ...(dflt !== undefined ? { default: dflt } : {}),
  ...(isSecret ? { secret: true } : {}),
});

/** A key whose default is the chosen policy profile's value (src/policy-profiles.ts). */
const profileKey = <S extends z.ZodType>(schema: S, description: string): KeyDef<S> => ({ schema, description, profile: true });

/** Server keys. */
export const SERVER_KEYS = {
  // Marked secret: a Redis URL may carry a password, so errors never echo it.
  REDIS_URL: key(redisUrl, 'Redis for sessions, accounts, cards, agents, nonces, lockout counters and the audit stream.', undefined, true),
  CARDAUTH_HOST: key(z.string().min(1), 'Address the HTTP server binds to.', '127.0.0.1'),
  CARDAUTH_PORT: key(int(0, 65535), 'HTTP port (0 picks a free one).', '8080'),
  CARDAUTH_PUBLIC_ORIGIN: key(origin, 'Origin users open; the `aud` every card statement must name and the only Origin accepted on JSON requests. https makes cookies Secure and needs CARDAUTH_TRUST_PROXY.'),
  CARDAUTH_SESSION_SECRET: key(secretList, 'Signs the session cookie. Comma-separated to rotate: the first signs, all verify; each at least 32 characters.', undefined, true),
  CARDAUTH_TRUST_PROXY: key(trustProxy, 'Express `trust proxy` value when behind a load balancer (e.g. `loopback`, the proxy\'s address, or a hop count such as `1` when CARDAUTH_HOST is loopback: with any other host a hop count is refused, since a client reaching the server directly could choose its own address); empty or `0` trusts none. Required with an https CARDAUTH_PUBLIC_ORIGIN: the server speaks plain HTTP and sees https only in the X-Forwarded-Proto of a proxy it trusts.', ''),
  CARDAUTH_AGENT_URL: key(origin, 'URL of the workstation card agent that the login page calls.', 'http://127.0.0.1:47800'),
  CARDAUTH_AGENT_PORTS: key(optionalPortRange, 'Terminal servers: the range of loopback ports the agents of user sessions use (e.g. `47800-47831`); the page finds the one agent that answers for its user. Empty: use CARDAUTH_AGENT_URL.', ''),
  CARDAUTH_CARD_IDENTIFIES_USER: key(bool, 'After the card step, answer with the login bound to the card so the page can prefill it.', 'true'),
  CARDAUTH_MAX_CARDS_PER_ACCOUNT: key(int(1, 20), 'Active cards an account may have at once.', '2'),
  CARDAUTH_NONCE_PER_MIN: key(int(1, 1000000), 'Logins a client IP may start per minute (POST /auth/nonce), so a flood cannot fill Redis with sessions in progress; a terminal server counts as one IP for all its users.', '600'),
  CARDAUTH_NONCE_TTL_SEC: key(int(10, 3600), 'Life of a login nonce handed out by POST /auth/nonce. A session not logged in yet also ends (cookie and Redis entry) this long after its last POST /auth/nonce or /auth/card.', '120'),
  CARDAUTH_WORKSTATION_IP_EXEMPT: key(
    ipRangeList,
    "A card step is accepted only from a client IP its agent's workstation was seen at (its enrollment, its signed tap-out events; the 16 most recent, each for 90 days after it was last seen). Client IPs listed here (comma-separated addresses and CIDR ranges, e.g. `10.20.0.0/16`) are exempt, for any agent: NAT or terminal servers whose browsers and agents reach the server from different addresses. `0.0.0.0/0,::/0` turns the check off.",
    '',
  ),
  CARDAUTH_AGENT_EVENTS_PER_MIN: key(
    int(1, 1000000),
    'Agent events (POST /agents/events, signed tap-outs) per minute: refused ones per client IP, verified ones per agent; over it 429 `rate_limited`. Junk from a workstation\'s own address therefore never holds up its real tap-outs. Refused events are audited once per IP and minute, with a count.',
    '120',
  ),
  CARDAUTH_STATEMENT_MAX_LIFETIME_SEC: key(int(1, 300), 'Longest `exp - iat` accepted in a card statement.', '30'),
  CARDAUTH_CLOCK_SKEW_SEC: key(int(0, 60), 'Clock skew tolerated between agent and server.', '5'),
  CARDAUTH_POLICY_PROFILE: key(
    z.enum(PROFILE_NAMES, { error: `must be one of ${PROFILE_NAMES.join(', ')}` }),
    `The policy profile (docs/fstec.md): it sets the default and the floor of every password and lockout key marked "profile" here. ${PROFILE_NAMES.join(', ')}.`,
    DEFAULT_PROFILE,
  ),
  CARDAUTH_ALLOW_BELOW_PROFILE: key(
    bool,
    "Start even when a key marked \"profile\" is set weaker than its profile's floor; otherwise such a config refuses to start, naming each key. The start's audit record (`policy.applied`) says which keys are below.",
    'false',
  ),
  CARDAUTH_LOCKOUT_ATTEMPTS: profileKey(int(1, 100), 'Password attempts per account within the window (ИАФ.3, УПД.4). Each is taken before the password is checked, atomically across nodes, and given back when the password is right; a failed last one locks the account, and a right password arriving after that is refused too.'),
  CARDAUTH_LOCKOUT_WINDOW_SEC: profileKey(int(1, 86400), 'Window in which failed attempts are counted.'),
  CARDAUTH_LOCKOUT_DURATION_SEC: profileKey(int(1, 86400), 'How long a locked account stays locked.'),
  CARDAUTH_IP_ATTEMPTS: key(int(1, 100000), 'Refused logins per client IP within the lockout window before that IP is refused: password attempts (taken before the check, as for the account) and card statements refused after they used up a fresh login nonce (wrong workstation, unknown or revoked card: a card at a reader now). A random or odd-length card ID (a phone, a bank card) is audited but not counted, and junk never is (CARDAUTH_IP_JUNK_ATTEMPTS).', '50'),
  CARDAUTH_CARD_LOCKOUT_ATTEMPTS: key(
    int(1, 100),
    'Password attempts per card UID within CARDAUTH_CARD_LOCKOUT_WINDOW_SEC, counted after that card\'s card step whatever login was typed (the card scope of the lockout). A failed last one locks the card: its card steps are refused (`card_locked`, the generic failure) until the lock ends or an officer runs `card unlock`. A right password clears the count. A card is bound to one account, so the account\'s own lock (CARDAUTH_LOCKOUT_*) catches fast guessing first; the card\'s longer window catches slow guessing with one card that stays under the account\'s window, and outlives an officer\'s `account unlock`.',
    '10',
  ),
  CARDAUTH_CARD_LOCKOUT_WINDOW_SEC: key(int(1, 7 * 86400), 'Window in which a card\'s failed attempts are counted.', '86400'),
  CARDAUTH_CARD_LOCKOUT_DURATION_SEC: key(int(1, 7 * 86400), 'How long a locked card stays locked.', '3600'),
  CARDAUTH_AGENT_REFUSALS: key(
    int(1, 100000),
    'Unknown or refused cards (unknown, revoked, expired, locked) tapped at one agent\'s readers within CARDAUTH_AGENT_REFUSALS_WINDOW_SEC (unknown cards do not count while CARDAUTH_SELF_ENROLLMENT is on: at a roll-out every clinician taps one): the one that reaches it suspends the agent (the agent scope of the lockout; alert event `agent.suspended`). Its statements are then refused until an officer runs `agent unsuspend`.',
    '10',
  ),
  CARDAUTH_AGENT_REFUSALS_WINDOW_SEC: key(int(1, 86400), 'Window in which an agent\'s refused cards are counted.', '300'),
  CARDAUTH_CARD_STEP_ATTEMPTS: key(int(1, 20), 'Password attempts one passed card step allows; then the card step is void and the card must be presented again.', '3'),
  CARDAUTH_IP_JUNK_ATTEMPTS: key(int(1, 1000000), 'Junk per client IP within the lockout window: card statements refused without using up a fresh login nonce (unsigned, forged, replayed, expired or misaddressed: anyone holding an old statement can resend them), and passwords sent with no usable card step. Over it, junk from that IP gets 429 and is audited once per window; valid statements still pass. Junk never counts against CARDAUTH_IP_ATTEMPTS, so it cannot lock out the users behind one address.', '300'),
  CARDAUTH_SESSION_JUNK_ATTEMPTS: key(int(1, 100000), 'The same per session: over it, that session\'s login steps get 429 until the window ends.', '10'),
  CARDAUTH_SESSION_IDLE_SEC: key(int(10, 86400), 'Idle time after which a session is locked; only the same card and the password unlock it (УПД.8).', '900'),
  CARDAUTH_SESSION_MAX_SEC: key(int(60, 7 * 86400), 'Absolute session lifetime from login; also the ceiling of CARDAUTH_SESSION_MAX_SEC_BY_ROLE.', '43200'),
  CARDAUTH_SESSION_LIMITS: key(
    roleValues(1, 100),
    'Live (not ended: logged in or locked) sessions an account may have at once, per role, `role=N` comma-separated; a role left out keeps its default. An account with several roles gets the smallest. At the limit a login, after both factors passed, opens nothing and answers 409 `session_limit` with the other sessions; sent again with their handles (`endSessions`) it ends them and logs in.',
    'clinician=1,security_officer=2,auditor=2,chief_admin=2',
  ),
  CARDAUTH_SESSION_IDLE_SEC_BY_ROLE: key(
    roleValues(10, 86400),
    'Idle lock per role, `role=seconds` comma-separated (e.g. `chief_admin=300`); a role left out gets CARDAUTH_SESSION_IDLE_SEC. An account with several roles gets the shortest.',
    '',
  ),
  CARDAUTH_SESSION_MAX_SEC_BY_ROLE: key(
    roleValues(60, 7 * 86400),
    'Absolute session lifetime per role, `role=seconds` comma-separated, each at most CARDAUTH_SESSION_MAX_SEC; a role left out gets CARDAUTH_SESSION_MAX_SEC. An account with several roles gets the shortest.',
    '',
  ),
  CARDAUTH_INACTIVE_BLOCK_DAYS: key(
    inactiveDays,
    'Accounts not used for this many days are blocked (ИАФ.1): counted from the last login, or from creation or the last unblock when later, so a new account is never blocked before it had that long. `account block-inactive` runs the sweep (from cron), and every server node runs it hourly (one node at a time); each block is audited `account.blocked`, reason `inactive`. 0 turns it off; otherwise at least 7, so that no session (CARDAUTH_SESSION_MAX_SEC) outlives the last login by that much.',
    '90',
  ),
  CARDAUTH_SELF_ENROLLMENT: key(
    bool,
    'Self-enrollment (issue 10 §5): a clinician with no active card taps a card nobody has, then gives login and password; the card waits, bound to nobody, as a pending request (202 `enrollment_pending`) until an officer approves it (`card approve`). Off by default: while on, an approved workstation lets anyone holding an unknown card test passwords of accounts that have no card (lockout-limited, like any password attempt), which otherwise need a card bound to the account. Turn it on for a card roll-out, and off after.',
    'false',
  ),
  CARDAUTH_ENROLLMENT_PENDING_DAYS: key(int(1, 90), 'Days a self-enrollment request waits for an officer; then it is gone, and the card can be requested again.', '7'),
  CARDAUTH_ADMIN_STEP_UP_SEC: key(
    int(60, 86400),
    'Step-up for the admin API and the workbench: an action needs a card + password login (or unlock) no older than this; an older session gets 401 `step_up_required` (a workbench form: the login page again, `reauth=1`, before the action runs).',
    '900',
  ),
  CARDAUTH_PRESENCE_ROLES: key(
    roleList,
    'Presence gate (docs/presence.md): comma-separated roles (e.g. `clinician`) whose logins need the access-control system (СКУД) to have reported an entry of the person today (Moscow calendar day) and no exit after it; such a login is refused after both factors passed (`presence_required`, audited `presence.denied`). Empty: the gate is off.',
    '',
  ),
  CARDAUTH_PRESENCE_SILENT_SEC: key(
    int(60, 86400),
    'Presence gate: the feed is silent when no integration has sent a verified statement (a heartbeat counts) for this long; then CARDAUTH_PRESENCE_ON_SILENT decides.',
    '900',
  ),
  CARDAUTH_PRESENCE_ON_SILENT: key(
    z.enum(['allow', 'deny'], { error: 'must be allow or deny' }),
    'Presence gate, feed silent: `deny` refuses every gated login (reason `feed_silent`), failing closed, since a relay that stops would otherwise switch the gate off unnoticed; `allow` lets them through, each audited `presence.allowed` with reason `feed_silent`.',
    'deny',
  ),
  CARDAUTH_PASSWORD_MIN_LENGTH: profileKey(int(6, 256), 'Shortest password accepted when one is set (ИАФ.3).'),
  CARDAUTH_PASSWORD_MIN_ALPHABET: profileKey(int(10, 161), 'Smallest alphabet a new password must draw from: the sizes of the character classes it uses added up, Latin letters 26 per case, Cyrillic 33 per case, digits 10, ASCII punctuation and space 33 (ИАФ.3; docs/fstec.md).'),
  CARDAUTH_PASSWORD_MAX_AGE_DAYS: profileKey(int(1, 3650), 'Days a password is good for: then it must be changed at the next login, after both factors passed and before the session opens (ИАФ.3).'),
  CARDAUTH_PASSWORD_HISTORY: profileKey(int(0, 100), 'A new password may not be any of the account\'s last this many (kept as argon2id hashes only); 0: only not the current one.'),
  CARDAUTH_ARGON2_MEMORY_KIB: key(int(8192, 4194304), 'argon2id memory cost for new hashes.', '19456'),
  CARDAUTH_ARGON2_TIME: key(int(1, 20), 'argon2id iterations for new hashes.', '2'),
  CARDAUTH_ARGON2_PARALLELISM: key(int(1, 16), 'argon2id lanes for new hashes.', '1'),
  CARDAUTH_HASH_CONCURRENCY: key(int(0, 256), 'Hashes computed at once, the rest queue (bounds memory under a login flood); 0 = the number of CPU cores.', '0'),
  CARDAUTH_OIDC_JWKS_FILE: key(
    z.string(),
    'OpenID Connect provider (issuer CARDAUTH_PUBLIC_ORIGIN): the JSON file of its private signing keys (RS256 and ES256), mode 0600, the same file on every node; make it with `cardauth oidc keys init --out FILE`. Empty: no OpenID provider.',
    '',
  ),
  CARDAUTH_OIDC_LOGOUT_POLL_MS: key(
    int(20, 10000),
    'OpenID back-channel logout: how often each node looks for sessions that ended, locked or went idle, and for logouts to send (the delay from a tap-out to the logout is about this).',
    '200',
  ),
  CARDAUTH_OIDC_LOGOUT_ATTEMPTS: key(int(1, 50), 'OpenID back-channel logout: sends of one logout token to a client that does not answer 200/204 before it is given up (`oidc.backchannel_failed`).', '8'),
  CARDAUTH_OIDC_LOGOUT_RETRY_MS: key(int(100, 3600000), 'OpenID back-channel logout: the delay before the first retry; each next one doubles it (defaults: 1, 2, 4 … 64 s, about 2 minutes in all).', '1000'),
  CARDAUTH_AUDIT_REQUIRE_FSYNC: key(
    bool,
    'Refuse to start when the Redis the server uses answers that it does not fsync every write (`appendonly yes` + `appendfsync always`): with `everysec` a crash of the machine can lose up to a second of acknowledged audit records (docs/audit.md, Durability). false: log `audit_fsync_unsafe` and start. A Redis user refused CONFIG GET (an ACL, docs/redis-acl.conf) cannot be checked: the server logs `audit_fsync_unchecked` and starts.',
    'true',
  ),
  CARDAUTH_AUDIT_KEYS_FILE: key(
    z.string(),
    'Signed audit checkpoints (docs/audit.md): the JSON file of the audit\'s private Ed25519 keys, mode 0600, the same file on every node; make it with `cardauth audit keys init --out FILE`. The first key signs `{seq, headHash, time}` of the chain\'s head into `audit:checkpoints`; `audit verify` checks them. Empty: no checkpoints, and `audit verify` says the tail of the chain is unprotected.',
    '',
  ),
  CARDAUTH_AUDIT_CHECKPOINT_RECORDS: key(int(1, 1000000), 'Signed audit checkpoints: a node signs one once the chain\'s head is this many records past the last checkpoint (or CARDAUTH_AUDIT_CHECKPOINT_SEC passed), one node at a time.', '1000'),
  CARDAUTH_AUDIT_CHECKPOINT_SEC: key(int(1, 86400), 'Signed audit checkpoints: a node signs one once the last is this old and records came since (or CARDAUTH_AUDIT_CHECKPOINT_RECORDS came first).', '300'),
  CARDAUTH_AUDIT_RETENTION_DAYS: key(
    optionalDays,
    'Audit retention (`cardauth audit retain`, docs/audit-retention.md): records whose time is more than this many days ago are archived to signed, compressed files in CARDAUTH_AUDIT_ARCHIVE_DIR, verified, then trimmed from Redis. No normative number: the operator sets it. Empty: no retention (`audit retain` refuses).',
    '',
  ),
  CARDAUTH_AUDIT_ARCHIVE_DIR: key(z.string(), 'Audit retention: the folder the archives (`audit-FROM-TO.jsonl.gz` and their seals `….jws`) are written to; it must exist. Empty: `audit retain` refuses.', ''),
  CARDAUTH_SIEM_HOST: key(z.string(), 'SIEM forwarding (`cardauth audit forward`): host of the SIEM\'s syslog receiver (RFC 5424 over TCP, octet-counted frames). Empty: `audit forward` refuses to start.', ''),
  CARDAUTH_SIEM_PORT: key(int(1, 65535), 'SIEM forwarding: the receiver\'s port (514 is usual for TCP, 6514 for TLS).', '514'),
  CARDAUTH_SIEM_TLS: key(bool, 'SIEM forwarding: TLS (RFC 5425), the receiver\'s certificate checked against CARDAUTH_SIEM_CA_FILE, else the system\'s CAs, and its host name.', 'false'),
  CARDAUTH_SIEM_CA_FILE: key(z.string(), 'SIEM forwarding over TLS: PEM file of the CA that signed the receiver\'s certificate. Empty: the system\'s CAs.', ''),
  CARDAUTH_SIEM_CONFIRM_MS: key(
    int(100, 600000),
    'SIEM forwarding: how long a sent record must stay behind an open connection before it counts as delivered. Syslog over TCP has no acknowledgement; records sent within this time before a connection ends are sent again (duplicates, never a gap).',
    '2000',
  ),
  CARDAUTH_DEMO: key(bool, 'Demo mode: shows the virtual-card tap button on the login page. Never in production.', 'false'),
  CARDAUTH_DEMO_VPCD_DIR: key(z.string().min(1), 'Demo mode only: folder of the virtual reader whose relay socket `vpcd-slot0.sock` POST /demo/tap puts cards on. Read by the demo\'s own server (`serve` of the dev tools, dev/cli.ts, which `demo` runs); the shipped `cardauth serve` has no demo routes.', 'var/demo'),
} as const;

/** Card agent keys. */
export const AGENT_KEYS = {
  CARDAUTH_AGENT_DIR: key(z.string().min(1), 'Agent data folder; holds the private key (mode 0600) and the agent id.', 'var/agent'),
  CARDAUTH_AGENT_PORT: key(portRange, 'Loopback port of the agent bridge (127.0.0.1 only); a range `A-B` takes the first free one (terminal servers: one agent per user session).', '47800'),
  CARDAUTH_AGENT_SAME_USER: key(
    autoOrBool,
    "Serve only the agent's own OS user (on a terminal server every user shares 127.0.0.1). `auto`: on where the OS can tell (Linux, through /proc/net/tcp); elsewhere off, with a warning at start. `true`: required; the agent does not start where the OS cannot tell (Windows for now). `false`: off. See docs/workstations.md.",
    'auto',
  ),
  CARDAUTH_AGENT_ORIGINS: key(originList, 'Comma-separated page origins allowed to call the bridge; also the only `aud` values it signs for.'),
  CARDAUTH_AGENT_SERVER: key(origin, 'cardauth server URL for enrollment and tap-out events.'),
  CARDAUTH_AGENT_WAIT_SEC: key(int(1, 120), 'How long POST /v1/statement waits for a tap.', '25'),
  CARDAUTH_AGENT_DEBOUNCE_MS: key(int(0, 10000), 'A card that leaves and returns within this time is the same tap.', '700'),
  CARDAUTH_AGENT_REVERSED_READERS: key(z.string(), 'Comma-separated exact reader names whose UID byte order is reversed.', ''),
  CARDAUTH_AGENT_CONTACT_READERS: key(z.string(), 'Comma-separated substrings of reader names that are contact readers: the card stays in, and its removal locks the session.', ''),
  CARDAUTH_AGENT_HOST: key(z.enum(['127.0.0.1', '::1']), 'Loopback address of the bridge; never another interface.', '127.0.0.1'),
} as const;

type Keys = Record<string, KeyDef<z.ZodType>>;
type Parsed<K extends Keys> = { readonly [P in keyof K]: z.output<K[P]['schema']> };

export type ServerConfig = Parsed<typeof SERVER_KEYS>;
export type AgentConfig = Parsed<typeof AGENT_KEYS>;

export type Env = Readonly<Record<string, string | undefined>>;

/** Conflicts between keys, checked whenever all the keys involved are loaded; the message names each. */
const CROSS_CHECKS: readonly { keys: readonly string[]; problem: (c: Record<string, unknown>) => string | undefined }[] = [
  {
    // A hop count trusts the last N X-Forwarded-For entries whoever sent them: a client that can reach
    // the server directly (not on loopback) would choose its own address for the audit, the per-IP
    // budgets and the workstation check.
    keys: ['CARDAUTH_TRUST_PROXY', 'CARDAUTH_HOST'],
    problem: (c) =>
      typeof c.CARDAUTH_TRUST_PROXY !== 'number' || isLoopbackHost(c.CARDAUTH_HOST as string)
        ? undefined
        : `CARDAUTH_TRUST_PROXY: a hop count (${String(c.CARDAUTH_TRUST_PROXY)}) lets any client that reaches CARDAUTH_HOST ${String(c.CARDAUTH_HOST)} directly choose its own address; name the proxy's address or range instead (e.g. 10.0.0.5), or listen on 127.0.0.1 behind a local proxy`,
  },
  {
    keys: ['CARDAUTH_SESSION_IDLE_SEC', 'CARDAUTH_SESSION_MAX_SEC'],
    problem: (c) =>
      (c.CARDAUTH_SESSION_IDLE_SEC as number) < (c.CARDAUTH_SESSION_MAX_SEC as number)
        ? undefined
        : `CARDAUTH_SESSION_IDLE_SEC: must be less than CARDAUTH_SESSION_MAX_SEC, or the idle lock never comes (got ${String(c.CARDAUTH_SESSION_IDLE_SEC)} and ${String(c.CARDAUTH_SESSION_MAX_SEC)})`,
  },
  {
    // The global lifetime is the sessions' TTL in Redis: no role's session may outlive it.
    keys: ['CARDAUTH_SESSION_MAX_SEC_BY_ROLE', 'CARDAUTH_SESSION_MAX_SEC'],
    problem: (c) => {
      const over = Object.entries(c.CARDAUTH_SESSION_MAX_SEC_BY_ROLE as Record<string, number>).find(([, v]) => v > (c.CARDAUTH_SESSION_MAX_SEC as number));
      return over ? `CARDAUTH_SESSION_MAX_SEC_BY_ROLE: ${over[0]}: must be at most CARDAUTH_SESSION_MAX_SEC (got ${over[1]} and ${String(c.CARDAUTH_SESSION_MAX_SEC)})` : undefined;
    },
  },
  {
    keys: ['CARDAUTH_SESSION_IDLE_SEC_BY_ROLE', 'CARDAUTH_SESSION_MAX_SEC_BY_ROLE', 'CARDAUTH_SESSION_IDLE_SEC', 'CARDAUTH_SESSION_MAX_SEC'],
    problem: (c) => {
      const idle = c.CARDAUTH_SESSION_IDLE_SEC_BY_ROLE as Partial<Record<Role, number>>;
      const max = c.CARDAUTH_SESSION_MAX_SEC_BY_ROLE as Partial<Record<Role, number>>;
      const idleOf = (r: Role) => idle[r] ?? (c.CARDAUTH_SESSION_IDLE_SEC as number);
      const maxOf = (r: Role) => max[r] ?? (c.CARDAUTH_SESSION_MAX_SEC as number);
      // Only a role with a value of its own: the global pair has its own check above.
      const role = ROLES.find((r) => (idle[r] !== undefined || max[r] !== undefined) && idleOf(r) >= maxOf(r));
      if (!role) return undefined;
      const from = (own: boolean, byRole: string, global: string) => (own ? byRole : global);
      return `CARDAUTH_SESSION_IDLE_SEC_BY_ROLE: ${role}: its idle lock (${idleOf(role)} s, ${from(idle[role] !== undefined, 'set here', 'from CARDAUTH_SESSION_IDLE_SEC')}) must be less than its lifetime (${maxOf(role)} s, ${from(max[role] !== undefined, 'from CARDAUTH_SESSION_MAX_SEC_BY_ROLE', 'from CARDAUTH_SESSION_MAX_SEC')}), or it never comes`;
    },
  },
];

/**
 * Where JSON.parse stopped, in words of our own: its message quotes the text
 * around the mistake, which may be a secret, so only a position is reported.
 */
function jsonErrorWhere(text: string, message: string): string {
  if (text.trim() === '') return 'is empty, not a JSON object';
  const at = /at position (\d+)/.exec(message);
  if (at) {
    const before = text.slice(0, Number(at[1]));
    const line = before.split('\n').length;
    const column = before.length - before.lastIndexOf('\n');
    return `not valid JSON at line ${line} column ${column}`;
  }
  if (message.includes('Unexpected end of JSON input')) return 'not valid JSON (it ends too early)';
  return 'not valid JSON';
}

function readConfigFile(file: string): Record<string, string> {
  let text: string;
  try {
    // Windows Notepad may save UTF-8 with a byte-order mark, which JSON.parse refuses.
    text = readFileSync(file, 'utf8').replace(/^\uFEFF/, '');
  } catch (e) {
    throw new CardauthError('config_invalid', `config file ${file}: ${(e as Error).message.split('\n')[0]}`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new CardauthError('config_invalid', `config file ${file}: ${jsonErrorWhere(text, (e as Error).message)}`);
  }
  const r = z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).safeParse(raw);
  if (!r.success) throw new CardauthError('config_invalid', `config file ${file}: must be a JSON object of KEY: value`);
  return Object.fromEntries(Object.entries(r.data).map(([k, v]) => [k, String(v)]));
}

/** Where a key's value came from: the environment, the config file, the policy profile, or the built-in default. */
export type ConfigSource = 'env' | 'file' | 'profile' | 'default';

const SOURCES = new WeakMap<object, Readonly<Record<string, ConfigSource>>>();

/**
 * Where each key of a config that the loaders below returned came from
 * (`policy show` prints it); undefined for an object they did not return.
 *
 * @example
 * configSources(loadServerConfig({ ...env, CARDAUTH_LOCKOUT_ATTEMPTS: '3' }))?.CARDAUTH_LOCKOUT_ATTEMPTS // => 'env'
 */
export function configSources(config: object): Readonly<Record<string, ConfigSource>> | undefined {
  return SOURCES.get(config);
}

/** The policy keys a subset holding any profile key is loaded with too: the profile is what that key's default and floor depend on. */
const POLICY_KEYS = ['CARDAUTH_POLICY_PROFILE', 'CARDAUTH_ALLOW_BELOW_PROFILE'] as const;

/**
 * Validates `keys` from the environment, the file and the defaults. A file key
 * outside `known` (by default `keys`) is refused, so a typo never goes unseen;
 * a known key that `keys` leaves out is accepted and ignored. Every bad key is
 * reported at once, one line each (like authelia's validator), so an operator
 * fixes a config in one pass; a cross-key check runs only when its keys are
 * good on their own. A profile key's default is the chosen profile's value,
 * and a value weaker than the profile's floor is refused unless
 * CARDAUTH_ALLOW_BELOW_PROFILE is set.
 */
function parse<K extends Keys>(keys: K, env: Env, file?: string, known: Keys = keys): Parsed<K> {
  const fromFile = file ? readConfigFile(file) : {};
  const problems: string[] = [];
  for (const k of Object.keys(fromFile)) {
    if (!Object.hasOwn(known, k)) problems.push(`${k}: unknown key in ${file}`);
  }
  const all: Keys = Object.values(keys).some((d) => d.profile) ? { ...keys, ...pick(SERVER_KEYS, POLICY_KEYS) } : keys;
  // The profile first, quietly: its own check below reports a bad one, and then the profile keys left unset are not reported again.
  const chosen = SERVER_KEYS.CARDAUTH_POLICY_PROFILE.schema.safeParse(env.CARDAUTH_POLICY_PROFILE ?? fromFile.CARDAUTH_POLICY_PROFILE ?? DEFAULT_PROFILE);
  const profile: ProfileName | undefined = chosen.success ? chosen.data : undefined;
  const out: Record<string, unknown> = {};
  const sources: Record<string, ConfigSource> = {};
  for (const [name, def] of Object.entries(all)) {
    const set = env[name] !== undefined ? 'env' : fromFile[name] !== undefined ? 'file' : undefined;
    if (def.profile && !profile && !set) continue;
    const dflt = def.profile && profile ? String(PROFILES[profile][name as ProfileKey].value) : def.default;
    const problem = checkKey(name, def, dflt, env, fromFile, file, out);
    if (problem) problems.push(problem);
    sources[name] = set ?? (def.profile ? 'profile' : 'default');
  }
  if (profile && out.CARDAUTH_ALLOW_BELOW_PROFILE === false) {
    for (const b of profileBreaches(profile, out)) {
      problems.push(`${breachText(profile, b)}; change it, choose another CARDAUTH_POLICY_PROFILE, or set CARDAUTH_ALLOW_BELOW_PROFILE=true (the start is audited either way)`);
    }
  }
  for (const check of CROSS_CHECKS) {
    if (check.keys.every((k) => Object.hasOwn(out, k))) {
      const problem = check.problem(out);
      if (problem) problems.push(problem);
    }
  }
  if (problems.length > 0) throw new CardauthError('config_invalid', problems.join('\n'));
  const config = Object.freeze(out);
  SOURCES.set(config, Object.freeze(sources));
  return config as Parsed<K>;
}

/** Validates one key into `out`; answers its problem, if any, as one line naming the key. */
function checkKey(name: string, def: Keys[string], dflt: string | undefined, env: Env, fromFile: Record<string, string>, file: string | undefined, out: Record<string, unknown>): string | undefined {
  const value = env[name] ?? fromFile[name] ?? dflt;
  if (value === undefined) return `${name}: required, not set (set it in the environment or in --config FILE; see \`cardauth config table\`)`;
  // An exported but empty variable is a mistake (it would hide the file and the default), except
  // for the keys whose default is empty: for them empty has a documented meaning (none).
  if (value.trim() === '' && dflt !== '') {
    const where = env[name] !== undefined ? 'the environment; unset it or give it a value' : file;
    return `${name}: is set but empty in ${where}`;
  }
  const r = def.schema.safeParse(value);
  if (!r.success) return `${name}: ${r.error.issues[0]?.message ?? 'invalid'}${def.secret ? '' : ` (got ${JSON.stringify(value)})`}`;
  out[name] = r.data;
  return undefined;
}

/**
 * Loads and validates the server configuration.
 *
 * @example
 * const config = loadServerConfig(process.env, args.config);
 */
export function loadServerConfig(env: Env, file?: string): ServerConfig {
  const config = parse(SERVER_KEYS, env, file);
  // The server listens on plain HTTP (src/server.ts). With an https origin the session cookie is
  // Secure, and express-session sets it only on a request Express sees as secure: one a trusted
  // proxy marks X-Forwarded-Proto: https. Trusting none (false: empty or 0 hops), no login would get a cookie.
  if (config.CARDAUTH_PUBLIC_ORIGIN.startsWith('https:') && config.CARDAUTH_TRUST_PROXY === false) {
    throw new CardauthError(
      'config_invalid',
      'CARDAUTH_TRUST_PROXY: required when CARDAUTH_PUBLIC_ORIGIN is https: the server speaks plain HTTP, so the Secure session cookie is set only behind a trusted proxy that sends X-Forwarded-Proto (e.g. `1` or `loopback`)',
    );
  }
  return config;
}

/**
 * Loads and validates only the named server keys, for tools that need a few
 * of them (the CLI needs Redis and the argon2 cost, not the session secret).
 * The config file may hold any server key; the ones not asked for are not
 * validated. A name that is not a server key is a programming mistake
 * (`TypeError`).
 *
 * @example
 * const config = loadServerConfigSubset(['REDIS_URL', 'CARDAUTH_MAX_CARDS_PER_ACCOUNT'], process.env, args.config);
 * config.REDIS_URL; // 'redis://127.0.0.1:6379'
 */
export function loadServerConfigSubset<K extends keyof typeof SERVER_KEYS>(names: readonly K[], env: Env, file?: string): Pick<ServerConfig, K> {
  return parse(pick(SERVER_KEYS, names), env, file, SERVER_KEYS) as unknown as Pick<ServerConfig, K>;
}

/** The same for the card agent's keys (e.g. `agent enroll` needs only the data folder). */
export function loadAgentConfigSubset<K extends keyof typeof AGENT_KEYS>(names: readonly K[], env: Env, file?: string): Pick<AgentConfig, K> {
  return parse(pick(AGENT_KEYS, names), env, file, AGENT_KEYS) as unknown as Pick<AgentConfig, K>;
}

function pick(all: Keys, names: readonly string[]): Keys {
  const picked: Keys = {};
  for (const name of names) {
    if (!Object.hasOwn(all, name)) throw new TypeError(`config subset: ${name} is not a key of this component`);
    picked[name] = all[name] as Keys[string];
  }
  return picked;
}

/** The keys the stores and the lockout need; the CLI loads only these (no session secret or public origin). */
export const STORE_KEYS = [
  'REDIS_URL',
  'CARDAUTH_LOCKOUT_ATTEMPTS',
  'CARDAUTH_LOCKOUT_WINDOW_SEC',
  'CARDAUTH_LOCKOUT_DURATION_SEC',
  'CARDAUTH_IP_ATTEMPTS',
  'CARDAUTH_CARD_STEP_ATTEMPTS',
  'CARDAUTH_CARD_LOCKOUT_ATTEMPTS',
  'CARDAUTH_CARD_LOCKOUT_WINDOW_SEC',
  'CARDAUTH_CARD_LOCKOUT_DURATION_SEC',
  'CARDAUTH_IP_JUNK_ATTEMPTS',
  'CARDAUTH_SESSION_JUNK_ATTEMPTS',
  'CARDAUTH_NONCE_TTL_SEC',
  'CARDAUTH_MAX_CARDS_PER_ACCOUNT',
  'CARDAUTH_ARGON2_MEMORY_KIB',
  'CARDAUTH_ARGON2_TIME',
  'CARDAUTH_ARGON2_PARALLELISM',
  'CARDAUTH_HASH_CONCURRENCY',
  'CARDAUTH_PASSWORD_MIN_LENGTH',
  'CARDAUTH_PASSWORD_MIN_ALPHABET',
  'CARDAUTH_PASSWORD_MAX_AGE_DAYS',
  'CARDAUTH_PASSWORD_HISTORY',
  'CARDAUTH_POLICY_PROFILE',
  'CARDAUTH_ALLOW_BELOW_PROFILE',
  'CARDAUTH_SESSION_MAX_SEC',
  'CARDAUTH_INACTIVE_BLOCK_DAYS',
  'CARDAUTH_ENROLLMENT_PENDING_DAYS',
  'CARDAUTH_PRESENCE_ROLES',
  'CARDAUTH_PRESENCE_SILENT_SEC',
  'CARDAUTH_PRESENCE_ON_SILENT',
  'CARDAUTH_AUDIT_KEYS_FILE',
] as const satisfies readonly (keyof ServerConfig)[];
export type StoresConfig = Pick<ServerConfig, (typeof STORE_KEYS)[number]>;

/** Loads and validates the card agent configuration. */
export function loadAgentConfig(env: Env, file?: string): AgentConfig {
  return parse(AGENT_KEYS, env, file);
}

/** The README table of keys, generated from the definitions above. */
export function configTable(): string {
  /** Each profile's value and its floor, e.g. `fstec-2026: \`5\` (at most 5)`. */
  const byProfile = (k: string) =>
    PROFILE_NAMES.map((p) => {
      const { value, floor, bound } = PROFILES[p][k as ProfileKey];
      return `${p}: \`${value}\` (${bound === 'min' ? 'at least' : 'at most'} ${floor})`;
    }).join('; ');
  const dflt = (k: string, d: Keys[string]) => (d.profile ? byProfile(k) : d.default === undefined ? '*required*' : d.default === '' ? '*(empty)*' : `\`${d.default}\``);
  const rows = (keys: Keys) => Object.entries(keys).map(([k, d]) => `| \`${k}\` | ${dflt(k, d)} | ${d.description} |`);
  return [
    '| key | default | meaning |',
    '|---|---|---|',
    '| **server** | | |',
    ...rows(SERVER_KEYS),
    '| **card agent** | | |',
    ...rows(AGENT_KEYS),
  ].join('\n');
}
