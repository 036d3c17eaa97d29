import type Redis from 'ioredis';
import type { SessionData } from 'express-session';
import { createAuditLog } from '../../src/audit/log';
import { silentLogger } from '../../src/logger';
import { createBackchannelStore, type LogoutJob } from '../../src/oidc/backchannel-store';
import { createBackchannelWorker } from '../../src/oidc/backchannel-worker';
import { createSessionLocks, SESSION_WATCH_KEY } from '../../src/store/session-locks';
import { createSessionStore, defineSessionEnd } from '../../src/store/session-store';
import { auditRecords } from '../helpers/audit';
import { manualClock } from '../helpers/app';
import { suiteRedis } from '../helpers/redis';

// The back-channel logout worker and its Redis side, on a real Redis with the real session
// scripts; the send (oidc-provider's, which Jest cannot load) is a plain fake that records the
// jobs and answers as told. test/oidc/backchannel.test.ts runs the real thing end to end.

const IDLE_MS = 600_000;
const MAX_MS = 3_600_000;
const T0 = Date.parse('2026-12-01T08:00:00Z');
const user = { accountId: 'acc_1', login: 'ivanova', cardUid: '04A1A1A1A1A1A1', agentId: 'ag_1', authTime: T0 };
const session = (extra: Record<string, unknown> = {}) =>
  ({ cookie: { originalMaxAge: 3_600_000, httpOnly: true, path: '/' }, passport: { user }, lastSeen: T0, ...extra }) as unknown as SessionData;

