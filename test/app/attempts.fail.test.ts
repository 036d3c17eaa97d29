import { signTapout } from '../../src/card-agent/sign-statement';
import { auditRecords } from '../helpers/audit';
import { suiteServer, TestClient, type TestAgent, type TestServer } from '../helpers/app';

// Attempts sent at once, against the real server and Redis (red-team review, issue 8 items 1 and 5).

const PASSWORD = 'Верный-пароль-2026!';

/** Counts the server's argon2 verifies (the real hasher, wrapped: it still verifies). */
function countVerifies(srv: TestServer): { count(): number } {
  const hasher = srv.services.hasher;
  const real = hasher.verify.bind(hasher);
  let n = 0;
  hasher.verify = async (hash, password) => {
    n += 1;
    return real(hash, password);
  };
  return { count: () => n };
}

/** A client whose session has passed the card step with `uid`. */
async function withCardStep(srv: TestServer, agent: TestAgent, uid: string): Promise<TestClient> {
  const c = srv.client();
  const res = await c.post('/auth/card', { statement: await srv.statementFor(c, agent, uid) });
  expect(res.status).toBe(200);
  return c;
}

const codes = (answers: Array<{ status: number; json: any }>) => {
  const out: Record<string, number> = {};
  for (const a of answers) {
    const key = `${a.status} ${a.json?.error?.code ?? 'ok'}`;
    out[key] = (out[key] ?? 0) + 1;
  }
  return out;
};

describe('50 wrong passwords at once on one account (each session with its own passed card step)', () => {
  let srv: TestServer;
  let agent: TestAgent;
  let accountId: string;
  suiteServer({ env: { CARDAUTH_IP_ATTEMPTS: '1000' } }, async (s, a) => {
    [srv, agent] = [s, a];
    ({ id: accountId } = await srv.account('burst', PASSWORD, '04000000000B01'));
  });

  it('lock the account after exactly 5 counted attempts, verify nothing after the 5th, and refuse the right password that comes after', async () => {
    const sessions = await Promise.all(Array.from({ length: 51 }, () => withCardStep(srv, agent, '04000000000B01')));
    const right = sessions.pop()!;
    const verifies = countVerifies(srv);
    const burst = Promise.all(sessions.map((c, i) => c.post('/auth/password', { login: 'burst', password: `wrong-${i}` })));
    // The right password, sent while the burst is still in flight, once the account's budget is spent.
    while (Number(await srv.redis.get(`rl:acct:${accountId}`)) < 5) await new Promise((r) => setTimeout(r, 2));
    const rightAnswer = await right.post('/auth/password', { login: 'burst', password: PASSWORD });
    const answers = await burst;

    expect(codes(answers)).toEqual({ '401 login_failed': 5, '423 locked': 45 });
    expect(rightAnswer.status).toBe(423);
    expect(rightAnswer.json.error.code).toBe('locked');
    expect(verifies.count()).toBe(5);
    expect(await srv.redis.get(`rl:acct:${accountId}`)).toBe('5');
    const checked = await auditRecords(srv.redis, 'password.checked');
    expect(checked.filter((r) => r.reason === 'wrong_password')).toHaveLength(5);
    expect(checked.filter((r) => r.reason === 'locked')).toHaveLength(1); // 46 refusals, recorded once per lock
    expect(await auditRecords(srv.redis, 'account.locked')).toHaveLength(1);
    expect(await auditRecords(srv.redis, 'session.created')).toHaveLength(0);
  });
});

describe('60 wrong passwords at once from one address, over 12 accounts', () => {
  let srv: TestServer;
  let agent: TestAgent;
  const uids = Array.from({ length: 12 }, (_, i) => `04000000000C${String(i).padStart(2, '0')}`);
  suiteServer({ env: { CARDAUTH_IP_ATTEMPTS: '50' } }, async (s, a) => {
    [srv, agent] = [s, a];
    for (const [i, uid] of uids.entries()) await srv.account(`ip-${i}`, PASSWORD, uid);
  });

  it("use up exactly the address's 50 attempts: 50 verifies, and the other 10 refused before any", async () => {
    const sessions = await Promise.all(uids.flatMap((uid, i) => Array.from({ length: 5 }, async () => ({ c: await withCardStep(srv, agent, uid), login: `ip-${i}` }))));
    const verifies = countVerifies(srv);
    const answers = await Promise.all(sessions.map(({ c, login }) => c.post('/auth/password', { login, password: 'wrong' })));
    expect(codes(answers)).toEqual({ '401 login_failed': 50, '429 rate_limited': 10 });
    expect(verifies.count()).toBe(50);
    expect(await srv.redis.get('rl:ip:127.0.0.1')).toBe('50');
  });
});

