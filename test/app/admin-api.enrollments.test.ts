import type { ChangedBy } from '../../src/admin/record-change';
import { createEnrollmentAdmin } from '../../src/admin/enrollments';
import { normaliseUid } from '../../src/contract/uid';
import { OFFICER } from '../admin/support';
import { lastAudit } from '../helpers/audit';
import { suitePeople, type TestAgent, type TestServer } from '../helpers/app';

// The officer's side of self-enrollment: the admin API's list, approve and reject, and the
// separation of duties of the use case they call.
describe('admin API: /admin/api/cards/pending', () => {
  let srv: TestServer;
  let agent: TestAgent;
  const PEOPLE: Array<[string, string, string[]]> = [
    ['security', '04D1D1D1D1D1D1', ['security_officer']],
    ['auditor', '04D2D2D2D2D2D2', ['auditor']],
  ];
  let n = 0;
  const { ids, password, logIn } = suitePeople(PEOPLE, { env: { CARDAUTH_SELF_ENROLLMENT: 'true', CARDAUTH_IP_ATTEMPTS: '1000' } }, (s, a) => {
    [srv, agent] = [s, a];
  });
  /** An account (no card) with a pending request for a fresh card, made at the login. */
  const requested = async (roles = ['clinician']) => {
    const login = `novichok${++n}`;
    const { id } = await srv.account(login, password(login), undefined, roles);
    const card = normaliseUid(`04${(0xd00000 + n).toString(16).toUpperCase().padStart(12, '0')}`);
    const c = srv.client();
    await c.post('/auth/card', { statement: await srv.statementFor(c, agent, card) });
    expect((await c.post('/auth/password', { login, password: password(login) })).status).toBe(202);
    return { login, id, card };
  };

  it('an officer lists, approves (the card is bound and logs in) and rejects; audited as the officer from the web', async () => {
    const [a, b] = [await requested(), await requested()];
    const officer = await logIn('security');
    const list = await officer.get('/admin/api/cards/pending');
    expect(list.status).toBe(200);
    expect(list.json.pending).toEqual([
      expect.objectContaining({ uid: a.card, login: a.login, displayName: `Д-р ${a.login}`, agentId: agent.id, workstation: 'РМ-101' }),
      expect.objectContaining({ uid: b.card, login: b.login }),
    ]);

    const ok = await officer.post(`/admin/api/cards/pending/${a.card}/approve`, {});
    expect(ok.status).toBe(200);
    expect(ok.json).toEqual({ login: a.login, uid: a.card, status: 'active' });
    expect(await srv.services.cards.get(a.card)).toMatchObject({ accountId: a.id, status: 'active', boundBy: `acct:${ids.security}` });
    expect(await lastAudit(srv.redis, 'card.enrollment_approved')).toMatchObject({
      outcome: 'success',
      actor: `acct:${ids.security}`,
      cardUid: a.card,
      subject: { accountId: a.id, login: a.login },
      details: expect.objectContaining({ before: 'pending', after: 'active', agentId: agent.id, workstation: 'РМ-101', via: 'web' }),
    });
    expect((await srv.login(srv.client(), agent, a.card, a.login, password(a.login))).status).toBe(200);

    expect((await officer.post(`/admin/api/cards/pending/${b.card}/reject`, {})).status).toBe(400);
    const no = await officer.post(`/admin/api/cards/pending/${b.card}/reject`, { reason: 'не та карта' });
    expect(no.status).toBe(200);
    expect(no.json).toEqual({ login: b.login, uid: b.card });
    expect(await srv.services.enrollments.get(b.card)).toBeNull();
    expect(await srv.services.cards.get(b.card)).toBeNull();

    const gone = await officer.post(`/admin/api/cards/pending/${b.card}/approve`, {});
    expect(gone.status).toBe(404);
    expect(gone.json.error.code).toBe('enrollment_not_found');
    expect((await officer.get('/admin/api/cards/pending')).json.pending).toEqual([]);
  });

  it('an auditor lists but may not approve or reject: 403, audited read_only, nothing changed', async () => {
    const a = await requested();
    const auditor = await logIn('auditor');
    expect((await auditor.get('/admin/api/cards/pending')).json.pending).toEqual([expect.objectContaining({ uid: a.card })]);
    const r = await auditor.post(`/admin/api/cards/pending/${a.card}/approve`, {});
    expect(r.status).toBe(403);
    expect(r.json.error.code).toBe('forbidden');
    expect(await lastAudit(srv.redis, 'card.enrollment_approved')).toMatchObject({ outcome: 'failure', reason: 'read_only', actor: `acct:${ids.auditor}` });
    expect((await auditor.post(`/admin/api/cards/pending/${a.card}/reject`, { reason: 'x' })).status).toBe(403);
    expect(await srv.services.enrollments.get(a.card)).not.toBeNull();
    expect(await srv.services.cards.get(a.card)).toBeNull();
  });

  it('separation of duties: nobody approves a card for their own account; a privileged account needs a chief_admin (audited, nothing bound)', async () => {
    const admin = createEnrollmentAdmin(srv.services);
    const own = await requested();
    const self: ChangedBy = { ...OFFICER, actor: `acct:${own.id}`, principal: { accountId: own.id, roles: ['security_officer'] } };
    await expect(admin.approve(self, { uid: own.card })).rejects.toMatchObject({ code: 'forbidden' });
    expect(await lastAudit(srv.redis, 'card.enrollment_approved')).toMatchObject({ outcome: 'failure', reason: 'own_account', subject: { accountId: own.id } });
    expect(await srv.services.cards.get(own.card)).toBeNull();

    const officer2 = await requested(['security_officer']);
    await expect(admin.approve(OFFICER, { uid: officer2.card })).rejects.toMatchObject({ code: 'forbidden' });
    expect(await lastAudit(srv.redis, 'card.enrollment_approved')).toMatchObject({ outcome: 'failure', reason: 'privileged_account', subject: { login: officer2.login } });
    const chief: ChangedBy = { ...OFFICER, principal: { accountId: OFFICER.actor.slice(5), roles: ['chief_admin'] } };
    expect((await admin.approve(chief, { uid: officer2.card })).binding.status).toBe('active');
  });

  it("an officer's card bind of a requested card supersedes the request: approve is then card_bound, and reject clears it", async () => {
    const a = await requested();
    const other = await srv.account(`other${++n}`, password('x'));
    await srv.services.cards.bind({ uid: a.card, accountId: other.id, by: 'os:test' });
    const admin = createEnrollmentAdmin(srv.services);
    await expect(admin.approve(OFFICER, { uid: a.card })).rejects.toMatchObject({ code: 'card_bound' });
    await admin.reject(OFFICER, { uid: a.card, note: 'выдана другому' });
    expect(await srv.services.enrollments.get(a.card)).toBeNull();
    expect((await srv.services.cards.get(a.card))?.accountId).toBe(other.id);
  });
});
