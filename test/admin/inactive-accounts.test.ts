import { createAccountAdmin } from '../../src/admin/accounts';
import { createInactiveAccountBlock } from '../../src/admin/inactive-accounts';
import { createInactivityJob, INACTIVITY_ACTOR } from '../../src/admin/inactivity-job';
import { silentLogger } from '../../src/logger';
import { auditRecords, lastAudit } from '../helpers/audit';
import { manualClock, suiteServer, type TestServer } from '../helpers/app';
import { byOfficer, OFFICER } from './support';

const DAY = 86_400_000;
const PW = 'Пароль-Неактивного-1';

describe('accounts unused for N days are blocked (ИАФ.1)', () => {
  let srv: TestServer;
  const clock = manualClock(Date.parse('2026-01-10T08:00:00Z'));
  let n = 0;
  suiteServer({ clock, env: { CARDAUTH_IP_ATTEMPTS: '1000' } }, (s) => {
    srv = s;
  });
  const sweep = (dryRun = false, days = 90) => createInactiveAccountBlock(srv.services)(OFFICER, { days, now: clock.now(), dryRun });
  const blockedLogins = async (dryRun = false) => (await sweep(dryRun)).blocked.map((b) => b.account.login).filter((l) => l.startsWith('idle'));
  const status = async (login: string) => (await srv.services.accounts.findByLogin(login))?.status;
  const fresh = async () => {
    const login = `idle${++n}`;
    const uid = `04${n.toString(16).toUpperCase().padStart(12, '0')}`;
    await srv.account(login, PW, uid);
    return { login, uid };
  };
  // Each test starts with every earlier account blocked, so it sees only its own.
  beforeEach(async () => {
    clock.advance(1000 * DAY);
    await sweep();
  });

  it('counts from creation for an account never logged in: not at 89 days, blocked at 90, audited account.blocked reason inactive', async () => {
    const a = await fresh();
    const created = clock.now();
    clock.advance(90 * DAY - 1);
    expect(await blockedLogins()).toEqual([]);
    clock.advance(1);
    expect(await blockedLogins(true)).toEqual([a.login]);
    expect(await status(a.login)).toBe('active');
    expect(await blockedLogins()).toEqual([a.login]);
    expect(await status(a.login)).toBe('blocked');
    const records = (await auditRecords(srv.redis, 'account.blocked')).filter((r) => r.subject?.login === a.login);
    expect(records).toEqual([
      expect.objectContaining({ ...byOfficer, reason: 'inactive', details: expect.objectContaining({ lastActivity: new Date(created).toISOString(), days: 90 }) }),
    ]);
    // Blocked: the login fails with the one generic answer (the card step passes; the password step refuses).
    const res = await srv.login(srv.client(), await srv.agent(), a.uid, a.login, PW);
    expect(res.json.error.code).toBe('login_failed');
    expect(await lastAudit(srv.redis, 'password.checked')).toMatchObject({ outcome: 'failure', reason: 'account_blocked', subject: { login: a.login } });
  });

  it('counts from the last login; a sweep again blocks nobody twice', async () => {
    const a = await fresh();
    clock.advance(50 * DAY);
    // A fresh agent: a workstation's address counts for 90 days after it was seen, and this clock has run for years.
    expect((await srv.login(srv.client(), await srv.agent(), a.uid, a.login, PW)).status).toBe(200);
    clock.advance(89 * DAY);
    expect(await blockedLogins()).toEqual([]);
    clock.advance(DAY);
    expect(await blockedLogins()).toEqual([a.login]);
    expect(await blockedLogins()).toEqual([]);
  });

  it('an unblocked account counts again from its unblock, not from its old login', async () => {
    const a = await fresh();
    clock.advance(90 * DAY);
    expect(await blockedLogins()).toEqual([a.login]);
    clock.advance(DAY);
    await createAccountAdmin(srv.services).unblock(OFFICER, { login: a.login });
    expect(await blockedLogins()).toEqual([]);
    clock.advance(90 * DAY);
    expect(await blockedLogins()).toEqual([a.login]);
  });

  it('a login recorded between the list and the block wins: the block is decided again in Redis', async () => {
    const a = await fresh();
    clock.advance(100 * DAY);
    const account = (await srv.services.accounts.findByLogin(a.login))!;
    await srv.services.accounts.recordLogin(account.id, { at: clock.now(), workstation: 'РМ-101' });
    expect(await srv.services.inactivity.blockIfUnused(account.id, clock.now() - 90 * DAY)).toEqual({ blocked: false });
    expect(await status(a.login)).toBe('active');
  });

  it('two sweeps at once (two nodes) block each account once, with one record', async () => {
    const [a, b] = [await fresh(), await fresh()];
    clock.advance(90 * DAY);
    const before = (await auditRecords(srv.redis, 'account.blocked')).length;
    const [x, y] = await Promise.all([sweep(), sweep()]);
    expect([...x.blocked, ...y.blocked].map((r) => r.account.login).sort()).toEqual([a.login, b.login]);
    expect((await auditRecords(srv.redis, 'account.blocked')).length - before).toBe(2);
  });

  it("the server's hourly job: one node takes the hour's lease and sweeps as system:inactivity, the other skips; 0 days is off", async () => {
    const a = await fresh();
    clock.advance(90 * DAY);
    await srv.redis.del('job:inactive-block');
    const job = () => createInactivityJob({ redis: srv.redis, stores: srv.services, clock, logger: silentLogger, days: 90 });
    const [one, two] = await Promise.all([job().tick(), job().tick()]);
    expect([one, two].map((t) => t.outcome).sort()).toEqual(['ran', 'skipped']);
    expect(await status(a.login)).toBe('blocked');
    expect((await auditRecords(srv.redis, 'account.blocked')).filter((r) => r.subject?.login === a.login)).toEqual([
      expect.objectContaining({ actor: INACTIVITY_ACTOR.actor, reason: 'inactive', details: expect.objectContaining({ via: 'server' }) }),
    ]);
    expect(await createInactivityJob({ redis: srv.redis, stores: srv.services, clock, logger: silentLogger, days: 0 }).tick()).toEqual({ outcome: 'off' });
  });

  it('an unused officer: an officer’s sweep is refused (only a chief_admin blocks one; audited, nobody blocked); the job, the system principal, blocks it', async () => {
    const a = await fresh();
    await srv.account('idle-officer', PW, undefined, ['security_officer']);
    clock.advance(90 * DAY);
    await expect(sweep()).rejects.toMatchObject({ code: 'forbidden' });
    expect(await lastAudit(srv.redis, 'account.blocked')).toMatchObject({ outcome: 'failure', reason: 'privileged_account', actor: OFFICER.actor, subject: { login: 'idle-officer' } });
    expect([await status(a.login), await status('idle-officer')]).toEqual(['active', 'active']);

    await srv.redis.del('job:inactive-block');
    expect(await createInactivityJob({ redis: srv.redis, stores: srv.services, clock, logger: silentLogger, days: 90 }).tick()).toMatchObject({ outcome: 'ran' });
    expect([await status(a.login), await status('idle-officer')]).toEqual(['blocked', 'blocked']);
    expect(await lastAudit(srv.redis, 'account.blocked')).toMatchObject({ outcome: 'success', reason: 'inactive', actor: INACTIVITY_ACTOR.actor });
  });
});
