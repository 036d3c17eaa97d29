import { randomBytes as cryptoRandomBytes } from 'node:crypto';
import type Redis from 'ioredis';
import { calculateJwkThumbprint, importJWK } from 'jose';
import { z } from 'zod';
import type { Clock } from '../clock';
import { CardauthError, guard } from '../errors';
import { defineScript, pairsToRecord, printable, randomHex } from './script';

/**
 * Workstation card agents: the reader stations whose signed card statements
 * the server trusts. An agent registers its public key (status `pending`), a
 * security officer approves it, and anyone with that role can revoke it.
 *
 * Redis layout:
 * - `agent:<id>`: hash, one agent. Fields as in {@link Agent}, with
 *   `publicJwk` as JSON, and `enrolledFrom` the client IP of its enrollment.
 * - `agent:by-fp`: hash, JWK thumbprint → agent id. One key registers once,
 *   even after it is revoked (a revoked key may be compromised).
 * - `agent:<id>:ips`: sorted set, the client IPs its workstation was seen at
 *   (its enrollment, its signed events) → last seen (ms); only the
 *   {@link SEEN_IPS_KEPT} most recent stay, and one not seen for
 *   {@link SEEN_IP_MAX_AGE_MS} no longer counts, so an old DHCP lease ages out.
 *
 * - `rl:agent:<id>`: unknown or refused cards tapped at its readers in the
 *   current window (see {@link AgentStore.countRefusal}).
 *
 * Every state change is one Lua script, so two officers on two nodes cannot
 * both act on the same agent, and two nodes counting refusals suspend it once.
 */

/** Signature algorithms an agent key may use. */
export type AgentAlg = 'EdDSA' | 'ES256';
/**
 * Only an approved agent's statements are trusted. `suspended`: the abuse rule stopped it (too
 * many unknown or refused cards in a window, see {@link AgentStore.countRefusal}); like
 * `revoked`, but an officer brings it back (`unsuspend`).
 */
export type AgentStatus = 'pending' | 'approved' | 'suspended' | 'revoked';

/** An agent's public key, reduced to the members that define it (RFC 7638). */
export type PublicJwk = { kty: 'OKP'; crv: 'Ed25519'; x: string } | { kty: 'EC'; crv: 'P-256'; x: string; y: string };

/** One registered agent as stored. */
export interface Agent {
  /** `ag_` + 16 lowercase hex digits; the `kid` the agent signs with. */
  id: string;
  /** Workstation name, 1..64 printable characters. */
  name: string;
  publicJwk: PublicJwk;
  alg: AgentAlg;
  /** RFC 7638 SHA-256 JWK thumbprint, base64url; officers compare it with the agent's screen. */
  fingerprint: string;
  status: AgentStatus;
  createdAt: number;
  approvedBy?: string;
  approvedAt?: number;
  revokedBy?: string;
  revokedAt?: number;
  suspendedAt?: number;
  /** The client IP it enrolled from (none for a key an officer registered by hand). */
  enrolledFrom?: string;
}

/** 32 bytes, base64url without padding. */
const B64U_32 = z.string('must be a base64url string').regex(/^[A-Za-z0-9_-]{42}[AEIMQUYcgkosw048]$/, 'must be 32 bytes, base64url');
const USE = z.literal('sig', 'must be "sig" when present').optional();
const KEY_OPS = z.array(z.literal('verify', 'may only list "verify"'), 'may only list "verify"').optional();

const OKP = z.object({
  kty: z.literal('OKP'),
  crv: z.literal('Ed25519'),
  x: B64U_32,
  alg: z.enum(['EdDSA', 'Ed25519'], 'must be EdDSA for an Ed25519 key').optional(),
  use: USE,
  key_ops: KEY_OPS,
});
const EC = z.object({
  kty: z.literal('EC'),
  crv: z.literal('P-256'),
  x: B64U_32,
  y: B64U_32,
  alg: z.literal('ES256', 'must be ES256 for a P-256 key').optional(),
  use: USE,
  key_ops: KEY_OPS,
});

/** JWK members that only private or symmetric keys carry. */
const SECRET_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k', 'priv'];