describe('one password attempt in flight per session, and a card step is good for 3', () => {
  let srv: TestServer;
  let agent: TestAgent;
  suiteServer({ env: { CARDAUTH_IP_ATTEMPTS: '1000', CARDAUTH_LOCKOUT_ATTEMPTS: '20', CARDAUTH_ALLOW_BELOW_PROFILE: 'true' } }, async (s, a) => {
    [srv, agent] = [s, a];
    await srv.account('one-at-a-time', PASSWORD, '04000000000D01');
  });

  it('10 passwords at once in one session: the one in flight is verified, the other 9 refused unread', async () => {
    const c = await withCardStep(srv, agent, '04000000000D01');
    const hasher = srv.services.hasher;
    const real = hasher.verify.bind(hasher);
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    let inVerify!: () => void;
    const verifying = new Promise<void>((r) => (inVerify = r));
    let verifies = 0;
    hasher.verify = async (hash, password) => {
      verifies += 1;
      inVerify();
      await held; // keeps the first attempt in flight until the others have their answers
      return real(hash, password);
    };
    try {
      const first = c.post('/auth/password', { login: 'one-at-a-time', password: PASSWORD });
      await verifying;
      const others = await Promise.all(Array.from({ length: 9 }, () => c.post('/auth/password', { login: 'one-at-a-time', password: PASSWORD })));
      expect(codes(others)).toEqual({ '409 attempt_in_progress': 9 });
      release();
      expect((await first).status).toBe(200);
      expect(verifies).toBe(1);
    } finally {
      hasher.verify = real;
      release();
    }
  });

  it('three wrong passwords use up the card step: the fourth is card_step_required, audited, and the card must be presented again', async () => {
    const c = await withCardStep(srv, agent, '04000000000D01');
    for (let i = 0; i < 3; i++) expect((await c.post('/auth/password', { login: 'one-at-a-time', password: 'wrong' })).json.error.code).toBe('login_failed');
    const fourth = await c.post('/auth/password', { login: 'one-at-a-time', password: PASSWORD });
    expect(fourth.status).toBe(401);
    expect(fourth.json.error.code).toBe('card_step_required');
    const last = (await auditRecords(srv.redis, 'password.checked')).at(-1);
    expect(last).toMatchObject({ outcome: 'failure', reason: 'card_step_used_up', cardUid: '04000000000D01' });
    expect((await c.post('/auth/password', { login: 'one-at-a-time', password: PASSWORD })).json.error.code).toBe('card_step_required');
    // A new tap: a new card step, and the right password logs in.
    expect((await c.post('/auth/card', { statement: await srv.statementFor(c, agent, '04000000000D01') })).status).toBe(200);
    expect((await c.post('/auth/password', { login: 'one-at-a-time', password: PASSWORD })).status).toBe(200);
  });
});

describe('8 wrong unlocks at once on a tap-out-locked session, round after round', () => {
  let srv: TestServer;
  let agent: TestAgent;
  suiteServer({ env: { CARDAUTH_IP_ATTEMPTS: '1000', CARDAUTH_LOCKOUT_ATTEMPTS: '20', CARDAUTH_ALLOW_BELOW_PROFILE: 'true' } }, async (s, a) => {
    [srv, agent] = [s, a];
    await srv.account('unlocker', PASSWORD, '04000000000E01');
  });

  it('count each judged failure once, and end the session at the third', async () => {
    const c = srv.client();
    expect((await srv.login(c, agent, '04000000000E01', 'unlocker', PASSWORD)).status).toBe(200);
    const tapout = await signTapout(agent.key, { aud: srv.config.CARDAUTH_PUBLIC_ORIGIN, uid: '04000000000E01', reader: 'Virtual PCD 00 00', signal: 'tap' }, srv.clock);
    expect((await new TestClient(srv.url, null).post('/agents/events', { statement: tapout })).json).toEqual({ locked: 1 });
    expect((await c.post('/auth/card', { statement: await srv.statementFor(c, agent, '04000000000E01') })).status).toBe(200);

    const seen: Record<string, number> = {};
    for (let round = 0; round < 6 && (await c.get('/auth/session')).json?.error?.code === 'session_locked'; round++) {
      const answers = await Promise.all(Array.from({ length: 8 }, () => c.post('/auth/password', { login: 'unlocker', password: 'wrong' })));
      for (const [k, v] of Object.entries(codes(answers))) seen[k] = (seen[k] ?? 0) + v;
    }
    expect((await c.get('/auth/session')).json.error.code).toBe('unauthenticated');
    const failures = (await auditRecords(srv.redis, 'session.unlocked')).map((r) => r.details?.failures);
    expect(failures).toEqual([1, 2, 3]);
    expect((await auditRecords(srv.redis, 'session.ended')).map((r) => r.reason)).toEqual(['unlock_failures']);
    expect(seen['401 login_failed']).toBe(2);
    expect(seen['401 session_expired']).toBe(1);
  });
});

