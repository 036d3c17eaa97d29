import type Redis from 'ioredis';
import { base64url, CompactSign, compactVerify, createLocalJWKSet, errors, importJWK } from 'jose';
// With resolution-mode: a host's CommonJS TypeScript reads these declarations too (test/package).
import type { JWK, createLocalJWKSet as LocalJwkSet } from 'jose' with { 'resolution-mode': 'import' };
import { z } from 'zod';
import type { Clock } from '../clock';
import { CardauthError, guardAudit } from '../errors';
import { AUDIT_KEY_ALG } from './keys';
import type { AuditHead } from './log';
import { fromStreamFields } from './record';

/**
 * Signed checkpoints of the audit chain (РСБ.4): `{seq, headHash, time}` of the chain's head,
 * signed with the server's audit key (JWS, EdDSA, with its `kid`), kept in their own stream
 * (`audit:checkpoints`, field `jws`), never in `audit:log`. A checkpoint pins the chain up to
 * its `seq`: records cut from the end, or a tail rewritten consistently, no longer pass
 * verification once a checkpoint covers them.
 */

/** The stream the checkpoints are kept in. */
export const CHECKPOINTS_KEY = 'audit:checkpoints';
/** The `typ` of a checkpoint's JWS header, so no other JWS of the same key passes as one. */
export const CHECKPOINT_TYP = 'cardauth-audit-checkpoint';

/** What a checkpoint signs: the head's `seq` and `hash`, and when (ISO-8601 UTC, ms). */
export interface Checkpoint {
  seq: number;
  headHash: string;
  time: string;
}

const checkpointSchema = z.strictObject({
  seq: z.number().int().positive(),
  headHash: z.string().regex(/^[0-9a-f]{64}$/),
  time: z.iso.datetime({ precision: 3 }),
});

/**
 * Signs a checkpoint with a private audit key (the first of the key file).
 *
 * @example
 * const jws = await signCheckpoint(keys[0], { seq: 1000, headHash, time: new Date(clock.now()).toISOString() });
 */
export async function signCheckpoint(key: JWK, checkpoint: Checkpoint): Promise<string> {
  const { seq, headHash, time } = checkpoint;
  return signAudit(key, CHECKPOINT_TYP, { seq, headHash, time });
}

/** Signs `payload` (as JSON) with a private audit key: a compact JWS, EdDSA, with its `kid` and `typ`. */
export async function signAudit(key: JWK, typ: string, payload: object): Promise<string> {
  return new CompactSign(new TextEncoder().encode(JSON.stringify(payload))).setProtectedHeader({ alg: AUDIT_KEY_ALG, kid: String(key.kid), typ }).sign(await importJWK(key, AUDIT_KEY_ALG));
}

/** Why a stored checkpoint does not count: not made with any of the keys given. */
export type CheckpointFault = 'bad_signature' | 'unknown_kid' | 'checkpoint_malformed';

/** A stored checkpoint, checked: `seq` of a refused one is what it claims (unverified), when it can be read. */
export type CheckedCheckpoint = { ok: true; id: string; kid: string; checkpoint: Checkpoint } | { ok: false; id: string; fault: CheckpointFault; seq?: number };

/** The payload a JWS claims, unverified; for naming a refused checkpoint, for scheduling, and for choosing the checkpoints of an export. */
export function claimed(jws: string): Partial<Checkpoint> {
  try {
    const c = JSON.parse(new TextDecoder().decode(base64url.decode(jws.split('.')[1] ?? ''))) as Partial<Checkpoint> | null;
    return typeof c === 'object' && c !== null ? c : {};
  } catch {
    return {};
  }
}

/**
 * Checks a JWS of the audit keys: its signature (EdDSA only), its `typ` and its payload
 * (`schema`). Never throws for what is given: a refusal names its fault.
 *
 * @example
 * const r = await checkSigned(jws, verifier, CHECKPOINT_TYP, checkpointSchema);
 */
export async function checkSigned<T>(jws: string, verifier: ReturnType<typeof LocalJwkSet>, typ: string, schema: z.ZodType<T>): Promise<{ ok: true; kid: string; payload: T } | { ok: false; fault: CheckpointFault }> {
  try {
    const { payload, protectedHeader } = await compactVerify(jws, verifier, { algorithms: [AUDIT_KEY_ALG] });
    if (protectedHeader.typ !== typ) return { ok: false, fault: 'checkpoint_malformed' };
    const c = schema.safeParse(JSON.parse(new TextDecoder().decode(payload)));
    if (!c.success) return { ok: false, fault: 'checkpoint_malformed' };
    return { ok: true, kid: String(protectedHeader.kid), payload: c.data };
  } catch (err) {
    if (err instanceof errors.JWKSNoMatchingKey) return { ok: false, fault: 'unknown_kid' };
    if (err instanceof errors.JWSSignatureVerificationFailed) return { ok: false, fault: 'bad_signature' };
    return { ok: false, fault: 'checkpoint_malformed' };
  }
}