const refuse = (message: string): never => {
  throw new CardauthError('bad_request', `publicJwk: ${message}`);
};

/**
 * Checks an agent's public key and reduces it to its defining members.
 * Accepts only Ed25519 (`OKP`, alg EdDSA) and P-256 (`EC`, alg ES256) public
 * keys; refuses with `bad_request` a private key (any `d`), a symmetric key
 * (`oct`), RSA, other curves, a mismatched `alg`/`use`/`key_ops`, or a key
 * jose cannot import (e.g. a point not on P-256).
 *
 * @example
 * const { jwk, alg } = await validatePublicJwk({ kty: 'OKP', crv: 'Ed25519', x: '11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo' });
 * // alg === 'EdDSA'; jwk has only kty, crv, x
 */
export async function validatePublicJwk(jwk: unknown): Promise<{ jwk: PublicJwk; alg: AgentAlg }> {
  if (typeof jwk !== 'object' || jwk === null || Array.isArray(jwk)) return refuse('must be a JWK object');
  const raw = jwk as Record<string, unknown>;
  if (raw.kty === 'oct') return refuse('symmetric (oct) keys are not accepted; register a public Ed25519 or P-256 key');
  const secret = SECRET_MEMBERS.find((m) => m in raw);
  if (secret) return refuse(`carries private key material ("${secret}"); send only the public key, the private key stays on the workstation`);
  if (raw.kty === 'RSA') return refuse('RSA keys are not accepted; use Ed25519 or P-256');
  if (raw.kty === 'EC' && raw.crv !== 'P-256') return refuse(`EC curve ${String(raw.crv)} is not accepted; use P-256`);
  if (raw.kty === 'OKP' && raw.crv !== 'Ed25519') return refuse(`OKP curve ${String(raw.crv)} is not accepted; use Ed25519`);
  if (raw.kty !== 'EC' && raw.kty !== 'OKP') return refuse(`key type ${String(raw.kty)} is not accepted; use Ed25519 (OKP) or P-256 (EC)`);

  let canonical: PublicJwk;
  let alg: AgentAlg;
  if (raw.kty === 'OKP') {
    const r = OKP.safeParse(raw);
    if (!r.success) return refuse(describe(r.error));
    canonical = { kty: 'OKP', crv: 'Ed25519', x: r.data.x };
    alg = 'EdDSA';
  } else {
    const r = EC.safeParse(raw);
    if (!r.success) return refuse(describe(r.error));
    canonical = { kty: 'EC', crv: 'P-256', x: r.data.x, y: r.data.y };
    alg = 'ES256';
  }
  try {
    await importJWK(canonical, alg);
  } catch {
    return refuse(`not a valid ${canonical.crv} public key`);
  }
  return { jwk: canonical, alg };
}

function describe(error: z.ZodError): string {
  const issue = error.issues[0];
  return issue ? `${issue.path.join('.') || 'key'} ${issue.message}` : 'invalid key';
}

const AGENT_ID = /^ag_[0-9a-f]{16}$/;
const FP_INDEX = 'agent:by-fp';
const agentKey = (id: string) => `agent:${id}`;
const seenKey = (id: string) => `agent:${id}:ips`;
const refusalsKey = (id: string) => `rl:agent:${id}`;

/** How many of its most recent client IPs an agent's workstation keeps. */
export const SEEN_IPS_KEPT = 16;
/** How long an IP counts after the workstation was last seen at it: a DHCP lease handed to another machine months ago does not. */
export const SEEN_IP_MAX_AGE_MS = 90 * 86_400_000;

/**
 * True for a well-formed agent id.
 *
 * @example
 * isAgentId('ag_0123456789abcdef') // => true
 */
export function isAgentId(id: unknown): id is string {
  return typeof id === 'string' && AGENT_ID.test(id);
}

// Adds ARGV[1] (an IP, seen at ARGV[2]) to the seen set KEYS[n], keeping the most recent.
const SEEN = (n: number) => `
redis.call('ZADD', KEYS[${n}], ARGV[2], ARGV[1])
redis.call('ZREMRANGEBYRANK', KEYS[${n}], 0, -${SEEN_IPS_KEPT + 1})
`;

