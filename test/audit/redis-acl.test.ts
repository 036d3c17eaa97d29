import { createHash } from 'node:crypto';
import Redis from 'ioredis';
import { systemClock } from '../../src/clock';
import { createCheckpointWriter } from '../../src/audit/checkpoint';
import { createIndexJob } from '../../src/audit/index-job';
import { createAuditIndexer } from '../../src/audit/indexer';
import { generateAuditKey } from '../../src/audit/keys';
import { createAuditLog } from '../../src/audit/log';
import { createAuditQueryService } from '../../src/audit/query-service';
import { fromStreamFields, GENESIS_PREV, parseAuditInput, sealRecordFields } from '../../src/audit/record';
import { archiveName, signSeal } from '../../src/audit/retention-seal';
import { createSiemForwarder } from '../../src/audit/siem-forwarder';
import { openSyslogConnection } from '../../src/audit/syslog-connection';
import { syslogFrame } from '../../src/audit/syslog-format';
import { verifyAuditChain } from '../../src/audit/verify';
import { loadServerConfig } from '../../src/config';
import { connectRedis } from '../../src/redis';
import { silentLogger, type Logger } from '../../src/logger';
import { startServer } from '../../src/server';
import { auditRecords } from '../helpers/audit';
import { startTestServer, TEST_SECRET } from '../helpers/app';
import { freePort } from '../helpers/redis';
import { startAclRedis, type AclRedis, type AclUser } from '../helpers/redis-acl';
import { startRsyslog } from '../helpers/rsyslog';
import { cliEnv, runCli } from '../cli/support';

jest.setTimeout(60_000);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const PASSWORD = 'Acl-login-pass-2026!';
const UID = '04A22BB25C6180';
/** NOPERM from a command; a script's refused call answers "…can't access at least one of the keys…". */
const REFUSED = /NOPERM|can't access at least one of the keys/;

let redis: AclRedis;
const clients: Redis[] = [];
/** A plain ioredis client logged in as `user` (closed after the tests). */
function as(user: AclUser): Redis {
  const c = new Redis(redis.urlAs(user), { maxRetriesPerRequest: 1 });
  clients.push(c);
  return c;
}

beforeAll(async () => {
  redis = await startAclRedis();
});
afterAll(async () => {
  for (const c of clients) c.disconnect();
  await redis.stop();
});
beforeEach(() => redis.client().flushall());

/** Three chained records written by the audit log as the app user. */
async function seedAudit(): Promise<void> {
  const log = createAuditLog({ redis: as('cardauth'), clock: systemClock });
  for (let i = 0; i < 3; i++) await log.append({ type: 'session.created', outcome: 'success', subject: { login: `user${i}` } });
}

