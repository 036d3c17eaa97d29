import { sha256Hex } from '../../src/audit/record';
import { lastAudit } from '../helpers/audit';
import { suiteServer, type TestAgent, type TestServer } from '../helpers/app';
import type { TestRedis } from '../helpers/redis';
import { cliEnv, OS_ACTOR, runCli } from './support';

// `cardauth session list` and `session end` against the server's Redis.
describe('cardauth session list / end', () => {
  let srv: TestServer;
  let agent: TestAgent;
  let env: Record<string, string>;
  suiteServer({ env: { CARDAUTH_IP_ATTEMPTS: '1000' } }, async (s, a, redis: TestRedis) => {
    [srv, agent] = [s, a];
    env = cliEnv({ REDIS_URL: redis.url });
    await srv.account('ivanova', 'Пароль-Ивановой-1', '04A1A1A1A1A1A1');
    await srv.account('petrov', 'Пароль-Петрова-22', '04B2B2B2B2B2B2');
  });
  const loggedIn = async (login: string, uid: string, password: string) => {
    const c = srv.client();
    expect((await srv.login(c, agent, uid, login, password)).status).toBe(200);
    return c;
  };

  it('list shows each session by its handle, never its id; --login filters; end ends it, audited with the OS user', async () => {
    const iv = await loggedIn('ivanova', '04A1A1A1A1A1A1', 'Пароль-Ивановой-1');
    const pe = await loggedIn('petrov', '04B2B2B2B2B2B2', 'Пароль-Петрова-22');
    const ids = (await srv.redis.keys('sess:*')).map((k) => k.slice('sess:'.length));

    const table = await runCli(['session', 'list'], { env });
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/^HANDLE\s+LOGIN\s+WORKSTATION\s+CARD\s+SINCE\s+LAST SEEN\s+LOCKED\n/);
    for (const id of ids) {
      expect(table.stdout).toContain(sha256Hex(id));
      expect(table.stdout).not.toContain(id);
    }

    const json = await runCli(['session', 'list', '--login', 'petrov', '--json'], { env });
    expect(json.code).toBe(0);
    const rows = JSON.parse(json.stdout) as { handle: string; login: string; cardUid: string; locked: unknown }[];
    expect(rows).toEqual([expect.objectContaining({ login: 'petrov', cardUid: '04B2B2B2B2B2B2', locked: null })]);

    const r = await runCli(['session', 'end', '--id', rows[0]!.handle], { env });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^ended the session of petrov/);
    expect((await pe.get('/auth/session')).json.error.code).toBe('unauthenticated');
    expect((await iv.get('/auth/session')).json.login).toBe('ivanova');
    expect(await lastAudit(srv.redis, 'session.ended')).toMatchObject({
      actor: OS_ACTOR,
      reason: 'admin',
      subject: { login: 'petrov' },
      sessionIdHash: rows[0]!.handle,
      details: expect.objectContaining({ cause: 'officer', via: 'cli' }),
    });
  });

  it('end: an unknown handle exits 1 session_not_found; a malformed one is a usage error', async () => {
    const unknown = await runCli(['session', 'end', '--id', 'a'.repeat(64)], { env });
    expect(unknown).toMatchObject({ code: 1, stderr: expect.stringMatching(/^cardauth: session_not_found: /) });
    const bad = await runCli(['session', 'end', '--id', 'not-a-handle'], { env });
    expect(bad).toMatchObject({ code: 2, stderr: expect.stringMatching(/^cardauth: session end: --id: must be a session handle/) });
    expect((await runCli(['session', 'end'], { env })).stderr).toMatch(/--id: required/);
  });
});
