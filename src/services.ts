import { availableParallelism } from 'node:os';
import type Redis from 'ioredis';
import { createAccountAdmin } from './admin/accounts';
import { createIpLockAdmin } from './admin/ip-lock';
import { createLockoutView } from './admin/lockouts';
import { createAgentAdmin } from './admin/agents';
import { createCardImport } from './admin/card-import';
import { createCardAdmin } from './admin/cards';
import { requireAuditTrail } from './admin/record-change';
import { createEnrollmentAdmin } from './admin/enrollments';
import { createSessionAdmin } from './admin/sessions';
import { createAuditIntegrity } from './audit/integrity';
import { readAuditKeys } from './audit/keys';
import { createAuditLog } from './audit/log';
import { createAuditQueryService } from './audit/query-service';
import { withWriteFailureRecord } from './audit/write-failures';
import { silentLogger, type Logger } from './logger';
import type { Clock } from './clock';
import type { ServerConfig, StoresConfig } from './config';
import { CardauthError, guard } from './errors';
import { createLockout } from './policy/lockout';
import { createClaimOnce, createNonceStore } from './policy/nonces';
import { createRateLimit } from './policy/rate-limit';
import { createRefusalTally } from './policy/refusal-tally';
import { createPasswordHasher } from './policy/password-hasher';
import { createPasswordSetter, type PasswordRules } from './policy/password-lifecycle';
import { createAccountStore } from './store/accounts';
import { createAccountInactivity } from './store/account-inactivity';
import { createAgentStore } from './store/agents';
import { createEnrollmentStore } from './store/card-enrollments';
import { createCardStore } from './store/cards';
import { createSessionLocks } from './store/session-locks';
import { createSessionSweep } from './store/session-sweep';
import { createSessionSlots } from './store/session-slots';
import { createSkudStore } from './presence/integrations';
import { createPresenceStore } from './presence/presence-store';
import type { PresencePolicy } from './presence/gate';

/**
 * The stores an administrator works on: accounts, cards, agents, the audit
 * log, the password hasher and the lockout. Shared by the server and the CLI so both are
 * wired the same way.
 *
 * @example
 * const { accounts, audit } = createStores({ redis, config, clock: systemClock });
 */
export function createStores(deps: { redis: Redis; config: StoresConfig; clock: Clock }) {
  const { redis, config, clock } = deps;
  const accounts = createAccountStore({ redis, clock });
  const hasher = createPasswordHasher(
    { memoryKiB: config.CARDAUTH_ARGON2_MEMORY_KIB, time: config.CARDAUTH_ARGON2_TIME, parallelism: config.CARDAUTH_ARGON2_PARALLELISM },
    config.CARDAUTH_HASH_CONCURRENCY || availableParallelism(),
  );
  /** ИАФ.3 rules for a password being set, and how long one lasts (the policy profile's). */
  const passwordPolicy: PasswordRules = {
    minLength: config.CARDAUTH_PASSWORD_MIN_LENGTH,
    minAlphabet: config.CARDAUTH_PASSWORD_MIN_ALPHABET,
    maxAgeDays: config.CARDAUTH_PASSWORD_MAX_AGE_DAYS,
    history: config.CARDAUTH_PASSWORD_HISTORY,
  };
  return {
    accounts,
    /** Blocks accounts unused too long (`account block-inactive`, the server's hourly sweep; ИАФ.1). */
    inactivity: createAccountInactivity({ redis }),
    cards: createCardStore({ redis, clock, maxActivePerAccount: config.CARDAUTH_MAX_CARDS_PER_ACCOUNT }),
    /** Pending self-enrollments, waiting for an officer (`card pending`, `card approve`). */
    enrollments: createEnrollmentStore({ redis, clock, pendingDays: config.CARDAUTH_ENROLLMENT_PENDING_DAYS, maxActivePerAccount: config.CARDAUTH_MAX_CARDS_PER_ACCOUNT }),
    agents: createAgentStore({ redis, clock }),
    /** The access-control integrations (`skud add`) and where each person is as their feed said (docs/presence.md). */
    skud: createSkudStore({ redis, clock }),
    presence: createPresenceStore({ redis }),
    presencePolicy: {
      roles: config.CARDAUTH_PRESENCE_ROLES,
      silentSec: config.CARDAUTH_PRESENCE_SILENT_SEC,
      onSilent: config.CARDAUTH_PRESENCE_ON_SILENT,
    } satisfies PresencePolicy as PresencePolicy,
    audit: createAuditLog({ redis, clock }),
    hasher,
    passwordPolicy,
    /** Sets a password by those rules: the user's change and an officer's reset. */
    passwords: createPasswordSetter({ accounts, hasher, rules: passwordPolicy }),
    /** Ends the open sessions of a blocked account or a revoked card or agent (`account block`, `card revoke`, `agent revoke`). */
    sessions: createSessionSweep({ redis, sessionMaxSec: config.CARDAUTH_SESSION_MAX_SEC }),
    /** Every attempt count and lock (the attempts policy): the server takes from them, an officer ends them (`account unlock`). */
    lockout: createLockout({
      redis,
      config: {
        attempts: config.CARDAUTH_LOCKOUT_ATTEMPTS,
        windowSec: config.CARDAUTH_LOCKOUT_WINDOW_SEC,
        durationSec: config.CARDAUTH_LOCKOUT_DURATION_SEC,
        ipAttempts: config.CARDAUTH_IP_ATTEMPTS,
        cardAttempts: config.CARDAUTH_CARD_LOCKOUT_ATTEMPTS,
        cardWindowSec: config.CARDAUTH_CARD_LOCKOUT_WINDOW_SEC,
        cardDurationSec: config.CARDAUTH_CARD_LOCKOUT_DURATION_SEC,
        cardStepAttempts: config.CARDAUTH_CARD_STEP_ATTEMPTS,
        // A stored card step lives as long as its nonce (createApp's cardStepTtlMs).
        cardStepTtlSec: config.CARDAUTH_NONCE_TTL_SEC,
        ipJunkAttempts: config.CARDAUTH_IP_JUNK_ATTEMPTS,
        sessionJunkAttempts: config.CARDAUTH_SESSION_JUNK_ATTEMPTS,
        sessionMaxSec: config.CARDAUTH_SESSION_MAX_SEC,
      },
    }),
  };
}

