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

  it('accountCount answers the count and the time left as stored, locked or not', async () => {
    const lockout = createLockout({ redis: r.client(), config: { attempts: 2, windowSec: 60, durationSec: 600, ipAttempts: 1000 } });
    const s = subject('count');
    expect(await lockout.accountCount(s.accountId)).toEqual({ failures: 0, msLeft: 0 });
    await lockout.recordFailure(s);
    const one = await lockout.accountCount(s.accountId);
    expect(one.failures).toBe(1);
    expect(one.msLeft).toBeGreaterThan(59_000); // the window
    await lockout.recordFailure(s);
    const locked = await lockout.accountCount(s.accountId);
    expect(locked.failures).toBe(2);
    expect(locked.msLeft).toBeGreaterThan(599_000); // the lock
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

  it('fails closed with unavailable while Redis is down, and counts again once it is back', async () => {
    const client = new Redis({ port: r.port, host: '127.0.0.1', enableOfflineQueue: false, maxRetriesPerRequest: 1, retryStrategy: () => 50 });
    client.on('error', () => undefined);
    const status = (want: (s: string) => boolean) =>
      new Promise<void>((resolve) => {
        const poll = () => (want(client.status) ? resolve() : setTimeout(poll, 10));
        poll();
      });
    await status((s) => s === 'ready');
    const lockout = createLockout({ redis: client, config: { attempts: 5, windowSec: 60, durationSec: 60, ipAttempts: 50 } });
    const s = subject('down');
    await lockout.recordFailure(s);

    await r.kill();
    await status((st) => st !== 'ready');
    const code = async (p: Promise<unknown>) => p.then(() => 'no-error', (e: unknown) => (isCardauthError(e) ? e.code : 'untyped'));
    expect(await code(lockout.check(s))).toBe('unavailable');
    expect(await code(lockout.checkIp(s.ip))).toBe('unavailable');
    expect(await code(lockout.checkAccount(s.accountId))).toBe('unavailable');
    expect(await code(lockout.recordFailure(s))).toBe('unavailable');

    await r.start();
    await status((st) => st === 'ready');
    expect(await lockout.check(s)).toEqual({ locked: false, accountFailures: 1 }); // the failure before the outage, kept on disk
    client.disconnect();
  });
});
