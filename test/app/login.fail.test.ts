import { generateKeyPair } from 'jose';
import { auditRecords, lastAudit } from '../helpers/audit';
import { manualClock, suiteServer, type TestAgent, type TestServer } from '../helpers/app';

const PASSWORD = 'Верный-пароль-2026!';
const GENERIC = { error: { code: 'login_failed', message: 'login failed' } };

describe('the password step refuses with one generic answer', () => {
  let srv: TestServer;
  let agent: TestAgent;
  const clock = manualClock();
  suiteServer({ clock, env: { CARDAUTH_LOCKOUT_DURATION_SEC: '1', CARDAUTH_ALLOW_BELOW_PROFILE: 'true', CARDAUTH_IP_ATTEMPTS: '1000' } }, async (s, a) => {
    [srv, agent] = [s, a];
    await srv.account('sidorova', PASSWORD, '04000000000001');
    await srv.account('kuznetsov', 'Другой-пароль-2026!', '04000000000002');
    await srv.account('lockme', PASSWORD, '04000000000003');
    await srv.account('recovers', PASSWORD, '04000000000005');
    const blocked = await srv.account('blocked', PASSWORD, '04000000000004');
    await srv.services.accounts.setStatus(blocked.id, 'blocked');
  });

  it('wrong password', async () => {
    const res = await srv.login(srv.client(), agent, '04000000000001', 'sidorova', 'не-тот-пароль');
    expect(res.status).toBe(401);
    expect(res.json).toEqual(GENERIC);
    expect(await lastAudit(srv.redis, 'password.checked')).toMatchObject({ outcome: 'failure', reason: 'wrong_password', cardUid: '04000000000001' });
  });

  it('unknown account answers exactly like a wrong password', async () => {
    const res = await srv.login(srv.client(), agent, '04000000000001', 'nobody-here', PASSWORD);
    expect(res.status).toBe(401);
    expect(res.json).toEqual(GENERIC);
    expect(await lastAudit(srv.redis, 'password.checked')).toMatchObject({ outcome: 'failure', reason: 'unknown_account', subject: { login: 'nobody-here' } });
  });

  it("the card of another account, with that other account's right password", async () => {
    const res = await srv.login(srv.client(), agent, '04000000000001', 'kuznetsov', 'Другой-пароль-2026!');
    expect(res.status).toBe(401);
    expect(res.json).toEqual(GENERIC);
    expect(await lastAudit(srv.redis, 'password.checked')).toMatchObject({ outcome: 'failure', reason: 'card_mismatch' });
  });

  it('a blocked account', async () => {
    const res = await srv.login(srv.client(), agent, '04000000000004', 'blocked', PASSWORD);
    expect(res.status).toBe(401);
    expect(res.json).toEqual(GENERIC);
    expect(await lastAudit(srv.redis, 'password.checked')).toMatchObject({ reason: 'account_blocked' });
  });

  it('the password step without a card step', async () => {
    const c = srv.client();
    await c.post('/auth/nonce');
    const res = await c.post('/auth/password', { login: 'sidorova', password: PASSWORD });
    expect(res.status).toBe(401);
    expect(res.json.error.code).toBe('card_step_required');
    expect(await lastAudit(srv.redis, 'password.checked')).toMatchObject({ outcome: 'failure', reason: 'no_card_step', subject: { login: 'sidorova' } });
  });

  it('a card step older than the nonce lifetime no longer counts', async () => {
    const c = srv.client();
    const statement = await srv.statementFor(c, agent, '04000000000001');
    expect((await c.post('/auth/card', { statement })).status).toBe(200);
    clock.advance(srv.config.CARDAUTH_NONCE_TTL_SEC * 1000 + 1);
    const res = await c.post('/auth/password', { login: 'sidorova', password: PASSWORD });
    expect(res.json.error.code).toBe('card_step_required');
  });

  it('locks after 5 failures (even the right password), says for how long, and unlocks when the time is up', async () => {
    for (let i = 0; i < 5; i++) {
      const res = await srv.login(srv.client(), agent, '04000000000003', 'lockme', `wrong-${i}`);
      expect(res.json).toEqual(GENERIC);
    }
    expect(await lastAudit(srv.redis, 'account.locked')).toMatchObject({ outcome: 'success', reason: 'failed_attempts' });
    const locked = await srv.login(srv.client(), agent, '04000000000003', 'lockme', PASSWORD);
    expect(locked.status).toBe(423);
    expect(locked.json.error.code).toBe('locked');
    expect(locked.json.error.retryAfterSec).toBe(1);
    expect(locked.headers.get('retry-after')).toBe('1');
    expect(await lastAudit(srv.redis, 'password.checked')).toMatchObject({ outcome: 'failure', reason: 'locked' });

    await new Promise((r) => setTimeout(r, 1100)); // the lock is a Redis TTL, on Redis's clock
    const after = await srv.login(srv.client(), agent, '04000000000003', 'lockme', PASSWORD);
    expect(after.status).toBe(200);
  });

  it('a success clears the failures before it: 4 failures, a success, 4 more failures do not lock', async () => {
    const fail4 = async () => {
      for (let i = 0; i < 4; i++) expect((await srv.login(srv.client(), agent, '04000000000005', 'recovers', `wrong-${i}`)).json).toEqual(GENERIC);
    };
    await fail4();
    expect((await srv.login(srv.client(), agent, '04000000000005', 'recovers', PASSWORD)).status).toBe(200);
    await fail4();
    expect((await srv.login(srv.client(), agent, '04000000000005', 'recovers', PASSWORD)).status).toBe(200);
  });

});

