import { exportJWK, generateKeyPair } from 'jose';
import { createAccountGateAdmin } from '../../src/presence/account-gate';
import { createSkudAdmin } from '../../src/presence/skud-admin';
import { lastAudit } from '../helpers/audit';
import { suiteServer, type TestServer } from '../helpers/app';
import { byOfficer, OFFICER } from '../admin/support';

// The presence use cases as the officer's pages will call them: the separation of duties holds.
describe('presence admin services: separation of duties', () => {
  let srv: TestServer;
  suiteServer({}, async (s) => {
    srv = s;
    await srv.account('ivanova', 'Пароль-Ивановой-1');
    await srv.account('chief', 'Пароль-главного-1', undefined, ['chief_admin']);
  });
  const AUDITOR = { ...OFFICER, principal: { accountId: 'acc_00000000000000ee', roles: ['auditor'] as const } } as unknown as typeof OFFICER;
  const publicJwk = async () => exportJWK((await generateKeyPair('EdDSA', { extractable: true })).publicKey);

  it('an officer adds and removes an integration, audited as the officer; an auditor is refused (read_only), audited', async () => {
    const i = await createSkudAdmin(srv.services).add(OFFICER, { name: 'Gate', publicJwk: await publicJwk() });
    expect(await lastAudit(srv.redis, 'skud.added')).toMatchObject({ ...byOfficer, details: expect.objectContaining({ skudId: i.id }) });
    await expect(createSkudAdmin(srv.services).remove(AUDITOR, i.id)).rejects.toMatchObject({ code: 'forbidden' });
    expect(await lastAudit(srv.redis, 'skud.removed')).toMatchObject({ outcome: 'failure', reason: 'read_only' });
    await createSkudAdmin(srv.services).remove(OFFICER, i.id);
    expect(await srv.services.skud.get(i.id)).toBeNull();
  });

  it("gating an account: an officer gates a clinician; not their own account, nor a chief_admin's", async () => {
    expect((await createAccountGateAdmin(srv.services).set(OFFICER, { login: 'ivanova', required: true })).changed).toBe(true);
    expect((await srv.services.accounts.findByLogin('ivanova'))?.presenceRequired).toBe(true);
    await expect(createAccountGateAdmin(srv.services).set(OFFICER, { login: 'chief', required: true })).rejects.toMatchObject({ code: 'forbidden' });
    expect(await lastAudit(srv.redis, 'account.presence_changed')).toMatchObject({ outcome: 'failure', reason: 'privileged_account' });
    const me = await srv.account('officer1', 'Пароль-офицера-1', undefined, ['security_officer']);
    const self = { ...OFFICER, principal: { accountId: me.id, roles: ['security_officer'] } } as typeof OFFICER;
    await expect(createAccountGateAdmin(srv.services).set(self, { login: 'officer1', required: false })).rejects.toMatchObject({ code: 'forbidden' });
  });
});
