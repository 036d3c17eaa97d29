import { createCardAdmin } from '../../src/admin/cards';
import { normaliseUid } from '../../src/contract/uid';
import { lastAudit } from '../helpers/audit';
import { suiteServer, type TestAgent, type TestServer } from '../helpers/app';
import { byOfficer, OFFICER } from './support';

// The card use cases as the officer's pages will call them: no command line in between.
describe('card admin services', () => {
  let srv: TestServer;
  let agent: TestAgent;
  suiteServer({ env: { CARDAUTH_IP_ATTEMPTS: '1000' } }, async (s, a) => {
    [srv, agent] = [s, a];
    await srv.account('petrov', 'Пароль-Петрова-22');
  });
  const admin = () => createCardAdmin(srv.services);
  const UID = normaliseUid('04B2B2B2B2B2B2');

  it('bind: the card is on the allow-list, bound by the officer, audited card.bound as the officer', async () => {
    const r = await admin().bind(OFFICER, { login: 'petrov', uid: UID, label: 'ЕКП' });
    expect(r).toMatchObject({ reissued: false, account: { login: 'petrov' }, binding: { uid: UID, status: 'active', boundBy: OFFICER.actor } });
    expect(await lastAudit(srv.redis, 'card.bound')).toMatchObject({ ...byOfficer, cardUid: UID, subject: { login: 'petrov' } });
  });

  it('revoke: the card stops, the session opened with it ends, audited as the officer; a repeat only ends sessions', async () => {
    const c = srv.client();
    expect((await srv.login(c, agent, UID, 'petrov', 'Пароль-Петрова-22')).status).toBe(200);

    expect(await admin().revoke(OFFICER, { uid: UID, reason: 'lost' })).toMatchObject({ already: false, ended: 1, binding: { status: 'revoked' } });
    expect((await c.get('/auth/session')).json.error.code).toBe('unauthenticated');
    expect(await lastAudit(srv.redis, 'card.revoked')).toMatchObject({ ...byOfficer, reason: 'lost', cardUid: UID, subject: { login: 'petrov' }, details: expect.objectContaining({ before: 'active', after: 'revoked' }) });
    expect(await lastAudit(srv.redis, 'session.ended')).toMatchObject({ ...byOfficer, cardUid: UID, details: expect.objectContaining({ cause: 'card_revoked' }) });

    expect(await admin().revoke(OFFICER, { uid: UID, reason: 'lost' })).toMatchObject({ already: true, ended: 0, binding: { revokeReason: 'lost' } });
  });

  it('binding a revoked card again needs a re-issue reason, and is audited card.reissued', async () => {
    await expect(admin().bind(OFFICER, { login: 'petrov', uid: UID })).rejects.toMatchObject({ code: 'card_revoked' });
    expect(await admin().bind(OFFICER, { login: 'petrov', uid: UID, reissueReason: 'нашлась' })).toMatchObject({ reissued: true });
    expect(await lastAudit(srv.redis, 'card.reissued')).toMatchObject({ ...byOfficer, details: expect.objectContaining({ reissueReason: 'нашлась' }) });
  });

  it('replace: the old card revoked (card.revoked with replacedBy and its status before and after), the new one bound with replaces', async () => {
    const [OLD, NEW] = [normaliseUid('04B3B3B3B3B3B3'), normaliseUid('04B4B4B4B4B4B4')];
    await admin().bind(OFFICER, { login: 'petrov', uid: OLD });
    expect(await admin().replace(OFFICER, { oldUid: OLD, uid: NEW })).toMatchObject({ account: { login: 'petrov' }, old: { status: 'revoked' }, binding: { uid: NEW, status: 'active' } });
    expect(await lastAudit(srv.redis, 'card.revoked')).toMatchObject({ ...byOfficer, reason: 'replaced', cardUid: OLD, details: expect.objectContaining({ replacedBy: NEW, before: 'active', after: 'revoked' }) });
    expect(await lastAudit(srv.redis, 'card.bound')).toMatchObject({ ...byOfficer, cardUid: NEW, details: expect.objectContaining({ replaces: OLD }) });
  });
});