describe('back-channel logout worker', () => {
  const redis = suiteRedis();
  let client: Redis;
  let clock: ReturnType<typeof manualClock>;
  beforeEach(() => {
    client = redis();
    clock = manualClock(T0);
  });

  const storeOf = () => createBackchannelStore({ redis: client, idleMs: IDLE_MS, maxMs: MAX_MS, sessionTtlSec: 3600 });
  /** A worker whose send answers from `answers` (`ok`, `fail`, `gone`), in order, then `ok`. */
  function workerOf(answers: string[] = [], opts: { attempts?: number } = {}) {
    const sent: LogoutJob[] = [];
    const worker = createBackchannelWorker({
      store: storeOf(),
      async send(job) {
        sent.push(job);
        const a = answers.shift() ?? 'ok';
        if (a === 'fail') throw Object.assign(new Error('expected 200 OK'), { response: { status: 503 } });
        return a === 'gone' ? 'no_client' : 'sent';
      },
      endSessions: defineSessionEnd(client, 3600),
      audit: createAuditLog({ redis: client, clock }),
      logger: silentLogger,
      now: clock.now,
      pollMs: 50,
      attempts: opts.attempts ?? 3,
      retryMs: 1000,
    });
    const look = async () => {
      await worker.tick();
      await worker.settled();
    };
    return { worker, sent, look };
  }
  const linked = async (sid: string, clientId = 'mis') => {
    await createSessionStore({ redis: client, ttlSec: 3600 }).set(sid, session());
    await storeOf().link(sid, clientId, { sid: `op-${sid}`, sub: 'acc_1', login: 'ivanova', grantId: `g-${sid}` });
  };

  it('a session no client holds tokens for is never watched: saving, locking and ending it adds nothing', async () => {
    const sessions = createSessionStore({ redis: client, ttlSec: 3600 });
    await sessions.set('plain', session());
    await createSessionLocks({ redis: client }).bind('plain', 'ag_1', user.cardUid, 3600);
    await createSessionLocks({ redis: client }).lockCard('ag_1', user.cardUid, { reason: 'tapout', at: T0 });
    await sessions.set('plain', session({ locked: { reason: 'idle', at: T0 } }));
    await defineSessionEnd(client, 3600)(['plain']);
    expect(await client.zcard(SESSION_WATCH_KEY)).toBe(0);
    expect(await client.keys('oidc:*')).toEqual([]);
  });

  it('a linked session is looked at when it may next go idle; a tap-out, a lock written by a save, or an end makes it due at once', async () => {
    await linked('s1');
    expect(Number(await client.zscore(SESSION_WATCH_KEY, 's1'))).toBe(T0 + IDLE_MS + 1);
    await createSessionLocks({ redis: client }).bind('s1', 'ag_1', user.cardUid, 3600);
    await createSessionLocks({ redis: client }).lockCard('ag_1', user.cardUid, { reason: 'tapout', at: T0 });
    expect(await client.zscore(SESSION_WATCH_KEY, 's1')).toBe('0');

    await linked('s2');
    await createSessionStore({ redis: client, ttlSec: 3600 }).set('s2', session({ locked: { reason: 'switch', at: T0 } }));
    expect(await client.zscore(SESSION_WATCH_KEY, 's2')).toBe('0');

    await linked('s3');
    await defineSessionEnd(client, 3600)(['s3']);
    expect(await client.zscore(SESSION_WATCH_KEY, 's3')).toBe('0');
  });

  it('sends one logout per linked client with the session\'s cause, audits it, revokes the grant, and forgets the link', async () => {
    await linked('s1', 'mis');
    await storeOf().link('s1', 'lab', { sid: 'op-lab', sub: 'acc_1', login: 'ivanova' });
    await client.set('oidc:Grant:g-s1', 'x');
    await client.rpush('oidc:grant:g-s1', 'oidc:RefreshToken:rt1');
    await client.set('oidc:RefreshToken:rt1', 'x');
    await createSessionStore({ redis: client, ttlSec: 3600 }).set('s1', session({ locked: { reason: 'tapout', at: T0 } }));
    const { sent, look } = workerOf();
    await look();
    expect(sent.map((j) => [j.clientId, j.sid, j.sub, j.cause, j.attempts]).sort()).toEqual([
      ['lab', 'op-lab', 'acc_1', 'tapout', 1],
      ['mis', 'op-s1', 'acc_1', 'tapout', 1],
    ]);
    expect(await client.exists('oidc:Grant:g-s1', 'oidc:RefreshToken:rt1', 'oidc:grant:g-s1')).toBe(0);
    const delivered = await auditRecords(client, 'oidc.backchannel_delivered');
    expect(delivered).toHaveLength(2);
    expect(delivered[0]).toMatchObject({ outcome: 'success', subject: { accountId: 'acc_1', login: 'ivanova' }, sessionIdHash: expect.stringMatching(/^[0-9a-f]{64}$/), details: { cause: 'tapout', attempts: 1 } });
    expect(await client.keys('oidc:*')).toEqual([]);
    await look();
    expect(sent).toHaveLength(2);
  });

  it('locks a session idle past its time without any request (the record first), then logs its clients out', async () => {
    await linked('s1');
    const { sent, look } = workerOf();
    clock.advance(IDLE_MS);
    await look();
    expect(sent).toEqual([]);
    clock.advance(1);
    await look();
    expect(sent.map((j) => j.cause)).toEqual(['idle']);
    expect(JSON.parse((await client.get('sess:s1'))!)).toMatchObject({ passport: { user }, locked: { reason: 'idle', at: T0 + IDLE_MS + 1 } });
    expect(await auditRecords(client, 'session.locked')).toEqual([expect.objectContaining({ reason: 'idle', subject: { accountId: 'acc_1', login: 'ivanova' }, source: { agentId: 'ag_1' } })]);
  });

  it("a session with its roles' own idle time and lifetime (stored at its login) is locked and ended by those, not the global ones", async () => {
    const own = { ...user, idleSec: 60, maxSec: 120 };
    await createSessionStore({ redis: client, ttlSec: 3600 }).set('s1', session({ passport: { user: own } }));
    await storeOf().link('s1', 'mis', { sid: 'op-s1', sub: 'acc_1', login: 'ivanova' });
    expect(Number(await client.zscore(SESSION_WATCH_KEY, 's1'))).toBe(T0 + 60_000 + 1);
    const { sent, look } = workerOf();
    clock.advance(60_001);
    await look();
    expect(sent.map((j) => j.cause)).toEqual(['idle']);

    await createSessionStore({ redis: client, ttlSec: 3600 }).set('s2', session({ passport: { user: own } }));
    await storeOf().link('s2', 'mis', { sid: 'op-s2', sub: 'acc_1', login: 'ivanova' });
    await createSessionLocks({ redis: client }).touch('s2', T0 + 100_000);
    clock.set(T0 + 120_001);
    await look();
    expect(sent.map((j) => j.cause)).toEqual(['idle', 'expired']);
  });

  it('a session used since it was linked is watched again, not locked', async () => {
    await linked('s1');
    await createSessionLocks({ redis: client }).touch('s1', T0 + 300_000);
    const { sent, look } = workerOf();
    clock.advance(IDLE_MS + 1);
    await look();
    expect(sent).toEqual([]);
    expect(Number(await client.zscore(SESSION_WATCH_KEY, 's1'))).toBe(T0 + 300_000 + IDLE_MS + 1);
  });

  it('ends a session past its lifetime (`session.ended` expired first) and logs its clients out', async () => {
    await linked('s1');
    await createSessionLocks({ redis: client }).touch('s1', T0 + MAX_MS - 1000);
    const { sent, look } = workerOf();
    clock.advance(MAX_MS + 1);
    await look();
    expect(sent.map((j) => j.cause)).toEqual(['expired']);
    expect(await client.exists('sess:s1')).toBe(0);
    expect(await client.exists('sessended:s1')).toBe(1);
    expect(await auditRecords(client, 'session.ended')).toEqual([expect.objectContaining({ reason: 'expired', subject: { accountId: 'acc_1', login: 'ivanova' } })]);
  });

  it('retries a failed send after 1 s, then 2 s, and after the last attempt gives up, audited', async () => {
    await linked('s1');
    await defineSessionEnd(client, 3600)(['s1']);
    const { sent, look } = workerOf(['fail', 'fail', 'fail']);
    await look();
    expect(sent).toHaveLength(1);
    clock.advance(999);
    await look();
    expect(sent).toHaveLength(1);
    clock.advance(1);
    await look();
    expect(sent.map((j) => j.attempts)).toEqual([1, 2]);
    clock.advance(1999);
    await look();
    expect(sent).toHaveLength(2);
    clock.advance(1);
    await look();
    expect(sent.map((j) => j.attempts)).toEqual([1, 2, 3]);
    expect(await auditRecords(client, 'oidc.backchannel_failed')).toEqual([
      expect.objectContaining({ outcome: 'failure', reason: 'retries_exhausted', details: { clientId: 'mis', cause: 'ended', attempts: 3, failure: 'http_503' } }),
    ]);
    expect(await auditRecords(client, 'oidc.backchannel_delivered')).toEqual([]);
    clock.advance(60_000);
    await look();
    expect(sent).toHaveLength(3);
    expect(await client.keys('oidc:*')).toEqual([]);
  });

  it('a send that fails once is delivered at the retry; a removed client is given up as client_gone', async () => {
    await linked('s1', 'mis');
    await linked('s2', 'removed');
    await defineSessionEnd(client, 3600)(['s1', 's2']);
    const { sent, look } = workerOf(['fail', 'gone']);
    await look();
    clock.advance(1000);
    await look();
    expect(sent.map((j) => [j.clientId, j.attempts])).toEqual([
      ['mis', 1],
      ['removed', 1],
      ['mis', 2],
    ]);
    expect(await auditRecords(client, 'oidc.backchannel_delivered')).toEqual([expect.objectContaining({ details: { clientId: 'mis', cause: 'ended', attempts: 2 } })]);
    expect(await auditRecords(client, 'oidc.backchannel_failed')).toEqual([expect.objectContaining({ reason: 'client_gone', details: { clientId: 'removed', cause: 'ended', attempts: 1 } })]);
  });

  it('two nodes looking at once send each logout once; a job whose node died is sent by another after its lease', async () => {
    for (let i = 0; i < 10; i++) await linked(`s${i}`);
    await defineSessionEnd(client, 3600)(Array.from({ length: 10 }, (_, i) => `s${i}`));
    const a = workerOf();
    const b = workerOf();
    await Promise.all([a.look(), b.look()]);
    expect([...a.sent, ...b.sent].map((j) => j.cardauthSid).sort()).toEqual(Array.from({ length: 10 }, (_, i) => `s${i}`).sort());

    // A node claims a job and dies before it answers.
    await linked('lost');
    await defineSessionEnd(client, 3600)(['lost']);
    await storeOf().due(clock.now(), 10, 30_000);
    expect(await storeOf().claim(clock.now(), 10, 30_000)).toHaveLength(1);
    await b.look();
    expect(b.sent.filter((j) => j.cardauthSid === 'lost')).toEqual([]);
    clock.advance(30_000);
    await b.look();
    expect(b.sent.filter((j) => j.cardauthSid === 'lost').map((j) => j.attempts)).toEqual([2]);
  });
});
