import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { exportJWK, generateKeyPair } from 'jose';
import type Redis from 'ioredis';
import { signStatement, type StatementSigningKey } from '../../src/card-agent/sign-statement';
import { loadServerConfig } from '../../src/config';
import { createServices } from '../../src/services';
import { startRedis, freePort, type TestRedis } from '../helpers/redis';
import { TEST_SECRET, TestClient } from '../helpers/app';
import { startServeProcess, type ServeProcess } from '../helpers/serve';

const run = promisify(execFile);
const BIN = join(__dirname, '..', '..', 'bin', 'cardauth.js');
const PASSWORD = 'Общий-пароль-узлов-1';

describe('two server processes on one Redis (behind a load balancer)', () => {
  let redis: TestRedis;
  let a: ServeProcess;
  let b: ServeProcess;
  let origin: string;
  let key: StatementSigningKey;
  let admin: Redis;
  const N = 12;

  beforeAll(async () => {
    redis = await startRedis();
    origin = `http://127.0.0.1:${await freePort()}`; // the balancer's origin, as users see it
    const env = { REDIS_URL: redis.url, CARDAUTH_PUBLIC_ORIGIN: origin, CARDAUTH_SESSION_SECRET: TEST_SECRET, CARDAUTH_HOST: '127.0.0.1' };
    [a, b] = await Promise.all([
      startServeProcess({ ...env, CARDAUTH_PORT: String(await freePort()) }),
      startServeProcess({ ...env, CARDAUTH_PORT: String(await freePort()) }),
    ]);
    admin = redis.client();
    const services = createServices({ redis: admin, config: loadServerConfig(env), clock: { now: () => Date.now() } });
    const { publicKey, privateKey } = await generateKeyPair('EdDSA', { extractable: true });
    const agent = await services.agents.register({ name: 'РМ-узлы', publicJwk: await exportJWK(publicKey), ip: '127.0.0.1' });
    await services.agents.approve(agent.id, 'os:test');
    key = { agentId: agent.id, alg: 'EdDSA', privateKey };
    const hash = await services.hasher.hash(PASSWORD);
    for (let i = 0; i < N; i++) {
      const acc = await services.accounts.create({ login: `node-user-${i}`, displayName: `User ${i}`, roles: ['clinician'], passwordHash: hash });
      await services.cards.bind({ uid: `04AA0000000${i.toString(16).padStart(3, '0')}`, accountId: acc.id, by: 'os:test' });
    }
  });
  afterAll(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
    await redis.stop();
  });

  const uid = (i: number) => `04AA0000000${i.toString(16).padStart(3, '0')}`;
  const client = (node: ServeProcess) => new TestClient(node.url, origin);
  const statementFor = async (c: TestClient, i: number) =>
    signStatement(key, { aud: origin, nonce: (await c.post('/auth/nonce')).json.nonce, uid: uid(i), reader: 'R' }, { now: () => Date.now() });

  it('a session opened on one node is valid on the other', async () => {
    const onA = client(a);
    const res = await onA.post('/auth/login', { statement: await statementFor(onA, 0), login: 'node-user-0', password: PASSWORD });
    expect(res.status).toBe(200);
    const onB = client(b);
    onB.cookie = onA.cookie;
    const who = await onB.get('/auth/session');
    expect(who.status).toBe(200);
    expect(who.json.login).toBe('node-user-0');
  });

  it('a nonce used on one node is refused on the other', async () => {
    const onA = client(a);
    const statement = await statementFor(onA, 1);
    expect((await onA.post('/auth/card', { statement })).status).toBe(200);
    const onB = client(b);
    onB.cookie = onA.cookie;
    const replay = await onB.post('/auth/card', { statement });
    expect(replay.status).toBe(401);
    expect(replay.json.error.code).toBe('card_rejected');
  });

  it('a nonce issued by one node works once on the other', async () => {
    const onA = client(a);
    const statement = await statementFor(onA, 2);
    const onB = client(b);
    onB.cookie = onA.cookie;
    expect((await onB.post('/auth/card', { statement })).status).toBe(200);
    expect((await onA.post('/auth/card', { statement })).status).toBe(401);
  });

  it('concurrent logins on both nodes leave one audit chain that verifies', async () => {
    const results = await Promise.all(
      Array.from({ length: N * 2 }, async (_, k) => {
        const node = k % 2 ? a : b;
        const i = k % N;
        const c = client(node);
        const statement = await statementFor(c, i);
        return (await c.post('/auth/login', { statement, login: `node-user-${i}`, password: PASSWORD })).status;
      }),
    );
    expect(results.every((s) => s === 200)).toBe(true);
    const { stdout } = await run(process.execPath, [BIN, 'audit', 'verify'], { env: { ...process.env, REDIS_URL: redis.url } });
    expect(stdout).toMatch(/intact/);
    const created = (await admin.xrange('audit:log', '-', '+')).filter(([, f]) => f[1]!.includes('"session.created"'));
    expect(created.length).toBeGreaterThanOrEqual(N * 2);
  });
});
