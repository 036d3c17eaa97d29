import { sha256Hex } from '../../src/audit/record';
import { failAttempt } from '../helpers/attempts';
import { auditRecords, lastAudit } from '../helpers/audit';
import { manualClock, sessionIdOf, suitePeople, type TestAgent, type TestClient, type TestServer } from '../helpers/app';

// The admin JSON API end to end: requireLogin with an admin role, the step-up, the Origin check,
// and the separation of duties of the use cases it calls, with the acting account's roles as stored.
describe('admin API: /admin/api/accounts/:login/{unlock,roles}', () => {
  const clock = manualClock();
  let srv: TestServer;
  let agent: TestAgent;
  const PEOPLE: Array<[string, string, string[]]> = [
    ['ivanova', '04E1E1E1E1E1E1', ['clinician']],
    ['security', '04E2E2E2E2E2E2', ['security_officer']],
    ['security2', '04E3E3E3E3E3E3', ['security_officer']],
    ['auditor', '04E4E4E4E4E4E4', ['auditor']],
    ['chief', '04E5E5E5E5E5E5', ['chief_admin']],
  ];
  // The idle lock longer than the step-up, so a session older than the step-up is still open.
  const { ids, uidOf, logIn } = suitePeople(PEOPLE, { clock, env: { CARDAUTH_SESSION_IDLE_SEC: '3600', CARDAUTH_IP_ATTEMPTS: '1000' } }, (s, a) => {
    [srv, agent] = [s, a];
  });

  const lock = (login: string) => failAttempt(srv.services.lockout, { accountId: ids[login]!, ip: '192.0.2.1' });
  const failures = async (login: string) => (await srv.services.lockout.accountCount(ids[login]!)).failures;
  const unlock = (c: TestClient, login: string) => c.post(`/admin/api/accounts/${login}/unlock`, {});
  const roles = (c: TestClient, login: string, body: unknown) => c.post(`/admin/api/accounts/${login}/roles`, body);
  const forbidden = (r: { status: number; json: any }) => {
    expect(r.status).toBe(403);
    expect(r.json.error.code).toBe('forbidden');
  };

  it('an officer unlocks a clinician: 200, the lock is gone, audited as the officer from the web', async () => {
    await lock('ivanova');
    const c = await logIn('security');
    const r = await unlock(c, 'ivanova');
    expect(r.status).toBe(200);
    expect(r.json).toEqual({ login: 'ivanova', failures: 1 });
    expect(r.headers.get('cache-control')).toBe('no-store');
    expect(await failures('ivanova')).toBe(0);
    expect(await lastAudit(srv.redis, 'account.unlocked')).toMatchObject({
      outcome: 'success',
      actor: `acct:${ids.security}`,
      subject: { accountId: ids.ivanova, login: 'ivanova' },
      details: expect.objectContaining({ failures: 1, via: 'web', ip: '127.0.0.1' }),
    });
  });

  it('refusals, each 403 forbidden, audited with its reason, nothing changed: own account, a privileged unlock by a non-chief, an officer granting an officer role, an auditor writing', async () => {
    const officer = await logIn('security');
    await lock('security');
    forbidden(await unlock(officer, 'security'));
    expect(await lastAudit(srv.redis, 'account.unlocked')).toMatchObject({ outcome: 'failure', reason: 'own_account', actor: `acct:${ids.security}` });
    expect(await failures('security')).toBe(1);

    await lock('security2');
    forbidden(await unlock(officer, 'security2'));
    expect(await lastAudit(srv.redis, 'account.unlocked')).toMatchObject({ outcome: 'failure', reason: 'privileged_account', subject: { login: 'security2' } });
    expect(await failures('security2')).toBe(1);

    forbidden(await roles(officer, 'ivanova', { add: ['security_officer'] }));
    expect(await lastAudit(srv.redis, 'account.role_changed')).toMatchObject({ outcome: 'failure', reason: 'privileged_account', details: expect.objectContaining({ before: 'clinician', after: 'clinician,security_officer' }) });
    forbidden(await roles(officer, 'security', { set: ['chief_admin'] }));

    const auditor = await logIn('auditor');
    forbidden(await roles(auditor, 'ivanova', { set: ['clinician', 'auditor'] }));
    expect(await lastAudit(srv.redis, 'account.role_changed')).toMatchObject({ outcome: 'failure', reason: 'read_only', actor: `acct:${ids.auditor}` });
    expect((await srv.services.accounts.get(ids.ivanova!))!.roles).toEqual(['clinician']);
  });

  it('a chief_admin unlocks an officer and changes roles: 200 with before and after, audited; the account\'s open session ends', async () => {
    const clinician = await logIn('ivanova');
    const chief = await logIn('chief');
    expect((await unlock(chief, 'security2')).json).toEqual({ login: 'security2', failures: 1 });
    expect(await unlock(chief, 'security')).toMatchObject({ status: 200, json: { failures: 1 } });

    const r = await roles(chief, 'ivanova', { add: ['auditor'] });
    expect(r.status).toBe(200);
    expect(r.json).toEqual({ login: 'ivanova', roles: ['clinician', 'auditor'], before: ['clinician'], changed: true, ended: 1 });
    // Her session carried the old roles (forward-auth and OpenID read them): it ended, the new roles hold from her next login.
    expect((await clinician.get('/auth/session')).json.error.code).toBe('unauthenticated');
    expect(await lastAudit(srv.redis, 'session.ended')).toMatchObject({ reason: 'admin', actor: `acct:${ids.chief}`, subject: { login: 'ivanova' }, details: expect.objectContaining({ cause: 'roles_changed' }) });
    expect(await lastAudit(srv.redis, 'account.role_changed')).toMatchObject({
      outcome: 'success',
      actor: `acct:${ids.chief}`,
      subject: { accountId: ids.ivanova, login: 'ivanova' },
      details: expect.objectContaining({ before: 'clinician', after: 'clinician,auditor', via: 'web' }),
    });
    expect((await roles(chief, 'ivanova', { set: ['clinician'] })).json).toMatchObject({ roles: ['clinician'], changed: true });
  });

  it('the roles checked are those stored now: an officer whose role was withdrawn is refused in a session opened as an officer', async () => {
    const officer2 = await logIn('security2');
    // Withdrawn in the store alone, as if its sessions could not be ended (a role change ends them).
    await srv.services.accounts.setRoles(ids.security2!, ['clinician'], ['security_officer']);
    await lock('ivanova');
    forbidden(await unlock(officer2, 'ivanova'));
    expect(await lastAudit(srv.redis, 'account.unlocked')).toMatchObject({ outcome: 'failure', reason: 'read_only', actor: `acct:${ids.security2}` });
    expect(await failures('ivanova')).toBe(1);
    expect((await roles(await logIn('chief'), 'security2', { set: ['security_officer'] })).json).toMatchObject({ changed: true, ended: 1 });
    expect((await officer2.get('/auth/session')).status).toBe(401);
  });

  it('step-up: a login older than CARDAUTH_ADMIN_STEP_UP_SEC is 401 step_up_required, nothing changed; after a fresh card + password login, allowed', async () => {
    expect(srv.config.CARDAUTH_ADMIN_STEP_UP_SEC).toBe(900);
    const officer = await logIn('security');
    clock.advance(900_000);
    expect((await officer.get('/auth/session')).status).toBe(200);
    expect((await unlock(officer, 'petrov-none')).json.error.code).toBe('account_not_found'); // at 900 s: still fresh enough
    clock.advance(1);
    const before = (await auditRecords(srv.redis)).length;
    const old = await unlock(officer, 'ivanova');
    expect(old.status).toBe(401);
    expect(old.json.error.code).toBe('step_up_required');
    expect(await failures('ivanova')).toBe(1);
    expect(await auditRecords(srv.redis)).toHaveLength(before);
    // The session itself is still open: only the admin action asks for both factors again.
    expect((await officer.get('/auth/session')).status).toBe(200);

    await logIn('security', officer);
    expect(await unlock(officer, 'ivanova')).toMatchObject({ status: 200, json: { login: 'ivanova', failures: 1 } });
  });

  it('at the door: no session 401, a clinician 403, no Origin 403 origin_forbidden, a bad body 400; none of them audited', async () => {
    const before = (await auditRecords(srv.redis)).length;
    const anonymous = await unlock(srv.client(), 'ivanova');
    expect([anonymous.status, anonymous.json.error.code]).toEqual([401, 'unauthenticated']);
    forbidden(await unlock(await logIn('ivanova'), 'security'));
    const officer = await logIn('security');
    officer.origin = null;
    expect((await unlock(officer, 'ivanova')).json.error.code).toBe('origin_forbidden');
    officer.origin = srv.config.CARDAUTH_PUBLIC_ORIGIN;
    for (const body of [{ set: ['root'] }, { set: ['clinician'], add: ['auditor'] }, {}, { set: [] }, { set: ['clinician'], note: 'x' }]) {
      const r = await roles(officer, 'ivanova', body);
      expect([r.status, r.json.error.code]).toEqual([400, 'bad_request']);
    }
    expect((await officer.post('/admin/api/accounts/ivanova/unlock', { extra: 1 })).json.error.code).toBe('bad_request');
    // Only the logins' own records were written.
    const others = (await auditRecords(srv.redis)).slice(before).filter((e) => !['session.created', 'card.presented', 'password.checked'].includes(e.type));
    expect(others.map((e) => e.type)).toEqual([]);
  });

  describe('/admin/api/sessions', () => {
    const list = (c: TestClient, query = '') => c.get(`/admin/api/sessions${query}`);
    const end = (c: TestClient, handle: string) => c.post(`/admin/api/sessions/${handle}/end`, {});

    it('an officer lists the live sessions (logged in and locked) by handle, never the id, a page at a time', async () => {
      const iv = await logIn('ivanova');
      const locked = await logIn('ivanova');
      await srv.services.locks.lockCard(agent.id, '04E1E1E1E1E1E1', { reason: 'request', at: clock.now() });
      expect((await locked.get('/auth/session')).json.error.code).toBe('session_locked');
      await logIn('ivanova', iv); // iv logs in again, unlocked (the lock was of every session of the card)
      const officer = await logIn('security');

      const r = await list(officer, '?login=ivanova');
      expect(r.status).toBe(200);
      expect(r.headers.get('cache-control')).toBe('no-store');
      expect(r.json.cursor).toBeNull();
      const mine = r.json.sessions.find((x: { handle: string }) => x.handle === sha256Hex(sessionIdOf(iv)));
      expect(mine).toMatchObject({ login: 'ivanova', accountId: ids.ivanova, cardUid: '04E1E1E1E1E1E1', agentId: agent.id, since: clock.now(), locked: null });
      expect(r.json.sessions.find((x: { handle: string }) => x.handle === sha256Hex(sessionIdOf(locked)))).toMatchObject({ locked: { reason: 'request', at: clock.now() } });
      expect(JSON.stringify(r.json)).not.toContain(sessionIdOf(iv));
      expect(r.json.sessions.every((x: { login: string }) => x.login === 'ivanova')).toBe(true);

      const all = (await srv.redis.keys('sess:*')).length;
      const seen = new Set<string>();
      let cursor: string | null = null;
      let pages = 0;
      do {
        const page = await list(officer, `?limit=1${cursor ? `&cursor=${cursor}` : ''}`);
        expect(page.status).toBe(200);
        for (const x of page.json.sessions) seen.add(x.handle);
        cursor = page.json.cursor;
        pages++;
      } while (cursor !== null);
      expect(seen.size).toBe(all);
      expect(pages).toBeGreaterThan(1);
      expect((await list(officer, '?cursor=abc')).json.error.code).toBe('bad_request');
    });

    it('an officer ends one session: 200, its next request is logged out, audited with the officer and the account; again 404 session_not_found', async () => {
      const iv = await logIn('ivanova');
      const other = await logIn('ivanova');
      const handle = sha256Hex(sessionIdOf(iv));
      const officer = await logIn('security');
      const r = await end(officer, handle);
      expect(r.status).toBe(200);
      expect(r.json).toMatchObject({ handle, login: 'ivanova' });
      expect((await iv.get('/auth/session')).json.error.code).toBe('unauthenticated');
      expect((await other.get('/auth/session')).json.login).toBe('ivanova');
      expect(await lastAudit(srv.redis, 'session.ended')).toMatchObject({
        outcome: 'success',
        reason: 'admin',
        actor: `acct:${ids.security}`,
        subject: { accountId: ids.ivanova, login: 'ivanova' },
        sessionIdHash: handle,
        details: expect.objectContaining({ cause: 'officer', via: 'web' }),
      });
      const again = await end(officer, handle);
      expect([again.status, again.json.error.code]).toEqual([404, 'session_not_found']);
      expect((await end(officer, 'not-a-handle')).json.error.code).toBe('session_not_found');
    });

    it('an auditor lists but may not end: 403 forbidden, audited read_only, the session stays; a clinician may not list; the end needs Origin and the step-up', async () => {
      const iv = await logIn('ivanova');
      const handle = sha256Hex(sessionIdOf(iv));
      const auditor = await logIn('auditor');
      expect((await list(auditor, '?login=ivanova')).json.sessions.map((x: { handle: string }) => x.handle)).toContain(handle);
      forbidden(await end(auditor, handle));
      expect(await lastAudit(srv.redis, 'session.ended')).toMatchObject({ outcome: 'failure', reason: 'read_only', actor: `acct:${ids.auditor}`, subject: { login: 'ivanova' } });
      expect((await iv.get('/auth/session')).json.login).toBe('ivanova');

      forbidden(await list(iv));
      const officer = await logIn('security');
      officer.origin = null;
      expect((await end(officer, handle)).json.error.code).toBe('origin_forbidden');
      officer.origin = srv.config.CARDAUTH_PUBLIC_ORIGIN;
      clock.advance(900_001);
      expect((await end(officer, handle)).json.error.code).toBe('step_up_required');
      expect((await list(officer, '?login=ivanova')).status).toBe(200); // a read needs no step-up
      expect((await iv.get('/auth/session')).json.login).toBe('ivanova');
    });
  });

  describe('/admin/api/cards/:uid/unlock and /admin/api/agents/:id/unsuspend', () => {
    const lockCard = (login: string) => srv.redis.set(`rl:card:${uidOf(login)}`, '10', 'PX', 3_600_000);
    const cardFailures = async (login: string) => (await srv.services.lockout.cardCount(uidOf(login))).failures;
    const unlockCard = (c: TestClient, uid: string) => c.post(`/admin/api/cards/${uid}/unlock`, {});

    it("an officer unlocks a clinician's card: 200, audited card.unlocked with the officer, the account and before/after", async () => {
      await lockCard('ivanova');
      const officer = await logIn('security');
      const r = await unlockCard(officer, uidOf('ivanova').toLowerCase());
      expect(r.status).toBe(200);
      expect(r.json).toEqual({ uid: uidOf('ivanova'), accountId: ids.ivanova, failures: 10 });
      expect(await cardFailures('ivanova')).toBe(0);
      expect(await lastAudit(srv.redis, 'card.unlocked')).toMatchObject({
        outcome: 'success',
        actor: `acct:${ids.security}`,
        cardUid: uidOf('ivanova'),
        subject: { accountId: ids.ivanova, login: 'ivanova' },
        details: expect.objectContaining({ before: 'locked', after: 'unlocked', via: 'web' }),
      });
    });

    it("a privileged account's card only a chief_admin unlocks; nobody their own: 403 forbidden, audited as refusals, nothing changed", async () => {
      // Logged in first: a locked card's card step is refused.
      const officer = await logIn('security');
      const chief = await logIn('chief');
      await lockCard('security2');
      await lockCard('security');
      forbidden(await unlockCard(officer, uidOf('security2')));
      expect(await lastAudit(srv.redis, 'card.unlocked')).toMatchObject({ outcome: 'failure', reason: 'privileged_account', actor: `acct:${ids.security}`, subject: { login: 'security2' } });
      forbidden(await unlockCard(officer, uidOf('security')));
      expect(await lastAudit(srv.redis, 'card.unlocked')).toMatchObject({ outcome: 'failure', reason: 'own_account' });
      expect(await cardFailures('security2')).toBe(10);
      expect(await cardFailures('security')).toBe(10);

      expect(await unlockCard(chief, uidOf('security2'))).toMatchObject({ status: 200, json: { failures: 10 } });
      expect(await lastAudit(srv.redis, 'card.unlocked')).toMatchObject({ outcome: 'success', actor: `acct:${ids.chief}`, subject: { login: 'security2' } });
      await srv.redis.del(`rl:card:${uidOf('security')}`);
    });

    it('an officer unsuspends a suspended agent: 200 approved, audited agent.unsuspended; an auditor is refused (read_only); a bad id 404; a stale login step_up_required', async () => {
      const suspect = await srv.agent({ name: 'РМ-303' });
      expect(await srv.services.agents.countRefusal(suspect.id, { max: 1, windowSec: 300 })).toEqual({ count: 1, suspended: true });

      const auditor = await logIn('auditor');
      forbidden(await auditor.post(`/admin/api/agents/${suspect.id}/unsuspend`, {}));
      expect(await lastAudit(srv.redis, 'agent.unsuspended')).toMatchObject({ outcome: 'failure', reason: 'read_only', actor: `acct:${ids.auditor}` });
      expect((await srv.services.agents.get(suspect.id))?.status).toBe('suspended');

      const officer = await logIn('security');
      expect((await officer.post('/admin/api/agents/ag_nope/unsuspend', {})).json.error.code).toBe('agent_not_found');
      clock.advance(900_001);
      expect((await officer.post(`/admin/api/agents/${suspect.id}/unsuspend`, {})).json.error.code).toBe('step_up_required');
      await logIn('security', officer);
      const r = await officer.post(`/admin/api/agents/${suspect.id}/unsuspend`, {});
      expect(r.status).toBe(200);
      expect(r.json).toEqual({ id: suspect.id, name: 'РМ-303', status: 'approved' });
      expect(await lastAudit(srv.redis, 'agent.unsuspended')).toMatchObject({ outcome: 'success', actor: `acct:${ids.security}`, source: { agentId: suspect.id }, details: expect.objectContaining({ before: 'suspended', after: 'approved' }) });
      expect((await officer.post(`/admin/api/agents/${suspect.id}/unsuspend`, {})).status).toBe(409);
    });
  });
});