describe('the app user (cardauth) can only append to and read audit:*', () => {
  it('DEL, UNLINK, XDEL, XTRIM, SET, RENAME, EXPIRE, COPY onto it, XSETID, XGROUP and a script doing any of it answer NOPERM; the chain is untouched', async () => {
    await seedAudit();
    const app = as('cardauth');
    const [[firstId]] = (await app.xrange('audit:log', '-', '+', 'COUNT', 1)) as [[string, string[]]];
    await app.set('acct:x', 'y');
    const attempts: Array<[string, () => Promise<unknown>]> = [
      ['DEL', () => app.del('audit:log')],
      ['UNLINK', () => app.unlink('audit:log')],
      ['XDEL', () => app.xdel('audit:log', firstId)],
      ['XTRIM', () => app.xtrim('audit:log', 'MAXLEN', 0)],
      ['SET', () => app.set('audit:log', 'x')],
      ['SET another audit key', () => app.set('audit:other', 'x')],
      ['RENAME', () => app.rename('audit:log', 'acct:y')],
      ['RENAME onto it', () => app.rename('acct:x', 'audit:log')],
      ['EXPIRE', () => app.expire('audit:log', 1)],
      ['COPY onto it', () => app.copy('acct:x', 'audit:log', 'REPLACE')],
      ['XSETID', () => app.xsetid('audit:log', '9999999999999-0')],
      ['XGROUP CREATE', () => app.xgroup('CREATE', 'audit:log', 'g', '0')],
      ['EVAL DEL KEYS[1]', () => app.eval("return redis.call('DEL', KEYS[1])", 1, 'audit:log')],
      ['EVAL DEL undeclared', () => app.eval("return redis.call('DEL', 'audit:log')", 0)],
      ['FLUSHALL', () => app.flushall()],
    ];
    for (const [what, attempt] of attempts) await expect(attempt().then(() => what)).rejects.toThrow(REFUSED);
    expect(await app.xlen('audit:log')).toBe(3);
    expect(await verifyAuditChain({ redis: app })).toMatchObject({ ok: true, count: 3 });
    // Its own keys stay fully usable.
    expect(await app.del('acct:x')).toBe(1);
  });

  it('the audit indexer and the query service work as cardauth (append and read only); the index streams cannot be deleted or trimmed', async () => {
    await seedAudit();
    const app = as('cardauth');
    const indexer = createAuditIndexer({ redis: app });
    expect(await indexer.step()).toBe(3);
    expect(await indexer.step()).toBe(0);
    const job = createIndexJob({ redis: app, indexer, logger: silentLogger });
    expect(await job.tick()).toEqual({ outcome: 'indexed', records: 0 });
    const q = createAuditQueryService({ redis: app });
    expect((await q.page({ login: 'USER1' }, { limit: 10 })).entries.map((e) => e.record.subject?.login)).toEqual(['user1']);
    expect((await q.days(Date.now() - 86_400_000, Date.now() + 86_400_000)).reduce((n, d) => n + d.logins, 0)).toBe(3);
    for (const attempt of [() => app.del('audit:ix:cursor'), () => app.xtrim('audit:ix:login:user1', 'MAXLEN', 0), () => app.xdel('audit:ix:cursor', '0-1')]) await expect(attempt()).rejects.toThrow(REFUSED);
  });

  it('cardauth and cardauth-admin may not write audit:anchors (XADD, XADD MAXLEN/MINID, a script) nor any audit key but the streams they append to; they still append to those', async () => {
    await seedAudit();
    await redis.client().xadd('audit:anchors', '*', 'jws', 'x');
    for (const user of ['cardauth', 'cardauth-admin'] as const) {
      const c = as(user);
      const attempts: Array<[string, () => Promise<unknown>]> = [
        ['XADD anchors', () => c.xadd('audit:anchors', '*', 'jws', 'forged')],
        ['XADD anchors MAXLEN', () => c.xadd('audit:anchors', 'MAXLEN', 0, '*', 'jws', 'forged')],
        ['XADD anchors MINID', () => c.xadd('audit:anchors', 'MINID', '9999999999999-0', '*', 'jws', 'forged')],
        ['XADD another audit key', () => c.xadd('audit:other', '*', 'a', 'b')],
        ['EVAL XADD KEYS[1]', () => c.eval("return redis.call('XADD', KEYS[1], '*', 'jws', 'forged')", 1, 'audit:anchors')],
        ['EVAL XADD undeclared', () => c.eval("return redis.call('XADD', 'audit:anchors', '*', 'jws', 'forged')", 0)],
      ];
      for (const [what, attempt] of attempts) await expect(attempt().then(() => `${user}: ${what}`)).rejects.toThrow(REFUSED);
      expect(await c.xrange('audit:anchors', '-', '+')).toHaveLength(1);
      for (const key of ['audit:checkpoints', 'audit:intake', 'audit:ix:login:x']) expect(await c.xadd(key, '*', 'a', 'b')).toMatch(/^\d+-\d+$/);
    }
    expect(await redis.client().xlen('audit:anchors')).toBe(1);
  });

  it('a start cut with XADD MINID (what no ACL forbids) cannot be hidden behind an anchor the app user signs with the servers\' key: NOPERM, and verify reports record_deleted', async () => {
    const keys = [await generateAuditKey()];
    const now = Date.parse('2026-12-01T12:00:00.000Z');
    const clock = { now: () => now };
    const app = as('cardauth');
    const log = createAuditLog({ redis: app, clock });
    for (let i = 1; i <= 6; i++) await log.append({ type: 'session.created', outcome: 'success', subject: { login: `user${i}` } });
    await createCheckpointWriter({ redis: app, clock, keys }).write();
    const stored = await app.xrange('audit:log', '-', '+');
    const rec = (i: number) => fromStreamFields(stored[i - 1]![1], { canonical: false }) as { ok: true; hash: string };
    const t = new Date(now).toISOString();
    const jws = await signSeal(keys[0]!, { archive: archiveName(1, 3), sha256: 'a'.repeat(64), fromSeq: 1, toSeq: 3, count: 3, prevHash: GENESIS_PREV, lastHash: rec(3).hash, cutoff: t, time: t });
    await expect(app.xadd('audit:anchors', '*', 'jws', jws)).rejects.toThrow(REFUSED);
    const { fields } = sealRecordFields(parseAuditInput({ type: 'session.created', outcome: 'success', subject: { login: 'user7' } }), { seq: 7, prev: rec(6).hash, ts: t });
    await (app as unknown as { xadd: (...a: string[]) => Promise<string> }).xadd('audit:log', 'MINID', stored[3]![0], '*', ...fields);
    expect(await redis.client().xlen('audit:log')).toBe(4); // 1..3 gone
    expect(await redis.client().exists('audit:anchors')).toBe(0);
    expect(await verifyAuditChain({ redis: redis.client(), checkpointKeys: keys })).toMatchObject({ ok: false, firstBroken: { kind: 'record_deleted', reason: 'seq_gap', seq: 4 } });
  });

  it('a real login through the server connected as cardauth works and is audited; the chain verifies', async () => {
    const srv = await startTestServer({ ...redis, url: redis.urlAs('cardauth') });
    try {
      const agent = await srv.agent();
      await srv.account('ivanova', PASSWORD, UID);
      const c = srv.client();
      expect((await srv.login(c, agent, UID, 'ivanova', PASSWORD)).status).toBe(200);
      expect((await c.post('/auth/logout')).status).toBeLessThan(300);
      const types = (await auditRecords(redis.client())).map((r) => r.type);
      expect(types).toEqual(expect.arrayContaining(['card.presented', 'password.checked', 'session.created', 'session.logout']));
      expect(await verifyAuditChain({ redis: redis.client() })).toMatchObject({ ok: true, count: types.length });
    } finally {
      await srv.close();
    }
  });

  it('`startServer` as cardauth: CONFIG GET is refused, so it says it cannot check appendfsync and starts; no log line holds the password', async () => {
    const lines: Array<Record<string, unknown>> = [];
    const keep = (level: string) => (event: string, fields?: Record<string, unknown>) => void lines.push({ level, event, ...fields });
    const logger: Logger = { info: keep('info'), warn: keep('warn'), error: keep('error') };
    const port = await freePort();
    const config = loadServerConfig({
      REDIS_URL: redis.urlAs('cardauth'),
      CARDAUTH_PORT: String(port),
      CARDAUTH_PUBLIC_ORIGIN: `http://127.0.0.1:${port}`,
      CARDAUTH_SESSION_SECRET: TEST_SECRET,
    });
    const server = await startServer({ config, logger, clock: systemClock });
    try {
      expect(lines.find((l) => l.event === 'audit_fsync_unchecked')).toMatchObject({ level: 'warn', why: expect.stringMatching(/NOPERM.*config\|get/) });
      expect((await fetch(`${server.url}/readyz`)).status).toBe(200);
      expect((await auditRecords(redis.client(), 'policy.applied')).length).toBe(1);
      // Its last config (cardauth:config:last, outside audit:*) is its to keep: the first start's baseline is recorded.
      expect(await auditRecords(redis.client(), 'config.changed')).toEqual([expect.objectContaining({ details: expect.objectContaining({ baseline: true }) })]);
    } finally {
      await server.close();
    }
    expect(JSON.stringify(lines)).not.toContain(redis.passwordOf('cardauth'));
  });

  it('a wrong password in REDIS_URL: the server says Redis is not ready and listens anyway (503s); no log line holds the password', async () => {
    const lines: unknown[] = [];
    const keep = (event: string, fields?: Record<string, unknown>) => void lines.push({ event, ...fields });
    const port = await freePort();
    const wrong = 'not-the-password-4711';
    const config = loadServerConfig({
      REDIS_URL: redis.urlAs('cardauth').replace(redis.passwordOf('cardauth'), wrong),
      CARDAUTH_PORT: String(port),
      CARDAUTH_PUBLIC_ORIGIN: `http://127.0.0.1:${port}`,
      CARDAUTH_SESSION_SECRET: TEST_SECRET,
    });
    const server = await startServer({ config, logger: { info: keep, warn: keep, error: keep }, clock: systemClock, redisWaitMs: 300 });
    try {
      expect((await fetch(`${server.url}/readyz`)).status).toBe(503);
    } finally {
      await server.close();
    }
    expect(lines).toEqual(expect.arrayContaining([expect.objectContaining({ event: 'redis_error', err: expect.stringMatching(/WRONGPASS/) }), expect.objectContaining({ event: 'redis_not_ready' })]));
    expect(JSON.stringify(lines)).not.toContain(wrong);
  });
});

