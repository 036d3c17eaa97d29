import { randomBytes } from 'node:crypto';
import type Redis from 'ioredis';
import { calculateJwkThumbprint } from 'jose';
import type { Clock } from '../clock';
import { CardauthError, guard } from '../errors';
import { validatePublicJwk, type AgentAlg, type PublicJwk } from '../store/agents';
import { printable } from '../store/script';

/**
 * The access-control systems (СКУД) whose signed statements `POST /skud/events` accepts, each
 * with its name and public key (Ed25519 or P-256; `kid` = its id).
 *
 * Redis layout:
 * - `skud:ids`: set of ids (`sk_` + 16 hex);
 * - `skud:<id>`: hash `id`, `name`, `publicJwk` (JSON), `alg`, `fingerprint`, `createdAt`, and,
 *   once it reported, `lastStatementAt` (ms, any verified statement, a heartbeat too) and
 *   `lastEventAt` (ms, the newest pass it reported); written by the presence store.
 * - `skud:<id>:day:<YYYY-MM-DD>`: the events it reported on that Moscow day (2 days' TTL).
 */
export interface SkudIntegration {
  id: string;
  name: string;
  publicJwk: PublicJwk;
  alg: AgentAlg;
  /** RFC 7638 SHA-256 thumbprint, base64url. */
  fingerprint: string;
  createdAt: number;
  lastStatementAt: number | null;
  lastEventAt: number | null;
}

const INDEX = 'skud:ids';
export const skudKey = (id: string) => `skud:${id}`;
export const skudDayKey = (id: string, day: string) => `skud:${id}:day:${day}`;
const ID = /^sk_[0-9a-f]{16}$/;
export const isSkudId = (id: string) => ID.test(id);

const num = (v: string | undefined) => (v === undefined || v === '' ? null : Number(v));

function toIntegration(h: Record<string, string>): SkudIntegration | null {
  if (!h.id || !h.publicJwk) return null;
  return {
    id: h.id,
    name: h.name ?? '',
    publicJwk: JSON.parse(h.publicJwk) as PublicJwk,
    alg: h.alg === 'ES256' ? 'ES256' : 'EdDSA',
    fingerprint: h.fingerprint ?? '',
    createdAt: Number(h.createdAt ?? 0),
    lastStatementAt: num(h.lastStatementAt),
    lastEventAt: num(h.lastEventAt),
  };
}

/**
 * @example
 * const skud = createSkudStore({ redis, clock });
 * const i = await skud.add({ name: 'Parsec, корпус 1', publicJwk });
 */
export function createSkudStore(deps: { redis: Redis; clock: Clock }) {
  const { redis, clock } = deps;
  const get = async (id: string): Promise<SkudIntegration | null> => (isSkudId(id) ? toIntegration(await guard(redis.hgetall(skudKey(id)))) : null);
  return {
    get,
    /** Registers an integration key; a key registered already (same thumbprint) is refused. */
    async add(input: { name: string; publicJwk: unknown }): Promise<SkudIntegration> {
      const name = printable(input.name, 'name', 64);
      const { jwk, alg } = await validatePublicJwk(input.publicJwk);
      const fingerprint = await calculateJwkThumbprint(jwk, 'sha256');
      if ((await this.list()).some((i) => i.fingerprint === fingerprint)) throw new CardauthError('skud_exists', 'this key is registered already');
      const id = `sk_${randomBytes(8).toString('hex')}`;
      const createdAt = clock.now();
      await guard(
        redis
          .multi()
          .hset(skudKey(id), { id, name, publicJwk: JSON.stringify(jwk), alg, fingerprint, createdAt })
          .sadd(INDEX, id)
          .exec(),
      );
      return { id, name, publicJwk: jwk, alg, fingerprint, createdAt, lastStatementAt: null, lastEventAt: null };
    },
    async list(): Promise<SkudIntegration[]> {
      const ids = (await guard(redis.smembers(INDEX))).sort();
      const out: SkudIntegration[] = [];
      for (const id of ids) {
        const i = await get(id);
        if (i) out.push(i);
      }
      return out;
    },
    /** Removes an integration: its statements are refused from now on. */
    async remove(id: string): Promise<SkudIntegration> {
      const i = await get(id);
      if (!i) throw new CardauthError('skud_not_found', `no integration ${id}`);
      await guard(redis.multi().del(skudKey(id)).srem(INDEX, id).exec());
      return i;
    },
    /** The events an integration reported on a Moscow day. */
    async eventsOn(id: string, day: string): Promise<number> {
      return Number((await guard(redis.get(skudDayKey(id, day)))) ?? 0);
    },
  };
}

export type SkudStore = ReturnType<typeof createSkudStore>;