describe('a locked account is only said after a valid card step', () => {
  let srv: TestServer;
  let agent: TestAgent;
  // A lock long enough that no slow machine sees it end during the test.
  suiteServer({ env: { CARDAUTH_LOCKOUT_DURATION_SEC: '600', CARDAUTH_ALLOW_BELOW_PROFILE: 'true', CARDAUTH_IP_ATTEMPTS: '1000' } }, async (s, a) => {
    [srv, agent] = [s, a];
    await srv.account('lockedcard', PASSWORD, '04000000000006');
  });

  it('a forged statement for a locked account\'s card gets card_rejected; its real card then gets locked', async () => {
    for (let i = 0; i < 5; i++) expect((await srv.login(srv.client(), agent, '04000000000006', 'lockedcard', `wrong-${i}`)).json).toEqual(GENERIC);
    // Signed by a key that is not the agent's: refused as a card, the lock not mentioned.
    const { privateKey } = await generateKeyPair('EdDSA');
    const c = srv.client();
    const res = await c.post('/auth/card', { statement: await srv.statementFor(c, { ...agent, key: { ...agent.key, privateKey } }, '04000000000006') });
    expect(res.status).toBe(401);
    expect(res.json.error.code).toBe('card_rejected');
    expect((await srv.login(srv.client(), agent, '04000000000006', 'lockedcard', PASSWORD)).json.error.code).toBe('locked');
  });
});

describe('the per-IP limit', () => {
  let srv: TestServer;
  let agent: TestAgent;
  suiteServer({ env: { CARDAUTH_IP_ATTEMPTS: '3' } }, async (s, a) => {
    [srv, agent] = [s, a];
    await srv.account('ip-a', PASSWORD, '04000000000011');
  });

  it('refuses the address after its failures, for any card or account', async () => {
    for (let i = 0; i < 3; i++) {
      const c = srv.client();
      await c.post('/auth/card', { statement: await srv.statementFor(c, agent, '04999999999999') });
    }
    const c = srv.client();
    const res = await c.post('/auth/card', { statement: await srv.statementFor(c, agent, '04000000000011') });
    expect(res.status).toBe(429);
    expect(res.json.error.code).toBe('rate_limited');
    // Audited too, with where it came from and nothing of the statement (it was not read)...
    const rec = await lastAudit(srv.redis, 'card.presented');
    expect(rec).toMatchObject({ outcome: 'failure', reason: 'ip_limited', source: { ip: expect.any(String) } });
    expect(rec).not.toHaveProperty('cardUid');
    // ...once per lock period: a client that keeps trying is refused without growing the trail.
    const limited = async () => (await auditRecords(srv.redis, 'card.presented')).filter((r) => r.reason === 'ip_limited').length;
    for (let i = 0; i < 3; i++) {
      const again = srv.client();
      expect((await again.post('/auth/card', { statement: await srv.statementFor(again, agent, '04000000000011') })).status).toBe(429);
    }
    expect(await limited()).toBe(1);
  });
});

describe('a password step with no card step is junk: it cannot lock out the address', () => {
  let srv: TestServer;
  let agent: TestAgent;
  suiteServer({ env: { CARDAUTH_IP_ATTEMPTS: '3' } }, async (s, a) => {
    [srv, agent] = [s, a];
    await srv.account('ip-c', PASSWORD, '04000000000031');
  });

  it('60 password requests without a card step are audited, and a real login from the address still passes', async () => {
    for (let i = 0; i < 60; i++) {
      const res = await srv.client().post('/auth/password', { login: 'ip-c', password: PASSWORD });
      expect(res.json.error.code).toBe('card_step_required');
    }
    expect((await auditRecords(srv.redis, 'password.checked')).filter((r) => r.reason === 'no_card_step')).toHaveLength(60);
    expect((await srv.login(srv.client(), agent, '04000000000031', 'ip-c', PASSWORD)).status).toBe(200);
  });
});

describe('logins started per address', () => {
  let srv: TestServer;
  // Behind a trusted proxy, so each test client can stand for its own address.
  suiteServer({ env: { CARDAUTH_NONCE_PER_MIN: '3', CARDAUTH_TRUST_PROXY: 'loopback' } }, (s) => {
    srv = s;
  });

  it('an address that starts too many logins in a minute gets rate_limited; another address does not', async () => {
    const from = (ip: string) => srv.client({ 'x-forwarded-for': ip });
    for (let i = 0; i < 3; i++) expect((await from('192.0.2.50').post('/auth/nonce')).status).toBe(200);
    const refused = await from('192.0.2.50').post('/auth/nonce');
    expect(refused.status).toBe(429);
    expect(refused.json.error.code).toBe('rate_limited');
    expect((await from('192.0.2.51').post('/auth/nonce')).status).toBe(200);
  });
});

describe('the per-IP limit in the card + password flow', () => {
  let srv: TestServer;
  let agent: TestAgent;
  suiteServer({ env: { CARDAUTH_IP_ATTEMPTS: '3' } }, async (s, a) => {
    [srv, agent] = [s, a];
    await srv.account('ip-b', PASSWORD, '04000000000021');
  });

  it('checks the IP again at the password request: failures after the card step refuse it', async () => {
    const c = srv.client();
    expect((await c.post('/auth/card', { statement: await srv.statementFor(c, agent, '04000000000021') })).status).toBe(200);
    for (let i = 0; i < 3; i++) {
      const other = srv.client();
      await other.post('/auth/card', { statement: await srv.statementFor(other, agent, '04999999999999') });
    }
    const res = await c.post('/auth/password', { login: 'ip-b', password: PASSWORD });
    expect(res.status).toBe(429);
    expect(res.json.error.code).toBe('rate_limited');
    expect(await lastAudit(srv.redis, 'password.checked')).toMatchObject({ outcome: 'failure', reason: 'ip_limited' });
  });
});