// KEYS: agent:<id>, agent:by-fp, agent:<id>:ips. ARGV: ip ('' for none), createdAt, fingerprint, id, field, value, ...
const REGISTER = `
if redis.call('EXISTS', KEYS[1]) == 1 then return {'id_collision'} end
local existing = redis.call('HGET', KEYS[2], ARGV[3])
if existing then return {'agent_state', existing} end
redis.call('HSET', KEYS[2], ARGV[3], ARGV[4])
redis.call('HSET', KEYS[1], unpack(ARGV, 5))
if ARGV[1] ~= '' then${SEEN(3)}end
return {'ok'}
`;

// KEYS: agent:<id>, agent:<id>:ips. ARGV: ip, at. Only for an agent that exists.
const RECORD_SEEN = `
if redis.call('EXISTS', KEYS[1]) == 0 then return {'agent_not_found'} end
${SEEN(2)}
return {'ok'}
`;

// KEYS: agent:<id>. ARGV: by, at. pending -> approved.
const APPROVE = `
local status = redis.call('HGET', KEYS[1], 'status')
if not status then return {'agent_not_found'} end
if status ~= 'pending' then return {'agent_state', status} end
redis.call('HSET', KEYS[1], 'status', 'approved', 'approvedBy', ARGV[1], 'approvedAt', ARGV[2])
return {'ok', unpack(redis.call('HGETALL', KEYS[1]))}
`;

// KEYS: agent:<id>. ARGV: by, at. pending | approved | suspended -> revoked.
const REVOKE = `
local status = redis.call('HGET', KEYS[1], 'status')
if not status then return {'agent_not_found'} end
if status == 'revoked' then return {'agent_state', status} end
redis.call('HSET', KEYS[1], 'status', 'revoked', 'revokedBy', ARGV[1], 'revokedAt', ARGV[2])
return {'ok', unpack(redis.call('HGETALL', KEYS[1]))}
`;

// KEYS: agent:<id>, rl:agent:<id>. ARGV: by, at. suspended -> approved; its refusal count starts again.
const UNSUSPEND = `
local status = redis.call('HGET', KEYS[1], 'status')
if not status then return {'agent_not_found'} end
if status ~= 'suspended' then return {'agent_state', status} end
redis.call('HSET', KEYS[1], 'status', 'approved')
redis.call('HDEL', KEYS[1], 'suspendedAt')
redis.call('DEL', KEYS[2])
return {'ok', unpack(redis.call('HGETALL', KEYS[1]))}
`;

// KEYS: agent:<id>, rl:agent:<id>. ARGV: max, windowMs, at. Counts one refused card; the count
// that reaches max suspends an approved agent. Answers {count, 1 when this call suspended it}.
const COUNT_REFUSAL = `
local n = redis.call('INCR', KEYS[2])
if n == 1 then redis.call('PEXPIRE', KEYS[2], ARGV[2]) end
if n >= tonumber(ARGV[1]) and redis.call('HGET', KEYS[1], 'status') == 'approved' then
  redis.call('HSET', KEYS[1], 'status', 'suspended', 'suspendedAt', ARGV[3])
  return {n, 1}
end
return {n, 0}
`;

function toAgent(h: Record<string, string>): Agent | null {
  if (!h.id || !isAgentId(h.id) || !h.publicJwk) return null;
  let publicJwk: PublicJwk;
  try {
    publicJwk = JSON.parse(h.publicJwk) as PublicJwk;
  } catch {
    return null;
  }
  const agent: Agent = {
    id: h.id,
    name: h.name ?? '',
    publicJwk,
    alg: h.alg === 'ES256' ? 'ES256' : 'EdDSA',
    fingerprint: h.fingerprint ?? '',
    status: h.status === 'approved' || h.status === 'pending' || h.status === 'suspended' ? h.status : 'revoked',
    createdAt: Number(h.createdAt),
  };
  if (h.approvedBy) agent.approvedBy = h.approvedBy;
  if (h.approvedAt) agent.approvedAt = Number(h.approvedAt);
  if (h.revokedBy) agent.revokedBy = h.revokedBy;
  if (h.revokedAt) agent.revokedAt = Number(h.revokedAt);
  if (h.suspendedAt) agent.suspendedAt = Number(h.suspendedAt);
  if (h.enrolledFrom) agent.enrolledFrom = h.enrolledFrom;
  return agent;
}