/**
 * Builds every store and policy the server needs from one Redis client and
 * the config. Used by the entry point and by tests, so they wire things the
 * same way.
 *
 * @example
 * const services = createServices({ redis, config, clock: systemClock });
 * const app = createApp({ config, redis, clock, logger, ...services });
 */
export function createServices(deps: { redis: Redis; config: ServerConfig; clock: Clock; logger?: Logger }) {
  const { redis, config, clock } = deps;
  const stores = createStores(deps);
  // РСБ.5: a failed audit write is alerted in the log and recorded once the trail is back.
  const audit = withWriteFailureRecord(stores.audit, { logger: deps.logger ?? silentLogger, clock });
  return {
    ...stores,
    audit,
    /** The officer's use cases the admin API calls (src/admin), and the trail check they run after. */
    admin: {
      accounts: createAccountAdmin({ ...stores, audit }),
      cards: createCardAdmin({ ...stores, audit }),
      cardImport: createCardImport({ ...stores, audit }),
      agents: createAgentAdmin({ ...stores, audit }),
      sessions: createSessionAdmin({ ...stores, audit }),
      enrollments: createEnrollmentAdmin({ ...stores, audit }),
      ipLocks: createIpLockAdmin({ ...stores, audit }),
      lockouts: createLockoutView(stores),
      requireAuditTrail: () => requireAuditTrail(audit),
      /** The auditor's pages: reading the trail, and checking it (issue 11 §8). */
      auditQuery: createAuditQueryService({ redis }),
      auditIntegrity: createAuditIntegrity({ redis, keys: () => (config.CARDAUTH_AUDIT_KEYS_FILE ? readAuditKeys(config.CARDAUTH_AUDIT_KEYS_FILE).keys : undefined) }),
    },
    nonces: createNonceStore({ redis, clock, ttlSec: config.CARDAUTH_NONCE_TTL_SEC }),
    claimOnce: createClaimOnce(redis),
    locks: createSessionLocks({ redis }),
    slots: createSessionSlots({ redis }),
    enrollLimit: createRateLimit({ redis, prefix: 'rl:enroll', points: 10, durationSec: 3600 }),
    eventLimit: createRateLimit({ redis, prefix: 'rl:event', points: config.CARDAUTH_AGENT_EVENTS_PER_MIN, durationSec: 60 }),
    eventRefusals: createRefusalTally({ redis, clock, prefix: 'rt:event', windowSec: 60 }),
    nonceLimit: createRateLimit({ redis, prefix: 'rl:nonce', points: config.CARDAUTH_NONCE_PER_MIN, durationSec: 60 }),
    /**
     * Redis answers and the audit stream is appendable: it is a stream (or not there yet) and
     * its last record is readable, since every append chains onto it. Two commands, TYPE and
     * XREVRANGE COUNT 1; a corrupt record further back is the audit verification's job.
     * After failed audit writes, also that their `audit.write_failed` record could be written.
     */
    ready: async () => {
      const type = await guard(redis.type('audit:log'), 'redis');
      if (type !== 'stream' && type !== 'none') throw new CardauthError('audit_unavailable', `audit:log is a ${type}, not a stream`);
      if (type === 'stream') await stores.audit.head();
      // Failed writes not yet recorded: not ready until their record is written (РСБ.5).
      await audit.settle();
    },
  };
}

export type Services = ReturnType<typeof createServices>;
/** The stores and policies an administrator works on (createStores). */
export type Stores = ReturnType<typeof createStores>;
