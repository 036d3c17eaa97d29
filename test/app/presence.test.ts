import { generateKeyPair } from 'jose';
import { auditRecords, lastAudit } from '../helpers/audit';
import { manualClock, suiteServer, type TestAgent, type TestServer } from '../helpers/app';
import type { TestRedis } from '../helpers/redis';
import { addSkud, send, statement, type Skud } from '../helpers/skud';

// The presence gate (issue 10 §7) end to end on real Redis: signed statements from an
// access-control integration at POST /skud/events, the gate at the login, an exit ending sessions.

const PASSWORD = 'Верный-пароль-2026!';
/** 09:00 in Moscow (UTC+3) on 4 December 2026. */
const MORNING = Date.parse('2026-12-04T06:00:00Z');
const moscow = (local: string) => `2026-12-04T${local}+03:00`;

describe('presence gate on (CARDAUTH_PRESENCE_ROLES=clinician, silent feed denies)', () => {
  const clock = manualClock(MORNING);
  let srv: TestServer;
  let agent: TestAgent;
  let redis: TestRedis;
  let skud: Skud;
  const UIDS = { ivanova: '04A1A1A1A1A1A1', petrov: '04B2B2B2B2B2B2', sidorova: '04C3C3C3C3C3C3', officer: '04D4D4D4D4D4D4', nurse: '04E5E5E5E5E5E5' };
  suiteServer({ clock, env: { CARDAUTH_PRESENCE_ROLES: 'clinician', CARDAUTH_SESSION_IDLE_SEC: '7200', CARDAUTH_IP_ATTEMPTS: '1000' } }, async (s, a, r) => {
    [srv, agent, redis] = [s, a, r];
    for (const login of ['ivanova', 'petrov', 'sidorova', 'nurse'] as const) await srv.account(login, PASSWORD, UIDS[login]);
    await srv.account('officer', PASSWORD, UIDS.officer, ['security_officer']);
    skud = await addSkud(srv);
  });
  beforeEach(() => clock.advance(61_000)); // a new minute: each refusal gets its own audit record
  const login = (who: keyof typeof UIDS, c = srv.client()) => srv.login(c, agent, UIDS[who], who, PASSWORD);

  it('an entry today lets a gated login through, audited presence.allowed', async () => {
    const r = await send(srv, await statement(srv, skud, [{ login: 'ivanova', direction: 'entry', time: moscow('08:55:00') }]));
    expect(r.status).toBe(200);
    expect(r.json).toMatchObject({ skudId: skud.id, accepted: 1, unknown: 0, ended: 0 });
    expect((await login('ivanova')).status).toBe(200);
    const rec = await lastAudit(srv.redis, 'presence.allowed');
    expect(rec).toMatchObject({ outcome: 'success', subject: { login: 'ivanova' } });
    expect(rec?.reason).toBeUndefined();
    expect(await lastAudit(srv.redis, 'presence.reported')).toMatchObject({ outcome: 'success', subject: { login: 'ivanova' }, details: { direction: 'entry', door: 'Проходная 1', skudId: skud.id } });
  });

  it('no entry today: refused after both factors with presence_required (403), audited presence_absent, no session', async () => {
    await send(srv, await statement(srv, skud, [])); // a heartbeat: the feed is alive
    const c = srv.client();
    const r = await login('petrov', c);
    expect(r.status).toBe(403);
    expect(r.json.error.code).toBe('presence_required');
    expect((await c.get('/auth/session')).status).toBe(401);
    expect(await lastAudit(srv.redis, 'presence.denied')).toMatchObject({ outcome: 'failure', reason: 'presence_absent', subject: { login: 'petrov' } });
    expect((await auditRecords(srv.redis, 'session.created')).some((e) => e.subject?.login === 'petrov')).toBe(false);
  });

  it("an entry on yesterday's Moscow day does not count (23:30 MSK is still yesterday though UTC says 20:30)", async () => {
    await send(srv, await statement(srv, skud, [{ login: 'petrov', direction: 'entry', time: '2026-12-03T23:30:00+03:00' }]));
    expect((await login('petrov')).json.error.code).toBe('presence_required');
    expect((await lastAudit(srv.redis, 'presence.denied'))?.reason).toBe('presence_absent');
  });

  it('an exit after the entry: refused, presence_exited', async () => {
    await send(srv, await statement(srv, skud, [{ login: 'sidorova', direction: 'entry', time: moscow('08:00:00') }, { login: 'sidorova', direction: 'exit', time: moscow('08:30:00') }]));
    const r = await login('sidorova');
    expect(r.status).toBe(403);
    expect((await lastAudit(srv.redis, 'presence.denied'))?.reason).toBe('presence_exited');
    // A late, resent older entry does not undo the exit.
    await send(srv, await statement(srv, skud, [{ login: 'sidorova', direction: 'entry', time: moscow('08:00:00') }]));
    expect((await login('sidorova')).status).toBe(403);
  });

  it('an ungated role (security_officer) logs in with no entry at all', async () => {
    expect((await login('officer')).status).toBe(200);
  });

  it("an exit ends the person's live session at once, audited session.ended reason presence_exit", async () => {
    await send(srv, await statement(srv, skud, [{ login: 'nurse', direction: 'entry', time: moscow('08:00:00') }]));
    const c = srv.client();
    expect((await login('nurse', c)).status).toBe(200);
    expect((await c.get('/auth/session')).status).toBe(200);
    const r = await send(srv, await statement(srv, skud, [{ login: 'nurse', direction: 'exit', time: moscow('09:05:00'), door: 'Проходная 2' }]));
    expect(r.json).toMatchObject({ accepted: 1, ended: 1 });
    expect((await c.get('/auth/session')).status).toBe(401);
    expect(await lastAudit(srv.redis, 'session.ended')).toMatchObject({ outcome: 'success', reason: 'presence_exit', subject: { login: 'nurse' }, details: { skudId: skud.id } });
    expect(await lastAudit(srv.redis, 'skud.statement')).toMatchObject({ outcome: 'success', details: { accepted: 1, ended: 1 } });
  });

  it('a pass dated ahead of the clock is refused (bad_time), so it cannot outrank the real exit after it', async () => {
    await srv.account('medsestra', PASSWORD, '04F6F6F6F6F6F6');
    await send(srv, await statement(srv, skud, [{ login: 'medsestra', direction: 'entry', time: moscow('08:00:00') }]));
    const c = srv.client();
    expect((await srv.login(c, agent, '04F6F6F6F6F6F6', 'medsestra', PASSWORD)).status).toBe(200);
    const ahead = await send(srv, await statement(srv, skud, [{ login: 'medsestra', direction: 'entry', time: moscow('18:00:00') }]));
    expect(ahead.json).toMatchObject({ accepted: 0, refused: 1 });
    expect(await lastAudit(srv.redis, 'presence.reported')).toMatchObject({ outcome: 'failure', reason: 'bad_time', subject: { login: 'medsestra' } });
    const exit = await send(srv, await statement(srv, skud, [{ login: 'medsestra', direction: 'exit', time: moscow('08:30:00') }]));
    expect(exit.json).toMatchObject({ accepted: 1, ended: 1 });
    expect((await c.get('/auth/session')).status).toBe(401);
  });

  it('a heartbeat (no events) keeps the feed alive without an audit record', async () => {
    const before = (await auditRecords(srv.redis, 'skud.statement')).length;
    expect((await send(srv, await statement(srv, skud, []))).json).toMatchObject({ accepted: 0, unknown: 0 });
    expect(await auditRecords(srv.redis, 'skud.statement')).toHaveLength(before);
    expect((await srv.services.skud.get(skud.id))?.lastStatementAt).toBe(srv.clock.now());
  });

  it('an unknown login is audited (unknown_person) and counted, not stored', async () => {
    const r = await send(srv, await statement(srv, skud, [{ login: 'nobody', direction: 'entry', time: moscow('08:00:00') }]));
    expect(r.json).toMatchObject({ accepted: 0, unknown: 1 });
    expect(await lastAudit(srv.redis, 'presence.reported')).toMatchObject({ outcome: 'failure', reason: 'unknown_person', subject: { login: 'nobody' } });
  });

  it('a replayed statement: 409 skud_replayed, audited replayed_jti', async () => {
    const jws = await statement(srv, skud, [{ login: 'ivanova', direction: 'entry', time: moscow('08:00:00') }]);
    expect((await send(srv, jws)).status).toBe(200);
    const again = await send(srv, jws);
    expect(again.status).toBe(409);
    expect(again.json.error.code).toBe('skud_replayed');
    expect(await lastAudit(srv.redis, 'skud.statement')).toMatchObject({ outcome: 'failure', reason: 'replayed_jti', details: { skudId: skud.id } });
  });

  it('a forged statement (another key, a registered kid): 401 skud_rejected, bad_signature; nothing stored', async () => {
    const { privateKey } = await generateKeyPair('EdDSA');
    const r = await send(srv, await statement(srv, skud, [{ login: 'petrov', direction: 'entry', time: moscow('08:00:00') }], { key: privateKey }));
    expect(r.status).toBe(401);
    expect(r.json.error.code).toBe('skud_rejected');
    expect((await lastAudit(srv.redis, 'skud.statement'))?.reason).toBe('bad_signature');
    expect((await login('petrov')).status).toBe(403);
  });

  it('an unknown key, and a removed integration: 401 skud_rejected, skud_unknown', async () => {
    const r = await send(srv, await statement(srv, skud, [], { kid: 'sk_ffffffffffffffff' }));
    expect(r.status).toBe(401);
    expect(r.json.error.code).toBe('skud_rejected');
    expect((await lastAudit(srv.redis, 'skud.statement'))?.reason).toBe('skud_unknown');
    const gone = await addSkud(srv, 'Gate, removed');
    await srv.services.skud.remove(gone.id);
    clock.advance(61_000);
    expect((await send(srv, await statement(srv, gone, []))).status).toBe(401);
    expect((await lastAudit(srv.redis, 'skud.statement'))?.reason).toBe('skud_unknown');
  });

  it.each([
    ['wrong audience (a card statement\'s)', { aud: 'http://127.0.0.1:1' }, 'wrong_audience'],
    ['a lifetime over 5 minutes', { lifetimeSec: 301 }, 'statement_expired'],
    ['another typ', { typ: 'cardauth-event+jwt' }, 'bad_statement'],
  ] as const)('%s: 401 skud_rejected, %s', async (_what, o, reason) => {
    const r = await send(srv, await statement(srv, skud, [], o));
    expect(r.status).toBe(401);
    expect(r.json.error.code).toBe('skud_rejected');
    expect((await lastAudit(srv.redis, 'skud.statement'))?.reason).toBe(reason);
  });

  it('bad bodies: 400 bad_request with no stack trace', async () => {
    const post = (body: string, type = 'application/json') => fetch(`${srv.url}/skud/events`, { method: 'POST', headers: { 'content-type': type }, body });
    for (const body of ['{}', '{"statement":1}', '{"statement":"x","extra":1}', 'not json']) {
      const res = await post(body);
      expect(res.status).toBe(400);
      expect(((await res.json()) as any).error.code).toBe('bad_request');
    }
    for (const events of [[{ login: 'ivanova', direction: 'in', time: moscow('08:00:00') }], [{ login: 'ivanova', direction: 'entry', time: 'вчера' }]]) {
      const r = await send(srv, await statement(srv, skud, events));
      expect(r.status).toBe(400);
      expect(r.json.error.code).toBe('bad_request');
    }
    expect((await send(srv, 'a.b.c')).json.error.code).toBe('skud_rejected');
  });

  it('GET /admin/api/presence: the policy and each integration (officer); a clinician gets 403', async () => {
    const c = srv.client();
    expect((await login('officer', c)).status).toBe(200);
    const r = await c.get('/admin/api/presence');
    expect(r.status).toBe(200);
    expect(r.json.policy).toEqual({ gate: 'on', roles: ['clinician'], silentSec: 900, onSilent: 'deny' });
    expect(r.json.today).toBe('2026-12-04');
    const mine = r.json.integrations.find((i: any) => i.id === skud.id);
    expect(mine).toMatchObject({ name: 'Parsec', silent: false });
    expect(mine.eventsToday).toBeGreaterThanOrEqual(8);
    expect(mine.lastEventAt).toBe(new Date(moscow('09:05:00')).toISOString());
    await send(srv, await statement(srv, skud, [{ login: 'ivanova', direction: 'entry', time: moscow('08:00:00') }]));
    const nurse = srv.client();
    expect((await login('ivanova', nurse)).status).toBe(200);
    expect((await nurse.get('/admin/api/presence')).status).toBe(403);
  });

  it('a silent feed denies a gated login (feed_silent), even with an entry today', async () => {
    await send(srv, await statement(srv, skud, [{ login: 'ivanova', direction: 'entry', time: moscow('09:00:00') }]));
    clock.advance(901_000);
    const r = await login('ivanova');
    expect(r.status).toBe(403);
    expect(r.json.error.code).toBe('presence_required');
    expect((await lastAudit(srv.redis, 'presence.denied'))?.reason).toBe('feed_silent');
  });

  it('Redis down: POST /skud/events answers 503 with no stack trace', async () => {
    const jws = await statement(srv, skud, []);
    await redis.kill();
    try {
      const r = await send(srv, jws);
      expect(r.status).toBe(503);
      expect(r.text).not.toMatch(/\n\s+at |ECONNREFUSED/);
    } finally {
      await redis.start();
    }
  });
});