describe('the officers\' command line as cardauth-admin', () => {
  it('creates an account, binds a card, lists and verifies the audit; the password shows nowhere', async () => {
    const env = cliEnv({ REDIS_URL: redis.urlAs('cardauth-admin') });
    const steps = [
      ['account', 'create', '--login', 'sidorova', '--name', 'Сидорова', '--role', 'clinician', '--password-stdin'],
      ['card', 'bind', '--login', 'sidorova', '--uid', UID],
      ['audit', 'list'],
      ['audit', 'verify'],
    ];
    for (const args of steps) {
      const r = await runCli(args, { env, stdin: 'Пароль-сидоровой-1\n' });
      expect({ args, code: r.code, stderr: r.stderr }).toEqual({ args, code: 0, stderr: '' });
      expect(r.stdout + r.stderr).not.toContain(redis.passwordOf('cardauth-admin'));
    }
    const types = (await auditRecords(redis.client())).map((r) => r.type);
    expect(types).toEqual(['account.created', 'card.bound', 'audit.viewed', 'audit.verified']);
    expect(await verifyAuditChain({ redis: redis.client() })).toMatchObject({ ok: true, count: 4 });
  });
});

describe('the SIEM forwarder as cardauth-siem', () => {
  it('forwards every record through its consumer group, and may not delete, trim, reset the group or read other keys', async () => {
    await seedAudit();
    const rs = await startRsyslog();
    const siem = connectRedis(redis.urlAs('cardauth-siem'), silentLogger);
    const stop = new AbortController();
    const running = createSiemForwarder({
      redis: siem,
      connect: () => openSyslogConnection({ host: '127.0.0.1', port: rs.port, tls: false, connectTimeoutMs: 2000 }),
      frame: (fields) => syslogFrame(fields, { hostname: 'test', appName: 'cardauth', procId: '1' }),
      clock: systemClock,
      logger: silentLogger,
      confirmMs: 200,
      retryMs: 100,
    }).run(stop.signal);
    try {
      const seqs = () => new Set(rs.lines().map((l) => Number(/ seq="(\d+)"/.exec(l)?.[1])));
      for (let i = 0; i < 400 && seqs().size < 3; i++) await sleep(50);
      expect([...seqs()].sort()).toEqual([1, 2, 3]);
      const line = rs.lines()[0]!;
      expect(createHash('sha256').update(line.slice(line.indexOf('] ') + 2).replace(/^\uFEFF/, '')).digest('hex')).toBe(/ hash="([0-9a-f]{64})"/.exec(line)?.[1]);
      // Confirmed (XACK) by the group: nothing pending once the confirmation time passed.
      for (let i = 0; i < 100 && Number(((await redis.client().xpending('audit:log', 'siem')) as [number])[0]) > 0; i++) await sleep(50);
      expect(((await redis.client().xpending('audit:log', 'siem')) as [number])[0]).toBe(0);

      const s = as('cardauth-siem');
      const attempts: Array<[string, () => Promise<unknown>]> = [
        ['DEL', () => s.del('audit:log')],
        ['XDEL', () => s.xdel('audit:log', '0-1')],
        ['XTRIM', () => s.xtrim('audit:log', 'MAXLEN', 0)],
        ['XADD', () => s.xadd('audit:log', '*', 'r', '{}', 'h', 'x')],
        ['XGROUP SETID', () => s.xgroup('SETID', 'audit:log', 'siem', '$')],
        ['XGROUP DESTROY', () => s.xgroup('DESTROY', 'audit:log', 'siem')],
        ['GET another key', () => s.get('acct:x')],
      ];
      for (const [what, attempt] of attempts) await expect(attempt().then(() => what)).rejects.toThrow(REFUSED);
    } finally {
      stop.abort();
      await running;
      siem.disconnect();
      await rs.stop();
    }
  });
});

