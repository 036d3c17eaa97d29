import type { AuditRecord } from '../../src/audit/record';
import { readAuditDurability } from '../../src/audit/durability';
import { verifyAuditChain } from '../../src/audit/verify';
import { sha256Hex } from '../../src/audit/record';
import { auditRecords } from '../helpers/audit';
import { pageCacheLossEnv } from '../helpers/page-cache-loss';
import { sessionIdOf, startTestServer, type TestServer } from '../helpers/app';
import { startRedis, type TestRedis } from '../helpers/redis';

const PASSWORD = 'Durable-pass-2026!';
const ACCOUNTS = 6;
const ROUNDS = 5;
const APPENDERS = 4;

interface Burst {
  /** Audit appends the log acknowledged (resolved) before redis-server was killed. */
  acked: AuditRecord[];
  /** Session id hashes of the logins that answered 200. */
  sessions: string[];
  /** After the restart: acknowledged appends and logins missing from the stream. */
  missing: { records: number; sessions: number };
  /** Records in the stream after the restart. */
  count: number;
  verified: Awaited<ReturnType<typeof verifyAuditChain>>;
}

/**
 * A burst of real logins (ACCOUNTS at once, ROUNDS each) through the app, with APPENDERS more
 * audit appends in flight through the same log all along; redis-server is killed with SIGKILL in
 * the same tick the last login is answered, then restarted from its files in the same dir.
 */
async function burstThenKill(redis: TestRedis, srv: TestServer): Promise<Burst> {
  const agent = await srv.agent();
  const uids = Array.from({ length: ACCOUNTS }, (_, i) => `04A1B2C3D4E5${String(i).padStart(2, '0')}`);
  for (const [i, uid] of uids.entries()) await srv.account(`durable${i}`, PASSWORD, uid);

  const acked: AuditRecord[] = [];
  const sessions: string[] = [];
  let running = true;
  const appenders = Array.from({ length: APPENDERS }, async (_, w) => {
    for (let n = 0; running; n++) {
      try {
        acked.push(await srv.services.audit.append({ type: 'audit.viewed', outcome: 'success', subject: { login: `auditor${w}` }, details: { n } }));
      } catch {
        return; // Redis is gone: this one was not acknowledged
      }
    }
  });
  await Promise.all(
    uids.map(async (uid, i) => {
      for (let r = 0; r < ROUNDS; r++) {
        const c = srv.client();
        const res = await srv.login(c, agent, uid, `durable${i}`, PASSWORD);
        expect(res.status).toBe(200);
        sessions.push(sha256Hex(sessionIdOf(c)));
      }
    }),
  );
  // Right after the last acknowledgement, appends still in flight: SIGKILL is sent synchronously here.
  const killed = redis.kill('SIGKILL');
  running = false;
  await killed;
  await Promise.all(appenders);

  await redis.start();
  const client = redis.client();
  const stored = await auditRecords(client);
  const hashes = new Map((await client.xrange('audit:log', '-', '+')).map(([, f]) => [JSON.parse(f[1]!).seq as number, f[3]]));
  const created = new Set(stored.filter((r) => r.type === 'session.created').map((r) => r.sessionIdHash as string));
  return {
    acked,
    sessions,
    missing: {
      records: acked.filter((r) => hashes.get(r.seq) !== r.hash).length,
      sessions: sessions.filter((s) => !created.has(s)).length,
    },
    count: stored.length,
    verified: await verifyAuditChain({ redis: client }),
  };
}

describe('the audit survives a kill -9 of redis-server (issue 11 §3)', () => {
  let redis: TestRedis | undefined;
  let srv: TestServer | undefined;
  afterEach(async () => {
    await srv?.close();
    await redis?.stop();
    srv = redis = undefined;
  });

  it('appendonly yes + appendfsync always: every acknowledged login and record is there after the restart, and the chain verifies', async () => {
    redis = await startRedis({ appendfsync: 'always' });
    srv = await startTestServer(redis);
    const burst = await burstThenKill(redis, srv);
    expect(burst.sessions).toHaveLength(ACCOUNTS * ROUNDS);
    expect(burst.acked.length).toBeGreaterThan(0);
    expect(burst.missing).toEqual({ records: 0, sessions: 0 });
    expect(burst.verified).toMatchObject({ ok: true, count: burst.count });
    // 3 records per login (card.presented, password.checked, session.created), the appends, and nothing acknowledged lost.
    expect(burst.count).toBeGreaterThanOrEqual(ACCOUNTS * ROUNDS * 3 + burst.acked.length);
  });

  it('a machine crash (the AOF\'s writes not fsynced are lost with the process): with appendfsync always nothing acknowledged is lost', async () => {
    redis = await startRedis({ appendfsync: 'always', env: pageCacheLossEnv() });
    srv = await startTestServer(redis);
    const burst = await burstThenKill(redis, srv);
    expect(burst.acked.length).toBeGreaterThan(0);
    expect(burst.missing).toEqual({ records: 0, sessions: 0 });
    expect(burst.verified).toMatchObject({ ok: true, count: burst.count });
  });

  it('the check sees a loss: the same crash with appendfsync everysec loses acknowledged records, and the shorter chain still verifies', async () => {
    redis = await startRedis({ appendfsync: 'everysec', env: pageCacheLossEnv() });
    srv = await startTestServer(redis);
    const burst = await burstThenKill(redis, srv);
    expect(burst.missing.records).toBeGreaterThan(0);
    // Cut from the end only: what is left is an intact chain (signed checkpoints reveal the cut).
    expect(burst.verified).toMatchObject({ ok: true, count: burst.count });
  });

  it('the check sees a loss: with no append-only file (Debian\'s default redis.conf) the same burst is gone after the restart', async () => {
    redis = await startRedis({ extraArgs: ['--appendonly', 'no'] });
    srv = await startTestServer(redis);
    const burst = await burstThenKill(redis, srv);
    expect(burst.missing).toEqual({ records: burst.acked.length, sessions: ACCOUNTS * ROUNDS });
  });
});

describe('readAuditDurability', () => {
  let redis: TestRedis | undefined;
  afterEach(async () => {
    await redis?.stop();
    redis = undefined;
  });

  it('appendonly yes + appendfsync always is safe', async () => {
    redis = await startRedis({ appendfsync: 'always' });
    expect(await readAuditDurability(redis.client())).toEqual({ state: 'safe' });
  });

  it('everysec, or no append-only file, is unsafe, with what Redis reported', async () => {
    redis = await startRedis({ appendfsync: 'everysec' });
    expect(await readAuditDurability(redis.client())).toEqual({ state: 'unsafe', appendonly: 'yes', appendfsync: 'everysec' });
    await redis.client().config('SET', 'appendonly', 'no');
    await redis.client().config('SET', 'appendfsync', 'always');
    expect(await readAuditDurability(redis.client())).toEqual({ state: 'unsafe', appendonly: 'no', appendfsync: 'always' });
  });
});
