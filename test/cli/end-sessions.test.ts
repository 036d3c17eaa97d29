import { lastAudit } from '../helpers/audit';
import { suiteServer, type TestAgent, type TestServer } from '../helpers/app';
import type { TestRedis } from '../helpers/redis';
import { cliEnv, OS_ACTOR, runCli } from './support';

// A revoked factor ends the sessions it opened: the officer's command against the server's Redis.
describe('revoking a card or an agent ends its open sessions', () => {
  let srv: TestServer;
  let agent: TestAgent;
  let env: Record<string, string>;
  suiteServer({ env: { CARDAUTH_IP_ATTEMPTS: '1000' } }, async (s, a, redis: TestRedis) => {
    [srv, agent] = [s, a];
    env = cliEnv({ REDIS_URL: redis.url });
    await srv.account('ivanova', 'Пароль-Ивановой-1', '04A1A1A1A1A1A1');
    await srv.account('petrov', 'Пароль-Петрова-22', '04B2B2B2B2B2B2');
  });

  const loggedIn = async (login: string, uid: string, password: string, at = agent) => {
    const c = srv.client();
    expect((await srv.login(c, at, uid, login, password)).status).toBe(200);
    return c;
  };

  it('card revoke: both sessions of that card end, audited session.ended (admin); another card keeps its session', async () => {
    const [a1, a2] = [await loggedIn('ivanova', '04A1A1A1A1A1A1', 'Пароль-Ивановой-1'), await loggedIn('ivanova', '04A1A1A1A1A1A1', 'Пароль-Ивановой-1')];
    const b = await loggedIn('petrov', '04B2B2B2B2B2B2', 'Пароль-Петрова-22');

    const r = await runCli(['card', 'revoke', '--uid', '04A1A1A1A1A1A1', '--reason', 'stolen'], { env });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('2 open session(s) ended');

    expect((await a1.get('/auth/session')).json.error.code).toBe('unauthenticated');
    expect((await a2.get('/auth/session')).json.error.code).toBe('unauthenticated');
    expect((await b.get('/auth/session')).json.login).toBe('petrov');
    expect(await lastAudit(srv.redis, 'session.ended')).toMatchObject({
      reason: 'admin',
      actor: OS_ACTOR,
      subject: { login: 'ivanova' },
      cardUid: '04A1A1A1A1A1A1',
      sessionIdHash: expect.stringMatching(/^[0-9a-f]{64}$/),
      details: { cause: 'card_revoked' },
    });
  });

  it('a card revoked by a run that stopped before its sweep: revoking again ends the sessions left', async () => {
    await srv.account('orlova', 'Пароль-Орловой-333', '04C3C3C3C3C3C3');
    const left = await loggedIn('orlova', '04C3C3C3C3C3C3', 'Пароль-Орловой-333');
    await srv.services.cards.revoke({ uid: '04C3C3C3C3C3C3', reason: 'lost', by: 'os:test' }); // the revoke alone, as if the sweep had failed
    expect((await left.get('/auth/session')).json.login).toBe('orlova');

    const r = await runCli(['card', 'revoke', '--uid', '04C3C3C3C3C3C3', '--reason', 'lost'], { env });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('was already revoked (lost); 1 open session(s) ended');
    expect((await left.get('/auth/session')).json.error.code).toBe('unauthenticated');
  });

  it('when the sessions cannot be ended the revocation is still audited, and the command says to run it again', async () => {
    await srv.account('zaitseva', 'Пароль-Зайцевой-4', '04D4D4D4D4D4D4');
    const left = await loggedIn('zaitseva', '04D4D4D4D4D4D4', 'Пароль-Зайцевой-4');
    // An operator whose Redis user may do everything but SCAN: the revoke works, the sweep cannot.
    await srv.redis.call('ACL', 'SETUSER', 'noscan', 'on', '>noscan-pw', '~*', '+@all', '-scan');
    const noScan = cliEnv({ REDIS_URL: env.REDIS_URL!.replace('redis://', 'redis://noscan:noscan-pw@') });

    const r = await runCli(['card', 'revoke', '--uid', '04D4D4D4D4D4D4', '--reason', 'stolen'], { env: noScan });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/card 04D4D4D4D4D4D4 was revoked and audited, but its open sessions could not be ended: .*; run the command again to end them/);
    expect(await lastAudit(srv.redis, 'card.revoked')).toMatchObject({ reason: 'stolen', cardUid: '04D4D4D4D4D4D4' });
    expect((await left.get('/auth/session')).json.login).toBe('zaitseva');

    const again = await runCli(['card', 'revoke', '--uid', '04D4D4D4D4D4D4', '--reason', 'stolen'], { env });
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('was already revoked (stolen); 1 open session(s) ended');
    expect((await left.get('/auth/session')).json.error.code).toBe('unauthenticated');
  });

  it('agent revoke: the sessions opened through it end; one opened at another workstation stays', async () => {
    const station = await srv.agent({ name: 'РМ-303' });
    const other = await srv.agent({ name: 'РМ-202' });
    const here = await loggedIn('petrov', '04B2B2B2B2B2B2', 'Пароль-Петрова-22', station);
    const there = await loggedIn('petrov', '04B2B2B2B2B2B2', 'Пароль-Петрова-22', other);

    const r = await runCli(['agent', 'revoke', station.id], { env });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('; 1 open session(s) ended');

    expect((await here.get('/auth/session')).json.error.code).toBe('unauthenticated');
    expect((await there.get('/auth/session')).json.login).toBe('petrov');
    expect(await lastAudit(srv.redis, 'session.ended')).toMatchObject({ reason: 'admin', actor: OS_ACTOR, source: { agentId: station.id }, details: { cause: 'agent_revoked' } });
  });
});
