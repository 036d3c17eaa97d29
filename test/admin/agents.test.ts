import { exportJWK, generateKeyPair } from 'jose';
import { createAgentAdmin } from '../../src/admin/agents';
import { auditRecords, lastAudit } from '../helpers/audit';
import { suiteServer, type TestAgent, type TestServer } from '../helpers/app';
import { byOfficer, OFFICER } from './support';

// The agent use cases as the officer's pages will call them: no command line in between.
describe('agent admin services', () => {
  let srv: TestServer;
  let agent: TestAgent;
  suiteServer({ env: { CARDAUTH_IP_ATTEMPTS: '1000' } }, async (s, a) => {
    [srv, agent] = [s, a];
    await srv.account('orlova', 'Пароль-Орловой-333', '04C3C3C3C3C3C3');
  });
  const admin = () => createAgentAdmin(srv.services);

  it('register, then approve only with the right fingerprint: approved by the officer, audited as the officer', async () => {
    const { publicKey } = await generateKeyPair('EdDSA', { extractable: true });
    const registered = await admin().register(OFFICER, { name: 'Кабинет 12', publicJwk: await exportJWK(publicKey) });
    expect(registered.status).toBe('pending');
    expect(await lastAudit(srv.redis, 'agent.registered')).toMatchObject({ ...byOfficer, source: { agentId: registered.id } });

    const before = (await auditRecords(srv.redis)).length;
    await expect(admin().approve(OFFICER, registered.id, { fingerprint: 'A'.repeat(43) })).rejects.toMatchObject({ code: 'agent_state' });
    expect((await srv.services.agents.get(registered.id))?.status).toBe('pending');
    expect(await auditRecords(srv.redis)).toHaveLength(before);

    const approved = await admin().approve(OFFICER, registered.id, { fingerprint: registered.fingerprint });
    expect(approved).toMatchObject({ status: 'approved', approvedBy: OFFICER.actor });
    expect(await lastAudit(srv.redis, 'agent.approved')).toMatchObject({ ...byOfficer, source: { agentId: registered.id } });
    expect((await lastAudit(srv.redis, 'agent.approved'))?.details).toMatchObject({ before: 'pending', after: 'approved' });
  });

  it('revoke: the session opened through the agent ends, audited as the officer; a repeat only ends sessions', async () => {
    const c = srv.client();
    expect((await srv.login(c, agent, '04C3C3C3C3C3C3', 'orlova', 'Пароль-Орловой-333')).status).toBe(200);

    expect(await admin().revoke(OFFICER, agent.id)).toMatchObject({ already: false, ended: 1, agent: { status: 'revoked' } });
    expect((await c.get('/auth/session')).json.error.code).toBe('unauthenticated');
    expect(await lastAudit(srv.redis, 'agent.revoked')).toMatchObject({ ...byOfficer, source: { agentId: agent.id } });
    expect((await lastAudit(srv.redis, 'agent.revoked'))?.details).toMatchObject({ before: 'approved', after: 'revoked' });
    expect(await lastAudit(srv.redis, 'session.ended')).toMatchObject({ ...byOfficer, source: { agentId: agent.id }, details: expect.objectContaining({ cause: 'agent_revoked' }) });

    expect(await admin().revoke(OFFICER, agent.id)).toMatchObject({ already: true, ended: 0 });
  });
});
