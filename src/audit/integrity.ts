import type Redis from 'ioredis';
import type { JWK } from 'jose' with { 'resolution-mode': 'import' };
import { guardAudit } from '../errors';
import { auditVerifier, CHECKPOINTS_KEY, checkCheckpoint, claimed, type CheckpointFault } from './checkpoint';
import type { AuditEventInput } from './record';
import { verifyAuditChain, type AuditVerifyResult } from './verify';

/** The newest stored checkpoint: what it claims, and whether its signature verifies (`null`: no audit key to check it with). */
export interface LatestCheckpoint {
  id: string;
  seq?: number;
  time?: string;
  kid?: string;
  valid: boolean | null;
  fault?: CheckpointFault;
}

export interface AuditIntegrity {
  /** `cardauth audit verify`'s walk: the chain, and the checkpoints when there are keys. */
  verify(): Promise<AuditVerifyResult>;
  /** The newest checkpoint of `audit:checkpoints`, or null when there is none. */
  latestCheckpoint(): Promise<LatestCheckpoint | null>;
}

export interface AuditIntegrityDeps {
  redis: Pick<Redis, 'xrange' | 'xrevrange'>;
  /** The audit keys (CARDAUTH_AUDIT_KEYS_FILE), read at each check so a rotation is seen; undefined: none. */
  keys: () => readonly JWK[] | undefined;
}

/**
 * The integrity checks the auditor's pages run (issue 11 §8): the chain verified as
 * `cardauth audit verify` does, and the latest checkpoint.
 *
 * @example
 * const integrity = createAuditIntegrity({ redis, keys: () => readAuditKeys(file).keys });
 * const result = await integrity.verify();
 */
export function createAuditIntegrity({ redis, keys }: AuditIntegrityDeps): AuditIntegrity {
  return {
    verify() {
      const checkpointKeys = keys();
      return verifyAuditChain({ redis, ...(checkpointKeys ? { checkpointKeys } : {}) });
    },
    async latestCheckpoint() {
      const [last] = await guardAudit(redis.xrevrange(CHECKPOINTS_KEY, '+', '-', 'COUNT', 1), 'audit checkpoints read failed');
      if (!last) return null;
      const [id, fields] = last;
      const c = fields[0] === 'jws' && fields[1] ? claimed(fields[1]) : {};
      const said = { id, ...(typeof c.seq === 'number' ? { seq: c.seq } : {}), ...(typeof c.time === 'string' ? { time: c.time } : {}) };
      const checkpointKeys = keys();
      if (!checkpointKeys) return { ...said, valid: null };
      // The latest alone: every page view, so not every checkpoint kept.
      const checked = await checkCheckpoint(id, fields, auditVerifier(checkpointKeys));
      return checked.ok ? { id, ...checked.checkpoint, kid: checked.kid, valid: true } : { ...said, valid: false, fault: checked.fault };
    },
  };
}

/**
 * The `audit.verified` record of a verification (without the actor): the count, the head and
 * the checkpoints; or the kind of the first break as the reason, and where it is.
 *
 * @example
 * await audit.append({ ...verifiedRecord(await verifyAuditChain({ redis })), actor });
 */
export function verifiedRecord(result: AuditVerifyResult): Omit<AuditEventInput, 'actor'> {
  if (!result.ok) {
    const b = result.firstBroken;
    return { type: 'audit.verified', outcome: 'failure', reason: b.kind, details: { count: result.count, break: b.reason, brokenId: b.id, brokenSeq: b.seq, checkpointId: b.checkpointId } };
  }
  const cps = result.checkpoints;
  return {
    type: 'audit.verified',
    outcome: 'success',
    details: {
      count: result.count,
      ...(result.head ? { headSeq: result.head.seq, headHash: result.head.hash } : {}),
      ...(cps ? { checkpoints: cps.count, unprotected: cps.unprotected, ...(cps.last ? { lastCheckpointSeq: cps.last.seq } : {}) } : { checkpoints: 'none' }),
    },
  };
}