describe('presence gate with CARDAUTH_PRESENCE_ON_SILENT=allow', () => {
  const clock = manualClock(MORNING);
  let srv: TestServer;
  let agent: TestAgent;
  suiteServer({ clock, env: { CARDAUTH_PRESENCE_ROLES: 'clinician', CARDAUTH_PRESENCE_ON_SILENT: 'allow' } }, async (s, a) => {
    [srv, agent] = [s, a];
    await srv.account('ivanova', PASSWORD, '04A1A1A1A1A1A1');
  });

  it('a feed that never spoke lets the login through, audited presence.allowed reason feed_silent', async () => {
    expect((await srv.login(srv.client(), agent, '04A1A1A1A1A1A1', 'ivanova', PASSWORD)).status).toBe(200);
    expect(await lastAudit(srv.redis, 'presence.allowed')).toMatchObject({ outcome: 'success', reason: 'feed_silent', details: { feedLastAt: 'never', onSilent: 'allow' } });
  });

  it('an ungated role is not read at all; an account gated by an officer is, whatever its roles', async () => {
    await srv.account('auditor', PASSWORD, '04F6F6F6F6F6F6', ['auditor']);
    expect((await srv.login(srv.client(), agent, '04F6F6F6F6F6F6', 'auditor', PASSWORD)).status).toBe(200);
    expect((await auditRecords(srv.redis, 'presence.allowed')).filter((e) => e.subject?.login === 'auditor')).toEqual([]);
    const { id } = (await srv.services.accounts.findByLogin('auditor'))!;
    await srv.services.accounts.setPresenceRequired(id, true);
    expect((await srv.login(srv.client(), agent, '04F6F6F6F6F6F6', 'auditor', PASSWORD)).status).toBe(200);
    expect(await lastAudit(srv.redis, 'presence.allowed')).toMatchObject({ reason: 'feed_silent', subject: { login: 'auditor' } });
  });

  it('a live feed still decides: no entry, refused', async () => {
    const skud = await addSkud(srv);
    await send(srv, await statement(srv, skud, []));
    expect((await srv.login(srv.client(), agent, '04A1A1A1A1A1A1', 'ivanova', PASSWORD)).status).toBe(403);
  });
});
