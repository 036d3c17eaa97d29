import { renameSync } from 'node:fs';
import { join } from 'node:path';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { startUnenrolledAgent } from '../helpers/agent';
import { startTestServer, type TestServer } from '../helpers/app';
import { startPcscd, type TestPcscd } from '../helpers/pcscd';
import { startRedis, type TestRedis } from '../helpers/redis';
import { cliEnv, runCli } from '../cli/support';

// An agent is a service started at boot, often before anyone ran `cardauth agent enroll`: it takes
// up its enrollment, and then its approval, without a restart. The chain really started (pcscd +
// vpcd, pcsclite, the agent, the server); the enrollment by the built CLI (npm run build first).
const IVANOVA = { login: 'ivanova', password: 'Пароль-Ивановой-2026', uid: '04A22BB25C6180' };

let pcscd: TestPcscd;
let redis: TestRedis;
let srv: TestServer;
beforeAll(async () => {
  pcscd = await startPcscd();
  redis = await startRedis();
  srv = await startTestServer(redis);
  await srv.account(IVANOVA.login, IVANOVA.password, IVANOVA.uid);
});
afterAll(async () => {
  await srv?.close();
  await pcscd?.stop();
  await redis?.stop();
});

type Agent = Awaited<ReturnType<typeof startUnenrolledAgent>>;
const fromPage = (agent: Agent, path: string, body?: unknown) =>
  fetch(agent.url + path, {
    ...(body === undefined ? {} : { method: 'POST', body: JSON.stringify(body) }),
    headers: { origin: agent.origin, 'content-type': 'application/json' },
  });
const status = async (agent: Agent) => (await (await fromPage(agent, '/v1/status')).json()) as { agentId: string | null; approved: boolean | null };
const enroll = (agent: Agent) => runCli(['agent', 'enroll', '--server', srv.url, '--name', 'Кабинет 12'], { env: cliEnv({ CARDAUTH_AGENT_DIR: agent.dir }) });
const enrolledId = (stdout: string) => /as (ag_[0-9a-f]{16}),/.exec(stdout)?.[1];

it('an agent enrolled while it runs serves the next tap: its status shows the id, and the statement is signed under it', async () => {
  const agent = await startUnenrolledAgent(srv, { env: { CARDAUTH_AGENT_WAIT_SEC: '8' } });
  try {
    expect(await status(agent)).toMatchObject({ agentId: null, approved: null });
    const c = srv.client();
    const early = await fromPage(agent, '/v1/statement', { nonce: (await c.post('/auth/nonce')).json.nonce, aud: agent.origin });
    expect(early.status).toBe(503); // not enrolled yet

    const r = await enroll(agent);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const id = enrolledId(r.stdout);
    expect(id).toEqual(expect.any(String));
    expect(await status(agent)).toMatchObject({ agentId: id, approved: false }); // asked the server, under the new id

    await srv.services.agents.approve(id!, 'os:officer');
    const { nonce } = (await c.post('/auth/nonce')).json as { nonce: string };
    const pending = fromPage(agent, '/v1/statement', { nonce, aud: agent.origin });
    await new Promise((r) => setTimeout(r, 100));
    await pcscd.tap(IVANOVA.uid);
    const res = await pending;
    await pcscd.remove(0);
    expect(res.status).toBe(200);
    const { statement } = (await res.json()) as { statement: string };
    expect(decodeProtectedHeader(statement).kid).toBe(id);
    expect(decodeJwt(statement)).toMatchObject({ iss: id, nonce, uid: IVANOVA.uid });
    expect((await c.post('/auth/card', { statement })).json).toEqual({ next: 'password', login: IVANOVA.login });
  } finally {
    await agent.close();
  }
});

it('an agent whose key was replaced and enrolled anew while it ran does not sign under the new id: it says to restart it', async () => {
  const failures: string[] = [];
  const agent = await startUnenrolledAgent(srv, { logger: { info() {}, warn() {}, error: (event, fields) => void failures.push(JSON.stringify({ event, ...fields })) } });
  try {
    // Someone started over: the key the agent runs with is moved out, and enrolling makes a new one.
    renameSync(join(agent.dir, 'agent-key.json'), join(agent.dir, 'agent-key.json.old'));
    const r = await enroll(agent);
    expect(r.code).toBe(0);
    expect(enrolledId(r.stdout)).toEqual(expect.any(String));

    const c = srv.client();
    const res = await fromPage(agent, '/v1/statement', { nonce: (await c.post('/auth/nonce')).json.nonce, aud: agent.origin });
    expect(res.status).toBe(503);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('unavailable');
    expect(failures.join('\n')).toContain('restart the agent');
    expect(await status(agent)).toMatchObject({ agentId: null });
  } finally {
    await agent.close();
  }
});