describe('junk cannot lock out an address (review item 5)', () => {
  let srv: TestServer;
  let agent: TestAgent;
  suiteServer({ env: { CARDAUTH_IP_ATTEMPTS: '3', CARDAUTH_IP_JUNK_ATTEMPTS: '20', CARDAUTH_SESSION_JUNK_ATTEMPTS: '5' } }, async (s, a) => {
    [srv, agent] = [s, a];
    await srv.account('behind-nat', PASSWORD, '04000000000F01');
  });

  it('50 junk statements leave the login budget untouched: a real login from the same address passes; junk over its own budget is 429, audited once', async () => {
    const answers = [];
    for (let i = 0; i < 50; i++) answers.push(await srv.client().post('/auth/card', { statement: `junk-${i}` }));
    expect(codes(answers)).toEqual({ '401 card_rejected': 20, '429 rate_limited': 30 });
    const presented = await auditRecords(srv.redis, 'card.presented');
    expect(presented.filter((r) => r.reason === 'bad_statement')).toHaveLength(20);
    expect(presented.filter((r) => r.reason === 'junk_limited')).toHaveLength(1);
    expect(await srv.redis.get('rl:ip:127.0.0.1')).toBeNull();
    expect((await srv.login(srv.client(), agent, '04000000000F01', 'behind-nat', PASSWORD)).status).toBe(200);
  });

  it('a statement forged with an unknown key is junk too; a signed refusal spends the login budget', async () => {
    const c = srv.client();
    const forged = await srv.statementFor(c, { id: 'ag_0000000000000000', key: { ...agent.key, agentId: 'ag_0000000000000000' } }, '04000000000F01');
    expect((await c.post('/auth/card', { statement: forged })).json.error.code).toBe('rate_limited'); // the IP's junk budget is spent (above)
    expect(await srv.redis.get('rl:ip:127.0.0.1')).toBeNull();
    const unknown = srv.client();
    expect((await unknown.post('/auth/card', { statement: await srv.statementFor(unknown, agent, '04999999999999') })).json.error.code).toBe('card_rejected');
    expect(await srv.redis.get('rl:ip:127.0.0.1')).toBe('1');
  });

  it('a session over its own junk budget is refused, even with a valid card; another session is not', async () => {
    await srv.redis.del('rl:junk:ip:127.0.0.1');
    const noisy = srv.client();
    await noisy.post('/auth/nonce'); // a session with a cookie
    for (let i = 0; i < 5; i++) expect((await noisy.post('/auth/card', { statement: `junk-${i}` })).json.error.code).toBe('card_rejected');
    expect((await noisy.post('/auth/card', { statement: await srv.statementFor(noisy, agent, '04000000000F01') })).json.error.code).toBe('rate_limited');
    const quiet = srv.client();
    expect((await quiet.post('/auth/card', { statement: await srv.statementFor(quiet, agent, '04000000000F01') })).status).toBe(200);
  });
});

describe('an IPv6 client counts as its /64: rotating addresses does not buy new budgets', () => {
  let srv: TestServer;
  // Behind a trusted proxy, so each request can stand for its own address (X-Forwarded-For).
  suiteServer({ env: { CARDAUTH_TRUST_PROXY: 'loopback', CARDAUTH_IP_JUNK_ATTEMPTS: '20' } }, (s) => {
    srv = s;
  });

  it('30 junk statements from 30 addresses of one /64: 20 refused, then 429; another /64 is not held up', async () => {
    const from = (ip: string) => new TestClient(srv.url, srv.config.CARDAUTH_PUBLIC_ORIGIN, { 'x-forwarded-for': ip });
    const answers = [];
    for (let i = 1; i <= 30; i++) answers.push(await from(`2001:db8::${i.toString(16)}`).post('/auth/card', { statement: `junk-${i}` }));
    expect(codes(answers)).toEqual({ '401 card_rejected': 20, '429 rate_limited': 10 });
    expect((await from('2001:db8:0:1::1').post('/auth/card', { statement: 'junk' })).status).toBe(401);
  });
});