/** What {@link createAgentStore} needs. */
export interface AgentStoreDeps {
  redis: Redis;
  clock: Clock;
  /** Source of randomness for ids; defaults to node:crypto. */
  randomBytes?: (size: number) => Uint8Array;
}

/** Input to {@link AgentStore.register}. */
export interface NewAgent {
  name: string;
  /** Checked by {@link validatePublicJwk}. */
  publicJwk: unknown;
  /**
   * A workstation retrying its enrollment: when this key is already a
   * pending agent of the same name, answer that agent (`resumed: true`)
   * instead of `agent_state`, so a first attempt whose answer or audit
   * record was lost can be completed.
   */
  resumePending?: boolean;
  /**
   * The client IP the enrollment came from: the first IP the workstation is
   * seen at (see {@link AgentStore.recordSeen}). Not recorded when an
   * enrollment only resumes a pending one: the public key is no secret.
   */
  ip?: string;
}

/** Agents over a shared Redis; see {@link createAgentStore}. */
export interface AgentStore {
  /** Registers a key as a pending agent; `agent_state` (naming the existing id) if the key is known (but see `resumePending`). */
  register(input: NewAgent): Promise<Agent & { resumed?: true }>;
  /** pending → approved; `agent_state` from any other status, `agent_not_found` if unknown. */
  approve(id: string, by: string): Promise<Agent>;
  /** pending | approved | suspended → revoked; `agent_state` if already revoked, `agent_not_found` if unknown. */
  revoke(id: string, by: string): Promise<Agent>;
  /** suspended → approved, its refusal count cleared; `agent_state` from any other status, `agent_not_found` if unknown. */
  unsuspend(id: string, by: string): Promise<Agent>;
  /**
   * Counts one unknown or refused card tapped at the agent's readers, in a window of `windowSec`
   * from the first; the count that reaches `max` suspends the agent if it is approved (one script:
   * atomic across nodes, so exactly one caller sees `suspended`).
   */
  countRefusal(id: string, limit: { max: number; windowSec: number }): Promise<{ count: number; suspended: boolean }>;
  get(id: string): Promise<Agent | null>;
  /**
   * Notes that the agent's workstation was seen at client IP `ip` now (a
   * signed event of it verified); keeps the {@link SEEN_IPS_KEPT} most
   * recent IPs. `agent_not_found` if unknown.
   */
  recordSeen(id: string, ip: string): Promise<void>;
  /** True when the agent's workstation was seen at `ip` (one of its kept IPs) within {@link SEEN_IP_MAX_AGE_MS}. */
  seenAt(id: string, ip: string): Promise<boolean>;
  /** Every agent, oldest first. */
  list(): Promise<Agent[]>;
}

/**
 * Creates the agent store over a shared Redis.
 *
 * @example
 * const agents = createAgentStore({ redis, clock: systemClock });
 * const a = await agents.register({ name: 'Кабинет 12', publicJwk });
 * // an officer compares a.fingerprint with the one the workstation shows, then:
 * await agents.approve(a.id, officer.id);
 */
