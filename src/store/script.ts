import type Redis from 'ioredis';
import { CardauthError, guard } from '../errors';

/** A registered Lua script: call it with its keys and arguments. */
export type Script = (keys: readonly string[], args: readonly (string | number)[]) => Promise<unknown[]>;

/**
 * Registers a Lua script on an ioredis client with `defineCommand`, so it
 * runs as EVALSHA (falling back to EVAL once per connection after a restart
 * flushes the script cache). Redis runs each call atomically: no other
 * client's command interleaves, which is what lets several server nodes share
 * one Redis without racing.
 *
 * Scripts in this folder answer with an array, most of them with `'ok'` or
 * an error code first, followed by data; they touch only the keys they are
 * given (and session keys named in ARGV, see session-locks.ts).
 *
 * @example
 * const bump = defineScript(redis, 'cardauthExampleBump', 1, "return {'ok', redis.call('INCR', KEYS[1])}");
 * const [status, n] = await bump(['ex:counter'], []);
 */
export function defineScript(redis: Redis, name: string, numberOfKeys: number, lua: string): Script {
  const scripted = redis as unknown as Record<string, ((...a: (string | number)[]) => Promise<unknown>) | undefined>;
  redis.defineCommand(name, { numberOfKeys, lua });
  const fn = scripted[name] as (...a: (string | number)[]) => Promise<unknown>;
  return async (keys, args) => {
    if (keys.length !== numberOfKeys) throw new TypeError(`${name}: expected ${numberOfKeys} keys, got ${keys.length}`);
    const reply = await guard(fn.call(redis, ...keys, ...args));
    if (!Array.isArray(reply)) throw new CardauthError('unavailable', `${name}: unexpected reply from Redis`);
    return reply as unknown[];
  };
}

/**
 * Turns a flat `[field, value, ...]` reply (HGETALL inside Lua) into a plain
 * record with no prototype, so field names such as `__proto__` stay data.
 *
 * @example
 * pairsToRecord(['status', 'active']) // => { status: 'active' }
 */
export function pairsToRecord(flat: readonly unknown[]): Record<string, string> {
  const out: Record<string, string> = Object.create(null);
  for (let i = 0; i + 1 < flat.length; i += 2) out[String(flat[i])] = String(flat[i + 1]);
  return out;
}

/** Control, format, surrogate, private-use and unassigned code points. */
const NON_PRINTABLE = /\p{C}/u;

/**
 * Checks a short free-text field (a label, a workstation name, an actor id):
 * trimmed, 1..max code points, nothing non-printable. Throws `bad_request`
 * naming the field.
 *
 * @example
 * printable('Кабинет 12', 'name', 64) // => 'Кабинет 12'
 */
export function printable(value: unknown, field: string, max: number, opts: { allowEmpty?: boolean } = {}): string {
  if (typeof value !== 'string') throw new CardauthError('bad_request', `${field} must be a string`);
  const v = value.trim();
  const len = [...v].length;
  if (len === 0 && !opts.allowEmpty) throw new CardauthError('bad_request', `${field} must not be empty`);
  if (len > max) throw new CardauthError('bad_request', `${field} must be at most ${max} characters`);
  if (NON_PRINTABLE.test(v)) throw new CardauthError('bad_request', `${field} must not contain control or invisible characters`);
  return v;
}

/** A random lowercase hex string of `bytes` bytes, from the injected source. */
export function randomHex(randomBytes: (size: number) => Uint8Array, bytes: number): string {
  const b = randomBytes(bytes);
  if (b.length !== bytes) throw new TypeError(`randomBytes(${bytes}) returned ${b.length} bytes`);
  return Buffer.from(b).toString('hex');
}
