import Redis from 'ioredis';
import { createLockout, type LockoutConfig } from '../../src/policy/lockout';
import { isCardauthError } from '../../src/errors';
import { failAttempt } from '../helpers/attempts';
import { startRedis, type TestRedis } from '../helpers/redis';

const CONFIG: LockoutConfig = {
  attempts: 5,
  windowSec: 900,
  durationSec: 900,
  ipAttempts: 1000,
  cardAttempts: 5,
  cardWindowSec: 900,
  cardDurationSec: 900,
  cardStepAttempts: 3,
  cardStepTtlSec: 120,
  ipJunkAttempts: 1000,
  sessionJunkAttempts: 1000,
  sessionMaxSec: 43200,
};

describe('lockout: the attempts policy (real Redis)', () => {
  let r: TestRedis;
  beforeAll(async () => {
    r = await startRedis();
  });
  afterAll(() => r.stop());

  const make = (over: Partial<LockoutConfig> = {}) => createLockout({ redis: r.client(), config: { ...CONFIG, ...over } });
  let n = 0;
  const subject = (ip = '10.0.0.1') => ({ accountId: `acc_${++n}`, ip, sessionId: `s_${n}` });

  it('the 5th attempt is the last: it is taken, then every attempt is refused before any verify, until the lock ends', async () => {
    const lockout = make();
    const s = subject();
    for (let i = 1; i <= 4; i++) expect(await failAttempt(lockout, s)).toBe(false);
    expect(await failAttempt(lockout, s)).toBe(true);
    const refused = await lockout.begin({ ...s, sessionId: 'another' });
    expect(refused).toMatchObject({ ok: false, refused: 'account' });
    if (!refused.ok && 'retryAfterMs' in refused) expect(refused.retryAfterMs).toBeGreaterThan(899_000);
    expect(await lockout.accountCount(s.accountId)).toMatchObject({ failures: 5 }); // refusals take nothing
  });

  it('50 attempts begun in parallel on one account: exactly 5 are taken, the rest refused', async () => {
    const lockout = make();
    const s = subject();
    const starts = await Promise.all(Array.from({ length: 50 }, (_, i) => lockout.begin({ ...s, sessionId: `par_${n}_${i}` })));
    expect(starts.filter((x) => x.ok)).toHaveLength(5);
    expect(starts.filter((x) => x.ok && x.lastAttempt)).toHaveLength(1);
    expect(starts.filter((x) => !x.ok && x.refused === 'account')).toHaveLength(45);
    expect(await lockout.accountCount(s.accountId)).toMatchObject({ failures: 5 });
  });

  it("a success gives its attempt back to the IP and clears the account's failures; a failure keeps it", async () => {
    const lockout = make({ attempts: 2, ipAttempts: 2 });
    const s = subject('10.0.0.2');
    await failAttempt(lockout, s);
    const start = await lockout.begin(s);
    expect(start).toMatchObject({ ok: true, lastAttempt: true });
    if (start.ok) await lockout.end(s, start.token, 'success');
    expect(await lockout.accountCount(s.accountId)).toEqual({ failures: 0, msLeft: 0 });
    // The IP keeps the failure: one more reaches its limit.
    await failAttempt(lockout, s);
    expect(await lockout.gate(s.ip, 'x')).toMatchObject({ locked: true, scope: 'ip' });
  });

  it('an attempt nothing judged (void) goes back to the account and the IP alike', async () => {
    const lockout = make({ attempts: 2, ipAttempts: 2 });
    const s = subject('10.0.0.3');
    await failAttempt(lockout, s);
    const start = await lockout.begin(s);
    if (start.ok) await lockout.end(s, start.token, 'void');
    expect(await lockout.accountCount(s.accountId)).toMatchObject({ failures: 1 });
    expect(await lockout.gate(s.ip, 'x')).toEqual({ locked: false, junkLimited: false });
  });

  it('one attempt in flight per session: a second is refused as busy until the first ends', async () => {
    const lockout = make();
    const s = subject();
    const first = await lockout.begin(s);
    expect(first.ok).toBe(true);
    expect(await lockout.begin(s)).toEqual({ ok: false, refused: 'busy' });
    if (first.ok) await lockout.end(s, first.token, 'failure');
    expect((await lockout.begin(s)).ok).toBe(true);
  });

  it('an attempt that outlived its hold does not free the session for the attempt that holds it now', async () => {
    const lockout = make();
    const s = subject();
    const first = await lockout.begin(s);
    await r.client().del(`pw:busy:${s.sessionId}`); // as if its hold had expired
    const second = await lockout.begin(s);
    expect(second.ok).toBe(true);
    if (first.ok) await lockout.end(s, first.token, 'failure');
    expect(await lockout.begin(s)).toEqual({ ok: false, refused: 'busy' });
  });

  it('a stored card step allows 3 attempts, then it is used up; a new card step starts again', async () => {
    const lockout = make();
    const s = { ...subject(), cardStepAt: 1000 };
    for (let i = 0; i < 3; i++) {
      const start = await lockout.begin(s);
      expect(start.ok).toBe(true);
      if (start.ok) await lockout.end(s, start.token, 'failure');
    }
    expect(await lockout.begin(s)).toEqual({ ok: false, refused: 'card_step_used_up' });
    expect((await lockout.begin({ ...s, cardStepAt: 2000 })).ok).toBe(true);
  });

  it("a refusal for a spent budget uses up the card step too, so one tap cannot ask for ever; a void attempt gives its card-step attempt back", async () => {
    const lockout = make({ attempts: 1 });
    const s = subject();
    await failAttempt(lockout, s);
    const onTap = { ...s, sessionId: 'tap', cardStepAt: 5 };
    for (let i = 0; i < 3; i++) expect(await lockout.begin(onTap)).toMatchObject({ ok: false, refused: 'account' });
    expect(await lockout.begin(onTap)).toEqual({ ok: false, refused: 'card_step_used_up' });

    const other = { ...subject(), cardStepAt: 6 };
    for (let i = 0; i < 4; i++) {
      const start = await lockout.begin(other);
      expect(start.ok).toBe(true);
      if (start.ok) await lockout.end(other, start.token, 'void');
    }
  });

  it('an IP over its login budget is refused whatever the account; junk never spends it', async () => {
    const lockout = make({ ipAttempts: 3, ipJunkAttempts: 5, sessionJunkAttempts: 100 });
    for (let i = 0; i < 10; i++) await lockout.recordJunk('192.0.2.7', `sess_${i}`);
    expect(await lockout.gate('192.0.2.7', 'fresh')).toMatchObject({ locked: false, junkLimited: true });
    expect((await lockout.begin({ accountId: 'acc_junk', ip: '192.0.2.7', sessionId: 'j' })).ok).toBe(true);
    for (let i = 0; i < 3; i++) await lockout.recordIpFailure('192.0.2.8');
    expect(await lockout.gate('192.0.2.8', 'fresh')).toMatchObject({ locked: true, scope: 'ip' });
    expect(await lockout.begin({ accountId: 'acc_other', ip: '192.0.2.8', sessionId: 'k' })).toMatchObject({ ok: false, refused: 'ip' });
    expect(await lockout.gate('192.0.2.9', 'fresh')).toEqual({ locked: false, junkLimited: false });
  });

  it("a session over its junk budget is refused at the gate; other sessions of the IP are not", async () => {
    const lockout = make({ sessionJunkAttempts: 3 });
    for (let i = 0; i < 3; i++) await lockout.recordJunk('192.0.2.30', 'noisy');
    expect(await lockout.gate('192.0.2.30', 'noisy')).toMatchObject({ locked: true, scope: 'session' });
    expect(await lockout.gate('192.0.2.30', 'quiet')).toEqual({ locked: false, junkLimited: false });
  });

  it('unlock failures are counted atomically: 8 at once count 1..8', async () => {
    const lockout = make();
    const counts = await Promise.all(Array.from({ length: 8 }, () => lockout.unlockFailure('locked-session')));
    expect([...counts].sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(await r.client().ttl('rl:unlock:locked-session')).toBeGreaterThan(43000);
  });

  it('accountCount answers the count and the time left as stored; an officer unlock ends a lock', async () => {
    const lockout = make({ attempts: 2, windowSec: 60, durationSec: 600 });
    const s = subject();
    expect(await lockout.accountCount(s.accountId)).toEqual({ failures: 0, msLeft: 0 });
    await failAttempt(lockout, s);
    const one = await lockout.accountCount(s.accountId);
    expect(one.failures).toBe(1);
    expect(one.msLeft).toBeGreaterThan(59_000); // the window
    await failAttempt(lockout, s);
    const locked = await lockout.accountCount(s.accountId);
    expect(locked.failures).toBe(2);
    expect(locked.msLeft).toBeGreaterThan(599_000); // the lock
    await lockout.unlock(s.accountId);
    expect((await lockout.begin({ ...s, sessionId: 'after-unlock' })).ok).toBe(true);
  });

  it('the lock ends after its duration, by Redis\'s clock', async () => {
    const lockout = make({ attempts: 2, windowSec: 60, durationSec: 1 });
    const s = subject();
    await failAttempt(lockout, s);
    await failAttempt(lockout, s);
    expect((await lockout.begin({ ...s, sessionId: 'during' })).ok).toBe(false);
    await new Promise((res) => setTimeout(res, 1100));
    expect((await lockout.begin({ ...s, sessionId: 'after' })).ok).toBe(true);
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
    const lockout = createLockout({ redis: client, config: { ...CONFIG, windowSec: 60, durationSec: 60 } });
    const s = subject();
    await failAttempt(lockout, s);

    await r.kill();
    await status((st) => st !== 'ready');
    const code = async (p: Promise<unknown>) => p.then(() => 'no-error', (e: unknown) => (isCardauthError(e) ? e.code : 'untyped'));
    expect(await code(lockout.begin(s))).toBe('unavailable');
    expect(await code(lockout.gate(s.ip, s.sessionId))).toBe('unavailable');
    expect(await code(lockout.recordIpFailure(s.ip))).toBe('unavailable');
    expect(await code(lockout.recordJunk(s.ip, s.sessionId))).toBe('unavailable');
    expect(await code(lockout.unlockFailure(s.sessionId))).toBe('unavailable');
    expect(await code(lockout.accountCount(s.accountId))).toBe('unavailable');

    await r.start();
    await status((st) => st === 'ready');
    expect(await lockout.accountCount(s.accountId)).toMatchObject({ failures: 1 }); // the failure before the outage, kept on disk
    client.disconnect();
  });
});