export function createAgentStore(deps: AgentStoreDeps): AgentStore {
  const { redis, clock } = deps;
  if (!redis || !clock || typeof clock.now !== 'function') throw new TypeError('createAgentStore needs { redis, clock }');
  const randomBytes = deps.randomBytes ?? cryptoRandomBytes;
  const register = defineScript(redis, 'cardauthAgentRegister', 3, REGISTER);
  const recordSeen = defineScript(redis, 'cardauthAgentRecordSeen', 2, RECORD_SEEN);
  const approve = defineScript(redis, 'cardauthAgentApprove', 1, APPROVE);
  const revoke = defineScript(redis, 'cardauthAgentRevoke', 1, REVOKE);
  const unsuspend = defineScript(redis, 'cardauthAgentUnsuspend', 2, UNSUSPEND);
  const countRefusal = defineScript(redis, 'cardauthAgentCountRefusal', 2, COUNT_REFUSAL);

  const get = async (id: string): Promise<Agent | null> => (isAgentId(id) ? toAgent(await guard(redis.hgetall(agentKey(id)))) : null);

  const transition = async (script: typeof approve, verb: string, id: string, by: string, keys = [agentKey(id)]): Promise<Agent> => {
    const actor = printable(by, 'by', 128);
    if (!isAgentId(id)) throw new CardauthError('agent_not_found', 'no such agent');
    const [status, ...rest] = await script(keys, [actor, clock.now()]);
    if (status === 'agent_not_found') throw new CardauthError('agent_not_found', 'no such agent');
    if (status === 'agent_state') throw new CardauthError('agent_state', `cannot ${verb} agent ${id}: it is ${String(rest[0])}`);
    const agent = status === 'ok' ? toAgent(pairsToRecord(rest)) : null;
    if (!agent) throw new CardauthError('unavailable', `unexpected reply while trying to ${verb} agent ${id}`);
    return agent;
  };

  return {
    async register(input) {
      const name = printable(input?.name, 'name', 64);
      const ip = input.ip === undefined ? '' : printable(input.ip, 'ip', 64);
      const { jwk, alg } = await validatePublicJwk(input.publicJwk);
      const fingerprint = await calculateJwkThumbprint(jwk, 'sha256');
      const createdAt = clock.now();
      for (let attempt = 0; attempt < 3; attempt++) {
        const id = `ag_${randomHex(randomBytes, 8)}`;
        const [status, existing] = await register(
          [agentKey(id), FP_INDEX, seenKey(id)],
          [ip, createdAt, fingerprint, id, 'id', id, 'name', name, 'publicJwk', JSON.stringify(jwk), 'alg', alg, 'fingerprint', fingerprint, 'status', 'pending', 'createdAt', createdAt, ...(ip ? ['enrolledFrom', ip] : [])],
        );
        if (status === 'ok') return { id, name, publicJwk: jwk, alg, fingerprint, status: 'pending', createdAt, ...(ip ? { enrolledFrom: ip } : {}) };
        if (status === 'agent_state') {
          const prior = input.resumePending ? await get(String(existing)) : null;
          if (prior && prior.status === 'pending' && prior.name === name) return { ...prior, resumed: true };
          throw new CardauthError('agent_state', `this key is already registered as agent ${String(existing)}`);
        }
      }
      throw new CardauthError('unavailable', 'could not allocate an agent id');
    },

    approve: (id, by) => transition(approve, 'approve', id, by),
    revoke: (id, by) => transition(revoke, 'revoke', id, by),
    unsuspend: (id, by) => transition(unsuspend, 'unsuspend', id, by, [agentKey(id), refusalsKey(id)]),

    async countRefusal(id, limit) {
      if (!isAgentId(id)) return { count: 0, suspended: false };
      const [count, suspended] = await countRefusal([agentKey(id), refusalsKey(id)], [limit.max, limit.windowSec * 1000, clock.now()]);
      return { count: Number(count), suspended: Number(suspended) === 1 };
    },

    get,

    async recordSeen(id, ip) {
      const [status] = isAgentId(id) ? await recordSeen([agentKey(id), seenKey(id)], [printable(ip, 'ip', 64), clock.now()]) : ['agent_not_found'];
      if (status === 'agent_not_found') throw new CardauthError('agent_not_found', 'no such agent');
    },

    async seenAt(id, ip) {
      if (!isAgentId(id)) return false;
      const at = await guard(redis.zscore(seenKey(id), ip));
      return at !== null && clock.now() - Number(at) <= SEEN_IP_MAX_AGE_MS;
    },

    async list() {
      const ids = Object.values(await guard(redis.hgetall(FP_INDEX)));
      if (ids.length === 0) return [];
      const pipeline = redis.pipeline();
      for (const id of ids) pipeline.hgetall(agentKey(id));
      const replies = (await guard(pipeline.exec())) ?? [];
      const out: Agent[] = [];
      for (const [err, h] of replies) {
        if (err) throw new CardauthError('unavailable', 'store unavailable', { cause: err });
        const agent = toAgent(h as Record<string, string>);
        if (agent) out.push(agent);
      }
      return out.sort((a, b) => a.createdAt - b.createdAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    },
  };
}
