import * as nodeArgon2 from 'argon2';
import { createPasswordHasher } from '../../src/policy/password-hasher';

const params = { memoryKiB: 19456, time: 2, parallelism: 1 };

describe('password hasher', () => {
  const hasher = createPasswordHasher(params, 2);

  it('hashes to an argon2id PHC string with the configured parameters and verifies it', async () => {
    const phc = await hasher.hash('Пароль-для-теста-1');
    expect(phc).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
    await expect(hasher.verify(phc, 'Пароль-для-теста-1')).resolves.toBe(true);
    await expect(hasher.verify(phc, 'Пароль-для-теста-2')).resolves.toBe(false);
  });

  it('verifies hashes made by the argon2 package, and argon2 verifies ours', async () => {
    const theirs = await nodeArgon2.hash('shared secret', { type: nodeArgon2.argon2id, memoryCost: 19456, timeCost: 2, parallelism: 1 });
    await expect(hasher.verify(theirs, 'shared secret')).resolves.toBe(true);
    const ours = await hasher.hash('shared secret');
    await expect(nodeArgon2.verify(ours, 'shared secret')).resolves.toBe(true);
  });

  it('answers false, not a throw, for a malformed hash', async () => {
    await expect(hasher.verify('not-a-phc', 'x')).resolves.toBe(false);
  });

  it('dummyVerify always answers false', async () => {
    await expect(hasher.dummyVerify('anything')).resolves.toBe(false);
  });

  it('runs no more than the concurrency cap of hashes, verifies and dummy verifies at once', async () => {
    let running = 0;
    let peak = 0;
    let started = 0;
    const gates: Array<() => void> = [];
    const work = async <T>(value: T): Promise<T> => {
      running++;
      started++;
      peak = Math.max(peak, running);
      await new Promise<void>((resolve) => gates.push(resolve));
      running--;
      return value;
    };
    const fake = { hash: () => work('$argon2id$fake'), verify: () => work(true) };
    const capped = createPasswordHasher(params, 2, fake as never);
    const all = Promise.all([...Array.from({ length: 6 }, () => capped.verify('$argon2id$x', 'p')), capped.hash('p'), capped.dummyVerify('p')]);
    // Open the gates one at a time; after each, the cap must still hold.
    while (started < 9 || running > 0) {
      await new Promise((r) => setImmediate(r));
      expect(running).toBeLessThanOrEqual(2);
      gates.shift()?.();
    }
    await all;
    expect(peak).toBe(2);
    expect(started).toBe(9); // 6 verifies, 1 hash, and the dummy's own hash + verify
  });

  it('a dummy hash that failed is made again at the next dummy verify, not kept', async () => {
    let hashes = 0;
    const fake = {
      hash: async () => {
        hashes++;
        if (hashes === 1) throw new Error('out of memory');
        return '$argon2id$fake';
      },
      verify: async () => true,
    };
    const flaky = createPasswordHasher(params, 2, fake as never);
    await expect(flaky.dummyVerify('p')).rejects.toThrow('out of memory');
    await expect(flaky.dummyVerify('p')).resolves.toBe(false);
    await expect(flaky.dummyVerify('p')).resolves.toBe(false);
    expect(hashes).toBe(2);
  });
});
