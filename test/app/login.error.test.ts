import { verifyAuditChain } from '../../src/audit/verify';
import { auditRecords, lastAudit, withAuditUnusable } from '../helpers/audit';
import type { TestRedis } from '../helpers/redis';
import { startTestServer, suiteServer, type TestAgent, type TestServer, type TestClient } from '../helpers/app';

const PASSWORD = 'Верный-пароль-2026!';
const UID = '04000000000021';

async function eventually<T>(probe: () => Promise<T>, ok: (v: T) => boolean, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (ok(v) || Date.now() > deadline) return v;
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('dependencies fail: the login fails closed with 503 and recovers by itself', () => {
  let srv: TestServer;
  let agent: TestAgent;
  let redis: TestRedis;
  suiteServer({}, async (s, a, r) => {
    [srv, agent, redis] = [s, a, r];
    await srv.account('morozova', PASSWORD, UID);
  });

  it('Redis stopped mid-login: 503 with no stack trace, then a login works again without a restart', async () => {
    const c = srv.client();
    const statement = await srv.statementFor(c, agent, UID);
    await redis.kill();

    const card = await c.post('/auth/card', { statement });
    expect(card.status).toBe(503);
    expect(card.json.error.code).toBe('unavailable');
    expect(card.text).not.toMatch(/\n\s+at |ECONNREFUSED|Redis/);
    const fresh = srv.client();
    expect((await fresh.post('/auth/nonce')).status).toBe(503);
    expect((await srv.client().get('/readyz')).status).toBe(503);
    expect((await srv.client().get('/healthz')).status).toBe(200);

    await redis.start();
    const ready = await eventually(() => srv.client().get('/readyz'), (r) => r.status === 200);
    expect(ready.status).toBe(200);
    const again = await srv.login(srv.client(), agent, UID, 'morozova', PASSWORD);
    expect(again.status).toBe(200);
  });

  it('a session opened before the outage keeps working after it', async () => {
    const c = srv.client();
    expect((await srv.login(c, agent, UID, 'morozova', PASSWORD)).status).toBe(200);
    await redis.kill();
    expect((await c.get('/auth/session')).status).toBe(503);
    await redis.start();
    const back = await eventually(() => c.get('/auth/session'), (r) => r.status === 200);
    expect(back.json.login).toBe('morozova');
  });

  async function countLoggedIn(): Promise<number> {
    const keys = await srv.redis.keys('sess:*');
    const users = await Promise.all(keys.map(async (k) => JSON.parse((await srv.redis.get(k)) ?? '{}').passport?.user?.login));
    return users.filter(Boolean).length;
  }

  it('audit unwritable at the password step: 503 and no session (session.created itself failing: test/strategies/open-session)', async () => {
    const c: TestClient = srv.client();
    const statement = await srv.statementFor(c, agent, UID);
    expect((await c.post('/auth/card', { statement })).status).toBe(200);
    const before = await auditRecords(srv.redis, 'session.created');
    const checkedBefore = (await auditRecords(srv.redis, 'password.checked')).filter((r) => r.outcome === 'success');
    const loggedInBefore = await countLoggedIn();

    await withAuditUnusable(redis.client(), async () => {
      const res = await c.post('/auth/password', { login: 'morozova', password: PASSWORD });
      expect(res.status).toBe(503);
      expect(res.json.error.code).toBe('audit_unavailable');
      expect((await c.get('/auth/session')).status).toBe(401);
      expect((await srv.client().get('/readyz')).status).toBe(503);
      expect(await countLoggedIn()).toBe(loggedInBefore); // no session in Redis holds a new logged-in user
    });

    expect(await auditRecords(srv.redis, 'session.created')).toHaveLength(before.length);
    // The password check's success record goes with session.created, in one write: neither was stored.
    expect((await auditRecords(srv.redis, 'password.checked')).filter((r) => r.outcome === 'success')).toHaveLength(checkedBefore.length);
    const again = await srv.login(srv.client(), agent, UID, 'morozova', PASSWORD);
    expect(again.status).toBe(200);
    expect(await countLoggedIn()).toBe(loggedInBefore + 1);
  });

  it('audit unwritable at the card step: 503, and the chain still verifies afterwards', async () => {
    const c = srv.client();
    const statement = await srv.statementFor(c, agent, UID);
    const res = await withAuditUnusable(redis.client(), () => c.post('/auth/card', { statement }));
    expect(res.status).toBe(503);
    expect((await verifyAuditChain({ redis: srv.redis })).ok).toBe(true);
  });
});

describe('РСБ.5: failed audit writes are recorded once the trail is back', () => {
  let srv: TestServer;
  let agent: TestAgent;
  suiteServer({}, async (s, a) => {
    [srv, agent] = [s, a];
    await srv.account('morozova', PASSWORD, UID);
  });

  it('counts the failures while the trail is unwritable and appends audit.write_failed after the next good record', async () => {
    expect((await srv.login(srv.client(), agent, UID, 'morozova', PASSWORD)).status).toBe(200); // the trail exists
    const c = srv.client();
    const statement = await srv.statementFor(c, agent, UID);
    await withAuditUnusable(srv.redis, async () => {
      expect((await c.post('/auth/card', { statement })).status).toBe(503);
      const c2 = srv.client();
      expect((await c2.post('/auth/card', { statement: await srv.statementFor(c2, agent, UID) })).status).toBe(503);
    });

    expect((await srv.login(srv.client(), agent, UID, 'morozova', PASSWORD)).status).toBe(200);
    const rec = await lastAudit(srv.redis, 'audit.write_failed');
    expect(rec).toMatchObject({ outcome: 'failure', reason: 'trail_unwritable', details: { failedWrites: 2 } });
    expect(Date.parse(rec!.details.since)).not.toBeNaN();
    // How long it was down: from the first failure to the first good write, so at least until the last failure.
    const { since, lastFailure, downMs } = rec!.details as { since: string; lastFailure: string; downMs: number };
    expect(downMs).toBeGreaterThanOrEqual(Date.parse(lastFailure) - Date.parse(since));
    expect(downMs).toBeLessThanOrEqual(Date.parse(rec!.ts) - Date.parse(since));
    expect((await verifyAuditChain({ redis: srv.redis })).ok).toBe(true);
  });
  it('a trail that reads but will not write: /readyz answers 503 after a failed write, and records the failures itself once writes work again', async () => {
    expect((await srv.login(srv.client(), agent, UID, 'morozova', PASSWORD)).status).toBe(200);
    const before = (await auditRecords(srv.redis, 'audit.write_failed')).length;
    const c = srv.client();
    const statement = await srv.statementFor(c, agent, UID);
    const [, limit] = (await srv.redis.config('GET', 'maxmemory')) as [string, string];
    await srv.redis.config('SET', 'maxmemory', '1'); // noeviction: every write refused (OOM), reads still answer
    try {
      expect((await c.post('/auth/card', { statement })).status).toBe(503);
      expect((await srv.client().get('/readyz')).status).toBe(503);
    } finally {
      await srv.redis.config('SET', 'maxmemory', limit);
    }
    // No login needed: the next readiness probe writes the record and answers ready.
    expect((await srv.client().get('/readyz')).status).toBe(200);
    const recs = await auditRecords(srv.redis, 'audit.write_failed');
    expect(recs).toHaveLength(before + 1);
    expect(recs[recs.length - 1]).toMatchObject({ reason: 'trail_unwritable' });
  });
});

describe('a session Redis will not store: the step answers 503, never a 200 for a session that does not exist', () => {
  const UID_S = '04000000000022';
  let srv: TestServer;
  let agent: TestAgent;
  let redis: TestRedis;
  let limited: TestServer;
  suiteServer({}, async (s, a, r) => {
    [srv, agent, redis] = [s, a, r];
    await srv.account('sokolova', PASSWORD, UID_S);
    // A second node on the same Redis, as a user that may read everything and write everything but sessions.
    await redis.client().call('ACL', 'SETUSER', 'nosess', 'on', '>nosess-pw', '%R~*', '~nonce:*', '~rl:*', '~audit:*', '+@all');
    limited = await startTestServer({ ...redis, url: `redis://nosess:nosess-pw@127.0.0.1:${redis.port}` });
  });
  afterAll(() => limited?.close());

  it('POST /auth/nonce: 503, although the nonce itself was stored', async () => {
    const before = (await redis.client().keys('nonce:*')).length;
    const res = await limited.client().post('/auth/nonce');
    expect(res.status).toBe(503);
    expect(res.json.error.code).toBe('unavailable');
    expect(await redis.client().keys('nonce:*')).toHaveLength(before + 1);
    expect(await redis.client().keys('sess:*')).toEqual([]);
  });

  it('POST /auth/card: 503, although the card step itself passed', async () => {
    const c = srv.client();
    const statement = await srv.statementFor(c, agent, UID_S, { aud: limited.config.CARDAUTH_PUBLIC_ORIGIN });
    const there = limited.client();
    there.cookie = c.cookie;
    const res = await there.post('/auth/card', { statement });
    expect(res.status).toBe(503);
    expect(await lastAudit(srv.redis, 'card.presented')).toMatchObject({ outcome: 'success', cardUid: UID_S });
  });
});
