import { createAccountAdmin } from '../../src/admin/accounts';
import { failAttempt } from '../helpers/attempts';
import { auditRecords, lastAudit } from '../helpers/audit';
import { suiteServer, type TestAgent, type TestServer } from '../helpers/app';
import { byOfficer, OFFICER } from './support';

// The account use cases as the officer's pages will call them: no command line in between.
describe('account admin services', () => {
  let srv: TestServer;
  let agent: TestAgent;
  suiteServer({ env: { CARDAUTH_IP_ATTEMPTS: '1000' } }, async (s, a) => {
    [srv, agent] = [s, a];
    await srv.account('ivanova', 'Пароль-Ивановой-1', '04A1A1A1A1A1A1');
  });
  const admin = () => createAccountAdmin(srv.services);

  it('block: the account is blocked, its open session ends, and both records name the officer and the page', async () => {
    const c = srv.client();
    expect((await srv.login(c, agent, '04A1A1A1A1A1A1', 'ivanova', 'Пароль-Ивановой-1')).status).toBe(200);

    const r = await admin().block(OFFICER, { login: 'ivanova', note: 'уволена' });
    expect(r).toMatchObject({ already: false, ended: 1, account: { login: 'ivanova' } });
    expect((await srv.services.accounts.findByLogin('ivanova'))?.status).toBe('blocked');
    expect((await c.get('/auth/session')).json.error.code).toBe('unauthenticated');
    expect(await lastAudit(srv.redis, 'account.blocked')).toMatchObject({ ...byOfficer, subject: { login: 'ivanova' } });
    expect(await lastAudit(srv.redis, 'session.ended')).toMatchObject({ ...byOfficer, reason: 'admin', details: expect.objectContaining({ cause: 'account_blocked' }) });
    expect((await auditRecords(srv.redis)).filter((e) => e.details?.via === 'cli')).toEqual([]);

    expect(await admin().block(OFFICER, { login: 'ivanova' })).toMatchObject({ already: true, ended: 0 });
  });

  it('reset-password: the one-time password is temporary, the open session ends, both audited as the officer', async () => {
    await srv.account('sidorova', 'Пароль-для-сброса-1', '04B2B2B2B2B2B2');
    const c = srv.client();
    expect((await srv.login(c, agent, '04B2B2B2B2B2B2', 'sidorova', 'Пароль-для-сброса-1')).status).toBe(200);
    const r = await admin().resetPassword(OFFICER, 'sidorova');
    expect(r).toMatchObject({ ended: 1, account: { login: 'sidorova', passwordTemporary: true } });
    expect((await c.get('/auth/session')).json.error.code).toBe('unauthenticated');
    expect(await lastAudit(srv.redis, 'password.reset')).toMatchObject({ ...byOfficer, subject: { login: 'sidorova' } });
    expect(await lastAudit(srv.redis, 'session.ended')).toMatchObject({ ...byOfficer, reason: 'admin', subject: { login: 'sidorova' }, details: expect.objectContaining({ cause: 'password_reset' }) });
    expect(JSON.stringify(await auditRecords(srv.redis))).not.toContain(r.password);
  });

  it('unblock and unlock: changed once, audited as the officer; a repeat changes nothing', async () => {
    expect(await admin().unblock(OFFICER, { login: 'ivanova' })).toMatchObject({ changed: true });
    expect(await lastAudit(srv.redis, 'account.unblocked')).toMatchObject(byOfficer);
    expect(await admin().unblock(OFFICER, { login: 'ivanova' })).toMatchObject({ changed: false });

    const { id } = (await srv.services.accounts.findByLogin('ivanova'))!;
    await failAttempt(srv.services.lockout, { accountId: id, ip: '192.0.2.1' });
    expect(await admin().unlock(OFFICER, 'ivanova')).toMatchObject({ failures: 1 });
    expect(await lastAudit(srv.redis, 'account.unlocked')).toMatchObject({ ...byOfficer, details: expect.objectContaining({ failures: 1 }) });
    expect(await admin().unlock(OFFICER, 'ivanova')).toMatchObject({ failures: 0 });
  });

  it('an unknown login is account_not_found, and nothing is recorded', async () => {
    const before = (await auditRecords(srv.redis)).length;
    await expect(admin().block(OFFICER, { login: 'nobody' })).rejects.toMatchObject({ code: 'account_not_found' });
    expect(await auditRecords(srv.redis)).toHaveLength(before);
  });
});
