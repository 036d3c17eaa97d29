import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { exportJWK, generateKeyPair } from 'jose';
import type Redis from 'ioredis';
import { lastAudit } from '../helpers/audit';
import { startRedis, type TestRedis } from '../helpers/redis';
import { cliEnv, OS_ACTOR, oneErrorLine, runCli } from './support';

let redis: TestRedis;
let client: Redis;
let env: Record<string, string>;
let dir: string;

beforeAll(async () => {
  redis = await startRedis();
  client = redis.client();
  env = cliEnv({ REDIS_URL: redis.url, CARDAUTH_PRESENCE_ROLES: 'clinician' });
  dir = redis.dir;
});
afterAll(() => redis.stop());

const keyFile = async (name: string, jwk?: object) => {
  const file = join(dir, name);
  writeFileSync(file, JSON.stringify(jwk ?? (await exportJWK((await generateKeyPair('EdDSA', { extractable: true })).publicKey))));
  return file;
};

describe('skud add, list, status, remove', () => {
  let id: string;

  it('adds an integration by its public JWK: its id alone on the last line; audited with the actor', async () => {
    const r = await runCli(['skud', 'add', '--name', 'Parsec, корпус 1', '--jwk', await keyFile('parsec.jwk')], { env });
    expect(r.code).toBe(0);
    id = r.lines[r.lines.length - 1]!;
    expect(id).toMatch(/^sk_[0-9a-f]{16}$/);
    expect(await lastAudit(client, 'skud.added')).toMatchObject({ outcome: 'success', actor: OS_ACTOR, details: { skudId: id, name: 'Parsec, корпус 1', alg: 'EdDSA', via: 'cli' } });
  });

  it('refuses a private key, and the same key twice', async () => {
    const { privateKey } = await generateKeyPair('EdDSA', { extractable: true });
    const priv = await runCli(['skud', 'add', '--name', 'x', '--jwk', await keyFile('private.jwk', await exportJWK(privateKey))], { env });
    expect(priv.code).toBe(2);
    expect(oneErrorLine(priv)).toMatch(/--jwk/);
    const file = await keyFile('twice.jwk');
    expect((await runCli(['skud', 'add', '--name', 'a', '--jwk', file], { env })).code).toBe(0);
    const again = await runCli(['skud', 'add', '--name', 'b', '--jwk', file], { env });
    expect(again.code).toBe(1);
    expect(oneErrorLine(again)).toMatch(/registered already/);
  });

  it('lists them, and status shows the policy and a silent feed', async () => {
    const list = await runCli(['skud', 'list', '--json'], { env });
    expect(JSON.parse(list.stdout).map((i: { id: string }) => i.id)).toContain(id);
    const status = await runCli(['skud', 'status', '--json'], { env });
    expect(status.code).toBe(0);
    const s = JSON.parse(status.stdout);
    expect(s.policy).toEqual({ gate: 'on', roles: ['clinician'], silentSec: 900, onSilent: 'deny' });
    expect(s.integrations.find((i: { id: string }) => i.id === id)).toMatchObject({ silent: true, eventsToday: 0, lastStatementAt: null });
    const text = await runCli(['skud', 'status'], { env });
    expect(text.lines[0]).toMatch(/^presence gate: on \(roles clinician\); silent after 900 s, then deny; today \d{4}-\d{2}-\d{2}$/);
  });

  it('removes one, audited; an unknown id is skud_not_found', async () => {
    const r = await runCli(['skud', 'remove', '--id', id], { env });
    expect(r.code).toBe(0);
    expect(await lastAudit(client, 'skud.removed')).toMatchObject({ outcome: 'success', actor: OS_ACTOR, details: { skudId: id } });
    const again = await runCli(['skud', 'remove', '--id', id], { env });
    expect(again.code).toBe(1);
    expect(oneErrorLine(again)).toMatch(/no integration/);
  });
});

describe('skud account: one account gated whatever its roles', () => {
  it('turns the gate on and off for a login, audited with before and after; a repeat changes nothing', async () => {
    const made = await runCli(['account', 'create', '--login', 'smirnova', '--name', 'Смирнова', '--role', 'auditor', '--password-stdin'], { env, stdin: 'Пароль-для-проверки-1\n' });
    expect(made.code).toBe(0);
    const on = await runCli(['skud', 'account', '--login', 'smirnova', '--gate', 'on'], { env });
    expect(on.code).toBe(0);
    expect(on.lines).toEqual(['presence gate of smirnova: on']);
    expect(await lastAudit(client, 'account.presence_changed')).toMatchObject({ outcome: 'success', actor: OS_ACTOR, subject: { login: 'smirnova' }, details: { before: 'off', after: 'on' } });
    expect(await client.hget(`acct:${(await lastAudit(client, 'account.presence_changed'))!.subject.accountId}`, 'presence')).toBe('required');
    expect((await runCli(['skud', 'account', '--login', 'smirnova', '--gate', 'on'], { env })).lines).toEqual(['presence gate of smirnova is on already; nothing was changed']);
    expect((await runCli(['skud', 'account', '--login', 'smirnova', '--gate', 'off'], { env })).code).toBe(0);
    expect((await lastAudit(client, 'account.presence_changed'))!.details).toMatchObject({ before: 'on', after: 'off' });
    const bad = await runCli(['skud', 'account', '--login', 'smirnova', '--gate', 'maybe'], { env });
    expect(bad.code).toBe(2);
  });
});