describe('retention as cardauth-archivist', () => {
  it('may trim the audit stream (what the app user may not), and touches no other key', async () => {
    await seedAudit();
    await expect(as('cardauth').xtrim('audit:log', 'MAXLEN', 1)).rejects.toThrow(REFUSED);
    expect(await as('cardauth-archivist').xtrim('audit:log', 'MAXLEN', 1)).toBe(2);
    await expect(as('cardauth-archivist').get('acct:x')).rejects.toThrow(REFUSED);
    // It trims only: no deleting a record or the stream.
    const [[id]] = (await as('cardauth-archivist').xrange('audit:log', '-', '+')) as [[string, string[]]];
    await expect(as('cardauth-archivist').xdel('audit:log', id)).rejects.toThrow(REFUSED);
    await expect(as('cardauth-archivist').del('audit:log')).rejects.toThrow(REFUSED);
  });

  it('may not SCAN (Redis does not filter SCAN by key rules: it would list every key name, session ids and OpenID tokens among them), nor TYPE a key outside audit:*', async () => {
    await seedAudit();
    await redis.client().set('sess:secret-session-id', '{}');
    await redis.client().set('oidc:AccessToken:secret-token', '{}');
    const arch = as('cardauth-archivist');
    await expect(arch.scan('0')).rejects.toThrow(REFUSED);
    await expect(arch.scan('0', 'MATCH', '*', 'COUNT', 1000)).rejects.toThrow(REFUSED);
    await expect(arch.scan('0', 'MATCH', 'audit:ix:*')).rejects.toThrow(REFUSED);
    await expect(arch.type('sess:secret-session-id')).rejects.toThrow(REFUSED);
  });

  it('may append an anchor but not trim audit:anchors (XTRIM), nor XTRIM a key retention does not trim', async () => {
    await seedAudit();
    const arch = as('cardauth-archivist');
    expect(await arch.xadd('audit:anchors', '*', 'jws', 'a')).toMatch(/^\d+-\d+$/);
    await expect(arch.xtrim('audit:anchors', 'MAXLEN', 0)).rejects.toThrow(REFUSED);
    await expect(arch.xtrim('audit:anchors', 'MINID', '9999999999999-0')).rejects.toThrow(REFUSED);
    await expect(arch.xtrim('audit:other', 'MAXLEN', 0)).rejects.toThrow(REFUSED);
    await expect(arch.xadd('audit:other', '*', 'a', 'b')).rejects.toThrow(REFUSED);
    expect(await redis.client().xlen('audit:anchors')).toBe(1);
    for (const key of ['audit:checkpoints', 'audit:intake', 'audit:ix:login:x']) {
      await redis.client().xadd(key, '*', 'a', 'b');
      expect(await arch.xtrim(key, 'MAXLEN', 0)).toBe(1);
    }
  });
});
