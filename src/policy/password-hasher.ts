import { randomBytes } from 'node:crypto';
import * as nodeRsArgon2 from '@node-rs/argon2';
import { limitConcurrency } from './limit-concurrency';

/** argon2id cost parameters (RFC 9106; OWASP's m=19 MiB, t=2, p=1 by default). */
export interface Argon2Params {
  memoryKiB: number;
  time: number;
  parallelism: number;
}

export interface PasswordHasher {
  /** A PHC string `$argon2id$v=19$m=…,t=…,p=…$salt$hash`. */
  hash(password: string): Promise<string>;
  /** Verifies against any argon2 PHC string; a malformed hash is `false`, never a throw. */
  verify(phc: string, password: string): Promise<boolean>;
  /**
   * Costs one verify at the current parameters and returns false. Used for an
   * unknown account or a card/login mismatch, so timing does not tell them
   * apart from a wrong password.
   */
  dummyVerify(password: string): Promise<false>;
}

/**
 * argon2id hashing through @node-rs/argon2 (its PHC strings verify with the
 * `argon2` package and back). At most `concurrency` hashes run at once, so a
 * login flood queues instead of allocating m KiB per request.
 *
 * @example
 * const hasher = createPasswordHasher({ memoryKiB: 19456, time: 2, parallelism: 1 }, 2);
 * const phc = await hasher.hash('correct horse battery staple');
 * await hasher.verify(phc, 'correct horse battery staple'); // true
 */
export function createPasswordHasher(
  params: Argon2Params,
  concurrency: number,
  /** The argon2 implementation; tests pass a fake to watch the cap. */
  argon2: Pick<typeof nodeRsArgon2, 'hash' | 'verify'> = nodeRsArgon2,
): PasswordHasher {
  const { hash, verify } = argon2;
  const limit = limitConcurrency(concurrency);
  // Algorithm.Argon2id is an ambient const enum that is empty at run time; 2 is its value.
  const options = { algorithm: 2 as const, memoryCost: params.memoryKiB, timeCost: params.time, parallelism: params.parallelism };
  let dummy: Promise<string> | undefined;
  const verifySafe = (phc: string, password: string) =>
    limit(async () => {
      try {
        return await verify(phc, password);
      } catch {
        return false;
      }
    });
  return {
    hash: (password) => limit(() => hash(password, options)),
    verify: verifySafe,
    async dummyVerify(password) {
      // Made once, under the cap like every hash; a failed attempt is not kept.
      dummy ??= limit(() => hash(randomBytes(32), options)).catch((err: unknown) => {
        dummy = undefined;
        throw err;
      });
      await verifySafe(await dummy, password);
      return false;
    },
  };
}
