import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { join } from 'node:path';
import { exportJWK, generateKeyPair } from 'jose';
import type Redis from 'ioredis';
import { signStatement, signTapout, type StatementSigningKey } from '../../src/card-agent/sign-statement';
import { loadServerConfig } from '../../src/config';
import { createServices } from '../../src/services';
import { TEST_SECRET, TestClient } from '../helpers/app';
import { freePort, startRedis, type TestRedis } from '../helpers/redis';

// examples/express-mis run as its README says (node, from dist/), against a real Redis seeded
// with an account, its card and an approved agent: the MIS's own pages behind cardauth's login.

const ROOT = join(__dirname, '..', '..');
const PASSWORD = 'Пароль-для-МИС-2026!';
const UID = '04000000000E51';

let redis: TestRedis;
let client: Redis;
let mis: ChildProcessWithoutNullStreams;
let base: string;
let key: StatementSigningKey;

beforeAll(async () => {
  redis = await startRedis();
  client = redis.client();
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  const env = { REDIS_URL: redis.url, CARDAUTH_PUBLIC_ORIGIN: base, CARDAUTH_SESSION_SECRET: TEST_SECRET };
  const services = createServices({ redis: client, config: loadServerConfig(env), clock: { now: () => Date.now() } });
  const acc = await services.accounts.create({ login: 'mis-doctor', displayName: 'Д-р Сидорова', roles: ['clinician'], passwordHash: await services.hasher.hash(PASSWORD) });
  await services.cards.bind({ uid: UID, accountId: acc.id, by: 'os:test' });
  const { publicKey, privateKey } = await generateKeyPair('EdDSA', { extractable: true });
  const agent = await services.agents.register({ name: 'РМ-МИС', publicJwk: await exportJWK(publicKey), ip: '127.0.0.1' });
  await services.agents.approve(agent.id, 'os:test');
  key = { agentId: agent.id, alg: 'EdDSA', privateKey };

  mis = spawn(process.execPath, [join(ROOT, 'examples', 'express-mis', 'server.js')], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', ...env, MIS_PORT: String(port) },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let out = '';
  mis.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
  mis.stderr.setEncoding('utf8').on('data', (d: string) => (out += d));
  const deadline = Date.now() + 15_000;
  while (!out.includes('MIS on http://')) {
    if (mis.exitCode !== null || Date.now() > deadline) throw new Error(`the example did not start:\n${out}`);
    await new Promise((r) => setTimeout(r, 50));
  }
});

afterAll(async () => {
  if (mis && mis.exitCode === null) {
    const exited = new Promise((r) => mis.once('exit', r));
    mis.kill('SIGTERM');
    await exited;
  }
  await redis?.stop();
});

describe('examples/express-mis', () => {
  it("sends a browser without a session to cardauth's login, and its own upload route keeps its own limit", async () => {
    const c = new TestClient(base);
    const page = await c.get('/patients', { accept: 'text/html' });
    expect(page.status).toBe(303);
    expect(page.headers.get('location')).toBe('/login?next=%2Fpatients');
    expect((await c.get('/login')).status).toBe(200);
    expect((await c.post('/upload', 'x', { 'content-type': 'application/octet-stream' })).status).toBe(401);
  });

  it('after the card and the password, shows its patients page with the clinician, takes a 1 MB upload, and is gone after a tap-out', async () => {
    const c = new TestClient(base);
    const { nonce } = (await c.post('/auth/nonce')).json;
    const statement = await signStatement(key, { aud: base, nonce, uid: UID, reader: 'Virtual PCD 00 00' }, { now: () => Date.now() });
    expect((await c.post('/auth/card', { statement })).status).toBe(200);
    expect((await c.post('/auth/password', { login: 'mis-doctor', password: PASSWORD })).status).toBe(200);

    const page = await c.get('/patients', { accept: 'text/html' });
    expect(page.status).toBe(200);
    expect(page.text).toContain('Д-р Сидорова (mis-doctor)');
    const upload = await c.request('POST', '/upload', Buffer.alloc(1024 * 1024, 1).toString('latin1'), { 'content-type': 'application/octet-stream' });
    expect(upload.status).toBe(200);
    expect(upload.json).toEqual({ bytes: 1024 * 1024 });

    const tapout = await signTapout(key, { aud: base, uid: UID, reader: 'Virtual PCD 00 00', signal: 'tap' }, { now: () => Date.now() });
    expect((await new TestClient(base, null).post('/agents/events', { statement: tapout })).json).toEqual({ locked: 1 });
    expect((await c.get('/patients', { accept: 'text/html' })).status).toBe(303);
  });
});
