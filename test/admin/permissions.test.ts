import { createAccountAdmin } from '../../src/admin/accounts';
import { createAgentAdmin } from '../../src/admin/agents';
import { createCardImport } from '../../src/admin/card-import';
import { createCardAdmin } from '../../src/admin/cards';
import { createIpLockAdmin } from '../../src/admin/ip-lock';
import { createSkudAdmin } from '../../src/presence/skud-admin';
import { refusal } from '../../src/admin/permissions';
import type { ChangedBy } from '../../src/admin/record-change';
import { normaliseUid, type Uid } from '../../src/contract/uid';
import type { Role } from '../../src/store/accounts';
import { failAttempt } from '../helpers/attempts';
import { auditRecords, lastAudit } from '../helpers/audit';
import { suiteServer, type TestServer } from '../helpers/app';

// The separation of duties (issue 10 §6), in the use cases themselves, so the command line and the pages get it alike.
describe('admin permissions', () => {
  let srv: TestServer;
  const ids: Record<string, string> = {};
  suiteServer({}, async (s) => {
    srv = s;
    const people: [string, Role[]][] = [
      ['ivanova', ['clinician']],
      ['petrov', ['clinician']],
      ['security', ['security_officer']],
      ['security2', ['security_officer']],
      ['auditor', ['auditor']],
      ['chief', ['chief_admin']],
    ];
    for (const [login, roles] of people) ids[login] = (await srv.account(login, `Пароль-${login}-2026!`, undefined, roles)).id;
  });
  /** Acting from a page as this account, with its roles as stored now. */
  const as = async (login: string): Promise<ChangedBy> => {
    const a = (await srv.services.accounts.findByLogin(login))!;
    return { actor: `acct:${a.id}`, via: { via: 'web', ip: '192.0.2.10' }, principal: { accountId: a.id, roles: a.roles } };
  };
  const accounts = () => createAccountAdmin(srv.services);
  const lock = (login: string) => failAttempt(srv.services.lockout, { accountId: ids[login]!, ip: '192.0.2.1' });
  /** The last record of `type`, which must be a refusal by `login`'s account with `reason`. */
  const refused = async (type: string, login: string, reason: string) =>
    expect(await lastAudit(srv.redis, type)).toMatchObject({ outcome: 'failure', reason, actor: `acct:${ids[login]}`, details: expect.objectContaining({ via: 'web' }) });

  it('a refused change names what it was about besides an account (domain.md §7): the agent, the card, the IP, the integration', async () => {
    const auditor = await as('auditor');
    const uid = normaliseUid('04D2D2D2D2D2D2');
    const forbidden = { code: 'forbidden' };
    await expect(createAgentAdmin(srv.services).approve(auditor, 'ag_0123456789abcdef')).rejects.toMatchObject(forbidden);
    expect(await lastAudit(srv.redis, 'agent.approved')).toMatchObject({ outcome: 'failure', reason: 'read_only', source: { agentId: 'ag_0123456789abcdef' } });
    await expect(createAgentAdmin(srv.services).revoke(auditor, 'ag_0123456789abcdef')).rejects.toMatchObject(forbidden);
    expect(await lastAudit(srv.redis, 'agent.revoked')).toMatchObject({ outcome: 'failure', reason: 'read_only', source: { agentId: 'ag_0123456789abcdef' } });
    await expect(createCardAdmin(srv.services).revoke(auditor, { uid, reason: 'lost' })).rejects.toMatchObject(forbidden);
    expect(await lastAudit(srv.redis, 'card.revoked')).toMatchObject({ outcome: 'failure', reason: 'read_only', cardUid: uid });
    await expect(createCardAdmin(srv.services).bind(auditor, { login: 'ivanova', uid })).rejects.toMatchObject(forbidden);
    expect(await lastAudit(srv.redis, 'card.bound')).toMatchObject({ outcome: 'failure', reason: 'read_only', cardUid: uid, subject: { login: 'ivanova' } });
    await expect(createIpLockAdmin(srv.services).unlock(auditor, '198.51.100.7')).rejects.toMatchObject(forbidden);
    expect(await lastAudit(srv.redis, 'ip.unlocked')).toMatchObject({ outcome: 'failure', reason: 'read_only', source: { ip: '198.51.100.7' } });
    await expect(createSkudAdmin(srv.services).remove(auditor, 'sk_0123456789abcdef')).rejects.toMatchObject(forbidden);
    expect(await lastAudit(srv.redis, 'skud.removed')).toMatchObject({ outcome: 'failure', reason: 'read_only', details: expect.objectContaining({ skudId: 'sk_0123456789abcdef', via: 'web' }) });
  });

  it('an officer cannot unlock, re-role or bind a card to their own account: forbidden, audited own_account, nothing changed', async () => {
    await lock('security');
    await expect(accounts().unlock(await as('security'), 'security')).rejects.toMatchObject({ code: 'forbidden' });
    await refused('account.unlocked', 'security', 'own_account');
    expect((await srv.services.lockout.accountCount(ids.security!)).failures).toBe(1);

    await expect(accounts().changeRoles(await as('security'), { login: 'security', add: ['chief_admin'] })).rejects.toMatchObject({ code: 'forbidden' });
    expect(await lastAudit(srv.redis, 'account.role_changed')).toMatchObject({ outcome: 'failure', reason: 'own_account', subject: { login: 'security' }, details: expect.objectContaining({ before: 'security_officer', after: 'security_officer,chief_admin' }) });
    expect((await srv.services.accounts.findByLogin('security'))!.roles).toEqual(['security_officer']);

    await expect(createCardAdmin(srv.services).bind(await as('security'), { login: 'security', uid: normaliseUid('04D1D1D1D1D1D1') })).rejects.toMatchObject({ code: 'forbidden' });
    await refused('card.bound', 'security', 'own_account');
    expect(await srv.services.cards.get(normaliseUid('04D1D1D1D1D1D1'))).toBeNull();
  });

  it('password reset: nobody resets their own, only a chief_admin a privileged account’s; refused ones forbidden, audited, the password kept', async () => {
    const hashOf = (login: string) => srv.redis.hget(`acct:${ids[login]}`, 'passwordHash');
    const [security, chief] = [await hashOf('security'), await hashOf('chief')];
    await expect(accounts().resetPassword(await as('security'), 'security')).rejects.toMatchObject({ code: 'forbidden' });
    expect(await lastAudit(srv.redis, 'password.reset')).toMatchObject({ outcome: 'failure', reason: 'own_account', actor: `acct:${ids.security}`, subject: { accountId: ids.security, login: 'security' } });
    await expect(accounts().resetPassword(await as('security'), 'chief')).rejects.toMatchObject({ code: 'forbidden' });
    await refused('password.reset', 'security', 'privileged_account');
    await expect(accounts().resetPassword(await as('security'), 'auditor')).rejects.toMatchObject({ code: 'forbidden' });
    await expect(accounts().resetPassword(await as('chief'), 'chief')).rejects.toMatchObject({ code: 'forbidden' });
    await refused('password.reset', 'chief', 'own_account');
    await expect(accounts().resetPassword(await as('auditor'), 'petrov')).rejects.toMatchObject({ code: 'forbidden' });
    await refused('password.reset', 'auditor', 'read_only');
    expect([await hashOf('security'), await hashOf('chief')]).toEqual([security, chief]);
    expect(await srv.redis.hget(`acct:${ids.security}`, 'passwordTemporary')).not.toBe('1');

    // Allowed: an officer resets a clinician's, a chief_admin an officer's.
    expect(await accounts().resetPassword(await as('security'), 'petrov')).toMatchObject({ account: { login: 'petrov', passwordTemporary: true } });
    expect(await lastAudit(srv.redis, 'password.reset')).toMatchObject({ outcome: 'success', actor: `acct:${ids.security}`, subject: { login: 'petrov' } });
    await accounts().resetPassword(await as('chief'), 'security2');
    expect(await lastAudit(srv.redis, 'password.reset')).toMatchObject({ outcome: 'success', actor: `acct:${ids.chief}`, subject: { login: 'security2' } });
  });

  it('card replace, lost and import: an auditor is refused read_only; nobody replaces their own card; only a chief_admin a privileged account’s; nothing changed', async () => {
    const cards = () => createCardAdmin(srv.services);
    const [ivanovaCard, securityCard, chiefCard] = ['04E1E1E1E1E1E1', '04E2E2E2E2E2E2', '04E3E3E3E3E3E3'].map((u) => normaliseUid(u)) as [Uid, Uid, Uid];
    for (const [login, uid] of [['ivanova', ivanovaCard], ['security', securityCard], ['chief', chiefCard]] as const) await srv.services.cards.bind({ uid, accountId: ids[login]!, by: 'os:test' });
    const NEW = normaliseUid('04E9E9E9E9E9E9');
    const unchanged = async () => {
      for (const uid of [ivanovaCard, securityCard, chiefCard]) expect(await srv.services.cards.get(uid)).toMatchObject({ status: 'active' });
      expect(await srv.services.cards.get(NEW)).toBeNull();
    };

    const auditor = await as('auditor');
    await expect(cards().replace(auditor, { oldUid: ivanovaCard, uid: NEW })).rejects.toMatchObject({ code: 'forbidden' });
    await refused('card.revoked', 'auditor', 'read_only');
    await expect(cards().lost(auditor, { uid: ivanovaCard })).rejects.toMatchObject({ code: 'forbidden' });
    await expect(cards().lost(auditor, { login: 'ivanova' })).rejects.toMatchObject({ code: 'forbidden' });
    await refused('card.revoked', 'auditor', 'read_only');
    await unchanged();

    const security = await as('security');
    await expect(cards().replace(security, { oldUid: securityCard, uid: NEW })).rejects.toMatchObject({ code: 'forbidden' });
    expect(await lastAudit(srv.redis, 'card.bound')).toMatchObject({ outcome: 'failure', reason: 'own_account', actor: `acct:${ids.security}`, subject: { login: 'security' } });
    await expect(cards().replace(security, { oldUid: chiefCard, uid: NEW })).rejects.toMatchObject({ code: 'forbidden' });
    expect(await lastAudit(srv.redis, 'card.bound')).toMatchObject({ outcome: 'failure', reason: 'privileged_account', actor: `acct:${ids.security}`, subject: { login: 'chief' } });
    await unchanged();

    // Import: one account the principal may not bind to refuses the whole file, dry run or not.
    const importAs = async (login: string, dryRun: boolean, ...lines: string[]) =>
      createCardImport(srv.services)(await as(login), { file: 'cards.csv', bytes: Buffer.from(['login;uid;label', ...lines].join('\n')), dryRun });
    const file = ['petrov;04E9E9E9E9E9E9;', 'chief;04E8E8E8E8E8E8;'];
    for (const dryRun of [true, false]) {
      await expect(importAs('security', dryRun, ...file)).rejects.toMatchObject({ code: 'forbidden' });
      expect(await lastAudit(srv.redis, 'card.bound')).toMatchObject({ outcome: 'failure', reason: 'privileged_account', subject: { login: 'chief' } });
    }
    await expect(importAs('security', false, 'security;04E9E9E9E9E9E9;')).rejects.toMatchObject({ code: 'forbidden' });
    expect(await lastAudit(srv.redis, 'card.bound')).toMatchObject({ outcome: 'failure', reason: 'own_account' });
    await expect(importAs('auditor', true, 'petrov;04E9E9E9E9E9E9;')).rejects.toMatchObject({ code: 'forbidden' });
    await refused('card.bound', 'auditor', 'read_only');
    await unchanged();
    expect(await srv.services.cards.get(normaliseUid('04E8E8E8E8E8E8'))).toBeNull();

    // Allowed: an officer replaces a clinician's card and imports for clinicians; a chief_admin replaces an officer's.
    expect(await cards().replace(security, { oldUid: ivanovaCard, uid: NEW })).toMatchObject({ account: { login: 'ivanova' }, binding: { uid: NEW, status: 'active' } });
    expect(await importAs('security', false, 'petrov;04E7E7E7E7E7E7;')).toMatchObject({ committed: true });
    expect(await cards().replace(await as('chief'), { oldUid: securityCard, uid: normaliseUid('04E6E6E6E6E6E6') })).toMatchObject({ account: { login: 'security' } });
    expect(await cards().lost(security, { login: 'petrov' })).toMatchObject({ binding: { uid: normaliseUid('04E7E7E7E7E7E7'), status: 'revoked' } });
  });

  it('a chief_admin cannot act on their own account either', async () => {
    await expect(accounts().changeRoles(await as('chief'), { login: 'chief', remove: ['chief_admin'], add: ['clinician'] })).rejects.toMatchObject({ code: 'forbidden' });
    await refused('account.role_changed', 'chief', 'own_account');
  });

  it('an auditor only reads: every change is forbidden and audited read_only', async () => {
    const by = await as('auditor');
    await expect(accounts().block(by, { login: 'ivanova' })).rejects.toMatchObject({ code: 'forbidden' });
    await refused('account.blocked', 'auditor', 'read_only');
    expect((await srv.services.accounts.findByLogin('ivanova'))!.status).toBe('active');
    await expect(createCardAdmin(srv.services).revoke(by, { uid: normaliseUid('04D2D2D2D2D2D2'), reason: 'lost' })).rejects.toMatchObject({ code: 'forbidden' });
    await refused('card.revoked', 'auditor', 'read_only');
    await expect(createAgentAdmin(srv.services).approve(by, 'ag_0000000000000000')).rejects.toMatchObject({ code: 'forbidden' });
    await refused('agent.approved', 'auditor', 'read_only');
    await expect(accounts().create(by, { login: 'new1', displayName: 'Н', roles: ['clinician'], password: 'Пароль-new1-2026!' })).rejects.toMatchObject({ code: 'forbidden' });
    expect(await srv.services.accounts.findByLogin('new1')).toBeNull();
  });

  it('a clinician changes nothing either', async () => {
    await expect(accounts().unblock(await as('petrov'), { login: 'ivanova' })).rejects.toMatchObject({ code: 'forbidden' });
    await refused('account.unblocked', 'petrov', 'read_only');
  });

  it('an officer cannot manage officers and auditors: create, block, unblock, unlock, grant or withdraw a privileged role', async () => {
    const by = await as('security');
    await expect(accounts().create(by, { login: 'officer3', displayName: 'О', roles: ['security_officer'], password: 'Пароль-officer3-2026!' })).rejects.toMatchObject({ code: 'forbidden' });
    await refused('account.created', 'security', 'privileged_account');
    expect(await srv.services.accounts.findByLogin('officer3')).toBeNull();

    await expect(accounts().block(by, { login: 'security2' })).rejects.toMatchObject({ code: 'forbidden' });
    expect(await lastAudit(srv.redis, 'account.blocked')).toMatchObject({ outcome: 'failure', reason: 'privileged_account', subject: { login: 'security2' } });
    await expect(accounts().block(by, { login: 'auditor' })).rejects.toMatchObject({ code: 'forbidden' });
    await expect(accounts().unblock(by, { login: 'chief' })).rejects.toMatchObject({ code: 'forbidden' });

    await lock('security2');
    await expect(accounts().unlock(by, 'security2')).rejects.toMatchObject({ code: 'forbidden' });
    await refused('account.unlocked', 'security', 'privileged_account');
    expect((await srv.services.lockout.accountCount(ids.security2!)).failures).toBe(1);

    // Granting an officer role to a clinician makes an officer: the chief's call too.
    await expect(accounts().changeRoles(by, { login: 'petrov', add: ['security_officer'] })).rejects.toMatchObject({ code: 'forbidden' });
    await refused('account.role_changed', 'security', 'privileged_account');
    await expect(accounts().changeRoles(by, { login: 'auditor', set: ['clinician'] })).rejects.toMatchObject({ code: 'forbidden' });
    expect((await srv.services.accounts.findByLogin('petrov'))!.roles).toEqual(['clinician']);
  });

  it('an officer manages clinicians: unlock, block, unblock, bind a card; each change audited with the actor, target and before/after', async () => {
    const by = await as('security');
    await lock('ivanova');
    expect(await accounts().unlock(by, 'ivanova')).toMatchObject({ failures: 1 });
    expect(await lastAudit(srv.redis, 'account.unlocked')).toMatchObject({ outcome: 'success', actor: `acct:${ids.security}`, subject: { login: 'ivanova' }, details: expect.objectContaining({ failures: 1 }) });

    await accounts().block(by, { login: 'ivanova', note: 'отпуск' });
    expect(await lastAudit(srv.redis, 'account.blocked')).toMatchObject({ outcome: 'success', actor: `acct:${ids.security}`, subject: { login: 'ivanova' }, details: expect.objectContaining({ before: 'active', after: 'blocked', note: 'отпуск' }) });
    await accounts().unblock(by, { login: 'ivanova' });
    expect(await lastAudit(srv.redis, 'account.unblocked')).toMatchObject({ outcome: 'success', details: expect.objectContaining({ before: 'blocked', after: 'active' }) });

    const uid = normaliseUid('04D3D3D3D3D3D3');
    expect(await createCardAdmin(srv.services).bind(by, { login: 'ivanova', uid })).toMatchObject({ binding: { uid, status: 'active' } });
    expect(await createCardAdmin(srv.services).revoke(by, { uid, reason: 'lost' })).toMatchObject({ binding: { status: 'revoked' } });
  });

  it('a chief_admin manages officers: unlocks one, changes roles; role_changed records before and after; a no-op records nothing', async () => {
    const by = await as('chief');
    expect(await accounts().unlock(by, 'security2')).toMatchObject({ failures: 1 });
    expect(await lastAudit(srv.redis, 'account.unlocked')).toMatchObject({ outcome: 'success', actor: `acct:${ids.chief}`, subject: { login: 'security2' } });

    expect(await accounts().changeRoles(by, { login: 'petrov', add: ['security_officer'] })).toMatchObject({ changed: true, ended: 0, before: ['clinician'], account: { roles: ['clinician', 'security_officer'] } });
    expect(await lastAudit(srv.redis, 'account.role_changed')).toMatchObject({
      outcome: 'success',
      actor: `acct:${ids.chief}`,
      subject: { accountId: ids.petrov, login: 'petrov' },
      details: expect.objectContaining({ before: 'clinician', after: 'clinician,security_officer', via: 'web' }),
    });
    expect((await srv.services.accounts.findByLogin('petrov'))!.roles).toEqual(['clinician', 'security_officer']);

    expect(await accounts().changeRoles(by, { login: 'petrov', remove: ['security_officer'] })).toMatchObject({ changed: true, account: { roles: ['clinician'] } });
    const count = (await auditRecords(srv.redis, 'account.role_changed')).length;
    expect(await accounts().changeRoles(by, { login: 'petrov', set: ['clinician'] })).toMatchObject({ changed: false });
    expect(await auditRecords(srv.redis, 'account.role_changed')).toHaveLength(count);
  });

  it('roles: none left, or set with add, is bad_request before any check or record', async () => {
    const count = (await auditRecords(srv.redis)).length;
    await expect(accounts().changeRoles(await as('chief'), { login: 'petrov', remove: ['clinician'] })).rejects.toMatchObject({ code: 'bad_request' });
    await expect(accounts().changeRoles(await as('chief'), { login: 'petrov', set: ['clinician'], add: ['auditor'] })).rejects.toMatchObject({ code: 'bad_request' });
    expect(await auditRecords(srv.redis)).toHaveLength(count);
  });

  it('the command line is the system principal: it passes every check', () => {
    expect(refusal('system', 'account.role_changed', { accountId: 'acc_0000000000000001', roles: ['chief_admin'], newRoles: ['clinician'] })).toBeNull();
    expect(refusal('system', 'account.unlocked', { roles: ['security_officer'] })).toBeNull();
  });
});