/** A verifier of public (or private: their public part is used) audit keys. */
export const auditVerifier = (keys: readonly JWK[]) => createLocalJWKSet({ keys: keys.map(({ d: _d, ...pub }) => pub) });

/** Checks one stored checkpoint against public keys (see {@link checkSigned}). */
export async function checkCheckpoint(id: string, fields: readonly string[], verifier: ReturnType<typeof LocalJwkSet>): Promise<CheckedCheckpoint> {
  const jws = fields.length === 2 && fields[0] === 'jws' ? fields[1] : undefined;
  const seq = jws ? claimed(jws).seq : undefined;
  const refused = (fault: CheckpointFault): CheckedCheckpoint => ({ ok: false, id, fault, ...(Number.isSafeInteger(seq) ? { seq: seq as number } : {}) });
  if (!jws) return refused('checkpoint_malformed');
  const r = await checkSigned(jws, verifier, CHECKPOINT_TYP, checkpointSchema);
  return r.ok ? { ok: true, id, kid: r.kid, checkpoint: r.payload } : refused(r.fault);
}

/**
 * Reads and checks every stored checkpoint, in the order written.
 *
 * @example
 * const checked = await readCheckpoints(redis, publicAuditJwks(readAuditKeys(file)).keys);
 */
export async function readCheckpoints(redis: Pick<Redis, 'xrange'>, keys: readonly JWK[], key = CHECKPOINTS_KEY): Promise<CheckedCheckpoint[]> {
  const entries = await guardAudit(redis.xrange(key, '-', '+'), 'audit checkpoints read failed');
  const verifier = auditVerifier(keys);
  const out: CheckedCheckpoint[] = [];
  for (const [id, fields] of entries) out.push(await checkCheckpoint(id, fields, verifier));
  return out;
}

export interface CheckpointWriterDeps {
  redis: Pick<Redis, 'xrevrange' | 'xadd'>;
  clock: Clock;
  /** The private audit keys; the first signs. */
  keys: readonly JWK[];
  /** The audit stream. Default `audit:log`. */
  logKey?: string;
  /** The checkpoints stream. Default `audit:checkpoints`. */
  key?: string;
}

/**
 * Writes checkpoints of the audit chain's current head.
 *
 * @example
 * const writer = createCheckpointWriter({ redis, clock, keys: readAuditKeys(file).keys });
 * await writer.write(); // => { seq, headHash, time } or null for an empty log
 */
export function createCheckpointWriter({ redis, clock, keys, logKey = 'audit:log', key = CHECKPOINTS_KEY }: CheckpointWriterDeps) {
  const signer = keys[0];
  if (!signer) throw new TypeError('createCheckpointWriter: keys must hold the signing key');
  const read = <T>(p: Promise<T>) => guardAudit(p, 'audit checkpoint: Redis failed');

  /** The chain's head; refuses a head that is not a readable record (verify the chain). */
  async function head(): Promise<AuditHead | null> {
    const [last] = await read(redis.xrevrange(logKey, '+', '-', 'COUNT', 1));
    if (!last) return null;
    const d = fromStreamFields(last[1]);
    if (!d.ok || !d.intact) throw new CardauthError('audit_unavailable', `audit checkpoint: the head ${last[0]} is not an intact record; run cardauth audit verify`);
    return { seq: d.seq, hash: d.hash };
  }

  return {
    head,
    /** The last checkpoint written, as it claims (unverified: for scheduling only), or null. */
    async last(): Promise<{ seq: number; time: number } | null> {
      const [entry] = await read(redis.xrevrange(key, '+', '-', 'COUNT', 1));
      const c = entry?.[1][0] === 'jws' && entry[1][1] ? claimed(entry[1][1]) : {};
      return typeof c.seq === 'number' && typeof c.time === 'string' ? { seq: c.seq, time: Date.parse(c.time) } : null;
    },
    /** Signs and stores a checkpoint of `at` (default: the head now); null when the log is empty. */
    async write(at?: AuditHead): Promise<(Checkpoint & { kid: string }) | null> {
      const h = at ?? (await head());
      if (!h) return null;
      const checkpoint = { seq: h.seq, headHash: h.hash, time: new Date(clock.now()).toISOString() };
      const jws = await signCheckpoint(signer, checkpoint);
      await read(redis.xadd(key, '*', 'jws', jws));
      return { ...checkpoint, kid: String(signer.kid) };
    },
  };
}

export type CheckpointWriter = ReturnType<typeof createCheckpointWriter>;
