import * as nodeArgon2 from 'argon2';
import { createPasswordHasher } from '../../src/policy/password-hasher';
import { limitConcurrency } from '../../src/policy/limit-concurrency';

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

  it('runs no more than the concurrency cap at once', async () => {
    const limit = limitConcurrency(2);
    let running = 0;
    let peak = 0;
    const task = () =>
      limit(async () => {
        running++;
        peak = Math.max(peak, running);
        await new Promise((r) => setImmediate(r));
        running--;
      });
    await Promise.all(Array.from({ length: 10 }, task));
    expect(peak).toBe(2);
  });
});
