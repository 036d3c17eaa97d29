import type Redis from 'ioredis';
import type { Clock } from '../clock';
import { STORE_KEYS, type StoresConfig } from '../config';
import { createClientStore } from '../oidc/clients';
import { createStores } from '../services';

/** The server keys the CLI reads: those the stores and the lockout need, not the session secret or public origin. */
export const CLI_KEYS = STORE_KEYS;
export type CliConfig = StoresConfig;

/**
 * The stores an administrator's command works on (the same wiring as the
 * server's), including the lockout that `account unlock` ends, and the
 * OpenID provider's registered clients.
 *
 * @example
 * const s = createCliServices({ redis, config, clock: systemClock });
 * await s.accounts.list();
 * await s.lockout.unlock(accountId);
 */
export function createCliServices(deps: { redis: Redis; config: CliConfig; clock: Clock }) {
  return {
    redis: deps.redis,
    ...createStores(deps),
    clients: createClientStore({ redis: deps.redis }),
    /** CARDAUTH_INACTIVE_BLOCK_DAYS, the default of `account block-inactive`. */
    inactiveBlockDays: deps.config.CARDAUTH_INACTIVE_BLOCK_DAYS,
    /** CARDAUTH_AUDIT_KEYS_FILE: the keys of `audit checkpoint` and `audit verify`; empty: none. */
    auditKeysFile: deps.config.CARDAUTH_AUDIT_KEYS_FILE,
  };
}

export type CliServices = ReturnType<typeof createCliServices>;
