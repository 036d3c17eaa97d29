import Redis from 'ioredis';
import { createLockout } from '../../src/policy/lockout';
import { isCardauthError } from '../../src/errors';
import { startRedis, type TestRedis } from '../helpers/redis';

describe('lockout (real Redis)', () => {
  let r: TestRedis;
  beforeAll(async () => {
    r = await startRedis();
  });
  afterAll(() => r.stop());

  const subject = (n: string) => ({ accountId: `acc_${n}`, ip: `10.0.0.${n.length}` });

  it('locks the account on the 5th failure in the window, not before', async () => {
    const lockout = createLockout({ redis: r.client(), config: { attempts: 5, windowSec: 900, durationSec: 900, ipAttempts: 1000 } });
    const s = subject('five');
    for (let i = 1; i <= 4; i++) {
      expect(await lockout.recordFailure(s)).toEqual({ accountLockedNow: false });
      expect(await lockout.check(s)).toEqual({ locked: false, accountFailures: i });
    }
    expect(await lockout.recordFailure(s)).toEqual({ accountLockedNow: true });
    const state = await lockout.check(s);
    expect(state).toMatchObject({ locked: true, scope: 'account' });
    if (state.locked) expect(state.retryAfterMs).toBeGreaterThan(899_000);
  });

  it('ends the lock after the duration', async () => {
    const lockout = createLockout({ redis: r.client(), config: { attempts: 2, windowSec: 60, durationSec: 1, ipAttempts: 1000 } });
    const s = subject('ends');
    await lockout.recordFailure(s);
    await lockout.recordFailure(s);
    expect((await lockout.check(s)).locked).toBe(true);
    await new Promise((res) => setTimeout(res, 1100)); // Redis expires the block by its own clock
    expect(await lockout.check(s)).toEqual({ locked: false, accountFailures: 0 });
  });

  it('a success clears the count and an officer unlock ends a lock', async () => {
    const lockout = createLockout({ redis: r.client(), config: { attempts: 2, windowSec: 60, durationSec: 60, ipAttempts: 1000 } });
    const s = subject('clear');
    await lockout.recordFailure(s);
    await lockout.recordSuccess(s);
    expect(await lockout.recordFailure(s)).toEqual({ accountLockedNow: false });
    await lockout.recordFailure(s);
    expect((await lockout.check(s)).locked).toBe(true);
    await lockout.unlock(s.accountId);
    expect(await lockout.check(s)).toEqual({ locked: false, accountFailures: 0 });
  });

  it('refuses an IP over its limit whatever the account', async () => {
    const lockout = createLockout({ redis: r.client(), config: { attempts: 100, windowSec: 60, durationSec: 60, ipAttempts: 3 } });
    for (let i = 0; i < 3; i++) await lockout.recordIpFailure('192.0.2.7');
    expect(await lockout.check({ accountId: 'acc_other', ip: '192.0.2.7' })).toMatchObject({ locked: true, scope: 'ip' });
    expect(await lockout.check({ accountId: 'acc_other', ip: '192.0.2.8' })).toEqual({ locked: false, accountFailures: 0 });
  });

  it('checkIp reads only the IP limit and checkAccount only the account', async () => {
    const lockout = createLockout({ redis: r.client(), config: { attempts: 2, windowSec: 60, durationSec: 60, ipAttempts: 3 } });
    const s = { accountId: 'acc_split', ip: '192.0.2.20' };
    await lockout.recordFailure(s);
    await lockout.recordFailure(s);
    expect(await lockout.checkAccount(s.accountId)).toMatchObject({ locked: true, scope: 'account' });
    expect(await lockout.checkIp(s.ip)).toEqual({ locked: false });
    await lockout.recordIpFailure(s.ip);
    expect(await lockout.checkIp(s.ip)).toMatchObject({ locked: true, scope: 'ip' });
    expect(await lockout.checkAccount('acc_other')).toEqual({ locked: false, accountFailures: 0 });
    const state = await lockout.checkIp(s.ip);
    if (state.locked) expect(state.retryAfterMs).toBeGreaterThan(59_000);
  });

  it('fails closed with unavailable when Redis is down', async () => {
    const dead = new Redis({ port: r.port, host: '127.0.0.1', lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 0, retryStrategy: () => null });
    const lockout = createLockout({ redis: dead, config: { attempts: 5, windowSec: 60, durationSec: 60, ipAttempts: 50 } });
    const err = await lockout.check(subject('down')).catch((e: unknown) => e);
    expect(isCardauthError(err, 'unavailable')).toBe(true);
    expect(isCardauthError(await lockout.checkIp('192.0.2.1').catch((e: unknown) => e), 'unavailable')).toBe(true);
    expect(isCardauthError(await lockout.checkAccount('acc_down').catch((e: unknown) => e), 'unavailable')).toBe(true);
    dead.disconnect();
  });
});
