import { createSessionAdmin } from '../../src/admin/sessions';
import { sha256Hex } from '../../src/audit/record';
import { isCardauthError } from '../../src/errors';
import { SESSION_WATCH_KEY } from '../../src/store/session-locks';
import { lastAudit } from '../helpers/audit';
import { sessionIdOf, suiteServer, type TestAgent, type TestServer } from '../helpers/app';
import { byOfficer, OFFICER } from './support';

// The officer's list of live sessions, and ending one of them, as the pages and the CLI call them.
describe('session admin: list and end', () => {
  let srv: TestServer;
  let agent: TestAgent;
  suiteServer({ env: { CARDAUTH_IP_ATTEMPTS: '1000' } }, async (s, a) => {
    [srv, agent] = [s, a];
    await srv.account('ivanova', 'Пароль-Ивановой-1', '04A1A1A1A1A1A1');
    await srv.account('petrov', 'Пароль-Петрова-22', '04B2B2B2B2B2B2');
  });
  const admin = () => createSessionAdmin(srv.services);
  const AUDITOR = { ...OFFICER, actor: 'acct:acc_00000000000000aa', principal: { accountId: 'acc_00000000000000aa', roles: ['auditor' as const] } };
  const loggedIn = async (login: string, uid: string, password: string) => {
    const c = srv.client();
    expect((await srv.login(c, agent, uid, login, password)).status).toBe(200);
    return c;
  };
  const sessionKeys = () => srv.redis.keys('sess:*');

  it('lists a logged-in and a locked session with their fields, by handle (never the session id)', async () => {
    const iva = await loggedIn('ivanova', '04A1A1A1A1A1A1', 'Пароль-Ивановой-1');
    expect((await iva.get('/auth/session')).status).toBe(200); // a request: lastSeen
    const p = await loggedIn('petrov', '04B2B2B2B2B2B2', 'Пароль-Петрова-22');
    const at = srv.clock.now();
    await srv.services.locks.lockCard(agent.id, '04B2B2B2B2B2B2', { reason: 'request', at });
    expect((await p.get('/auth/session')).status).toBe(401);

    const { sessions, cursor } = await admin().list({ limit: 100 });
    expect(cursor).toBeNull();
    const ids = (await sessionKeys()).map((k) => k.slice('sess:'.length));
    expect(sessions.map((s) => s.handle).sort()).toEqual(ids.map(sha256Hex).sort());
    for (const id of ids) expect(JSON.stringify(sessions)).not.toContain(id);
    const iv = sessions.find((s) => s.login === 'ivanova')!;
    expect(iv).toMatchObject({ accountId: expect.stringMatching(/^acc_/), agentId: agent.id, cardUid: '04A1A1A1A1A1A1', workstation: expect.any(String), since: expect.any(Number), lastSeen: expect.any(Number), locked: null });
    expect(sessions.find((s) => s.login === 'petrov')).toMatchObject({ cardUid: '04B2B2B2B2B2B2', locked: { reason: 'request', at } });

    expect((await admin().list({ login: 'petrov', limit: 100 })).sessions.map((s) => s.login)).toEqual(['petrov']);
  });

  it('pages with a cursor: every session once, a page at a time', async () => {
    for (let i = 0; i < 3; i++) await loggedIn('ivanova', '04A1A1A1A1A1A1', 'Пароль-Ивановой-1');
    const total = (await sessionKeys()).length;
    const seen: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await admin().list({ limit: 1, cursor });
      seen.push(...page.sessions.map((s) => s.handle));
      cursor = page.cursor ?? undefined;
      pages++;
    } while (cursor !== undefined);
    expect(new Set(seen).size).toBe(total);
    expect(pages).toBeGreaterThan(1);
  });

  it('end: that session ends on every node (its next request is logged out, its OpenID clients flagged), audited with the officer and the account', async () => {
    const c = await loggedIn('ivanova', '04A1A1A1A1A1A1', 'Пароль-Ивановой-1');
    const other = await loggedIn('ivanova', '04A1A1A1A1A1A1', 'Пароль-Ивановой-1');
    const sid = sessionIdOf(c);
    const h = sha256Hex(sid);
    await srv.redis.zadd(SESSION_WATCH_KEY, 5, sid); // as if an OpenID client held tokens for it

    expect(await admin().end(OFFICER, h)).toMatchObject({ handle: h, login: 'ivanova' });
    expect((await c.get('/auth/session')).json.error.code).toBe('unauthenticated');
    expect((await other.get('/auth/session')).json.login).toBe('ivanova');
    expect(await srv.redis.zscore(SESSION_WATCH_KEY, sid)).toBe('0');
    expect(await lastAudit(srv.redis, 'session.ended')).toMatchObject({
      ...byOfficer,
      outcome: 'success',
      reason: 'admin',
      subject: { login: 'ivanova' },
      sessionIdHash: h,
      cardUid: '04A1A1A1A1A1A1',
      source: { agentId: agent.id },
      details: expect.objectContaining({ cause: 'officer' }),
    });
    await expect(admin().end(OFFICER, h)).rejects.toMatchObject({ code: 'session_not_found' });
  });

  it('an auditor may list but not end: forbidden, audited read_only, the session stays', async () => {
    const c = await loggedIn('petrov', '04B2B2B2B2B2B2', 'Пароль-Петрова-22');
    const page = await createSessionAdmin(srv.services).list({ login: 'petrov', limit: 100 });
    const h = page.sessions.find((s) => s.locked === null)!.handle;
    await expect(admin().end(AUDITOR, h)).rejects.toMatchObject({ code: 'forbidden', status: 403 });
    expect(await lastAudit(srv.redis, 'session.ended')).toMatchObject({ outcome: 'failure', reason: 'read_only', actor: AUDITOR.actor, subject: { login: 'petrov' } });
    expect((await c.get('/auth/session')).json.login).toBe('petrov');
  });

  it('an unknown handle is session_not_found (404)', async () => {
    const err = await admin().end(OFFICER, 'f'.repeat(64)).catch((e: unknown) => e);
    expect(isCardauthError(err, 'session_not_found')).toBe(true);
    expect(err).toMatchObject({ status: 404 });
  });

});

