import { randomBytes, scryptSync } from 'node:crypto';
import type Redis from 'ioredis';
import type { AuditEventInput, AuditSink } from '../audit/record';
import { canonicalJson } from '../audit/record';
import { SERVER_KEYS, type ServerConfig } from '../config';

/**
 * The configuration a server starts with, compared with the one the last
 * start recorded (domain.md §7, "configuration change"; РСБ.1).
 *
 * The last start's configuration is kept under {@link CONFIG_LAST_KEY} (not
 * under `audit:`, which the server may only append to): every server key's
 * value as canonical JSON, except the secrets (`REDIS_URL`, which may carry a
 * password, and CARDAUTH_SESSION_SECRET) and the paths of private key files
 * (CARDAUTH_OIDC_JWKS_FILE, CARDAUTH_AUDIT_KEYS_FILE), which are kept only as
 * a salted scrypt fingerprint, so that a change shows and the value never
 * does, neither in Redis nor in the trail.
 */

/** Where the last start's configuration is kept. */
export const CONFIG_LAST_KEY = 'cardauth:config:last';

/** Keys whose value is never recorded, only that it changed: the secrets and the paths of private key files. */
export const REDACTED_KEYS: readonly (keyof ServerConfig)[] = [
  ...(Object.keys(SERVER_KEYS) as (keyof ServerConfig)[]).filter((k) => (SERVER_KEYS[k] as { secret?: boolean }).secret === true),
  'CARDAUTH_OIDC_JWKS_FILE',
  'CARDAUTH_AUDIT_KEYS_FILE',
];

/** What {@link CONFIG_LAST_KEY} holds. */
export interface ConfigSnapshot {
  /** Salt of the fingerprints (hex). */
  salt: string;
  /** Each server key: its value as canonical JSON, or for a redacted key `fp:` and its fingerprint. */
  values: Record<string, string>;
}

const fingerprint = (value: string, salt: string) => `fp:${scryptSync(value, Buffer.from(salt, 'hex'), 32).toString('hex')}`;

/**
 * The snapshot of a config: every server key it holds (a redacted one as its
 * fingerprint with `salt`, by default a fresh one).
 *
 * @example
 * configSnapshot(config).values.CARDAUTH_LOCKOUT_ATTEMPTS // => '5'
 */
export function configSnapshot(config: Partial<ServerConfig>, salt = randomBytes(16).toString('hex')): ConfigSnapshot {
  const values: Record<string, string> = {};
  for (const key of Object.keys(SERVER_KEYS) as (keyof ServerConfig)[]) {
    if (!Object.hasOwn(config, key) || config[key] === undefined) continue; // unset: as absent
    const json = canonicalJson(config[key]);
    values[key] = REDACTED_KEYS.includes(key) ? fingerprint(json, salt) : json;
  }
  return { salt, values };
}

/** A value as a record shows it: a JSON string without its quotes, anything else as JSON. */
const shown = (json: string) => (json.startsWith('"') ? (JSON.parse(json) as string) : json);

/**
 * The `config.changed` records from the last start's snapshot to this one's
 * (made with the last one's salt): one per changed key, `details.key` and its
 * `before` and `after` (a key new or gone since has no `before` or `after`);
 * a redacted key has `redacted: true` and no values. With no last snapshot,
 * one record with `details.baseline` and the number of keys.
 *
 * @example
 * configChangedRecords(last, configSnapshot(config, last.salt))
 * // => [{ type: 'config.changed', outcome: 'success', details: { key: 'CARDAUTH_LOCKOUT_ATTEMPTS', before: '5', after: '3' } }]
 */
export function configChangedRecords(last: ConfigSnapshot | undefined, now: ConfigSnapshot): AuditEventInput[] {
  if (!last) return [{ type: 'config.changed', outcome: 'success', details: { baseline: true, keys: Object.keys(now.values).length } }];
  const keys = [...new Set([...Object.keys(last.values), ...Object.keys(now.values)])].sort();
  return keys
    .filter((key) => last.values[key] !== now.values[key])
    .map((key): AuditEventInput => {
      const [before, after] = [last.values[key], now.values[key]];
      const redacted = (REDACTED_KEYS as readonly string[]).includes(key);
      const values = redacted ? { redacted: true } : { before: before === undefined ? undefined : shown(before), after: after === undefined ? undefined : shown(after) };
      return { type: 'config.changed', outcome: 'success', details: { key, ...values } };
    });
}

/** A stored snapshot, or undefined when it is missing or not one (then this start is a new baseline). */
function parseSnapshot(text: string | null): ConfigSnapshot | undefined {
  if (text === null) return undefined;
  try {
    const s = JSON.parse(text) as Partial<ConfigSnapshot>;
    const ok = typeof s.salt === 'string' && /^[0-9a-f]{32}$/.test(s.salt) && typeof s.values === 'object' && s.values !== null && Object.values(s.values).every((v) => typeof v === 'string');
    return ok ? (s as ConfigSnapshot) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Compares `config` with the last start's, appends a `config.changed` record
 * per change (or the baseline's), and then keeps this config as the last.
 * Rejects when Redis or the audit fails; the last config is then left as it
 * was, so the next try records the same changes.
 *
 * @example
 * const written = await recordConfigChanges({ redis, audit: services.audit }, config);
 */
export async function recordConfigChanges(deps: { redis: Pick<Redis, 'get' | 'set'>; audit: AuditSink }, config: Partial<ServerConfig>): Promise<number> {
  const last = parseSnapshot(await deps.redis.get(CONFIG_LAST_KEY));
  const now = configSnapshot(config, last?.salt);
  const records = configChangedRecords(last, now);
  for (const r of records) await deps.audit.append(r);
  if (records.length > 0) await deps.redis.set(CONFIG_LAST_KEY, JSON.stringify(now));
  return records.length;
}
