import { createHash, generateKeyPairSync, type JsonWebKey } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type Redis from 'ioredis';
import { auditRecords, lastAudit, withAuditUnusable } from '../helpers/audit';
import { startRedis, type TestRedis } from '../helpers/redis';
import { cliEnv, expectRefusedUnaudited, OS_ACTOR, oneErrorLine, runCli } from './support';

let redis: TestRedis;
let client: Redis;
let env: Record<string, string>;
let dir: string;

beforeAll(async () => {
  redis = await startRedis();
  client = redis.client();
  env = cliEnv({ REDIS_URL: redis.url });
  dir = mkdtempSync(join(tmpdir(), 'cardauth-cli-agent-'));
});
afterAll(async () => {
  await redis.stop();
  rmSync(dir, { recursive: true, force: true });
});

let files = 0;
function keyFile(jwk: unknown): string {
  const file = join(dir, `key${++files}.jwk`);
  writeFileSync(file, JSON.stringify(jwk));
  return file;
}

/** RFC 7638: SHA-256 over the required members in lexicographic order, base64url. */
function thumbprint(jwk: JsonWebKey): string {
  const members = jwk.kty === 'EC' ? { crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y } : { crv: jwk.crv, kty: jwk.kty, x: jwk.x };
  return createHash('sha256').update(JSON.stringify(members)).digest('base64url');
}

const ed25519 = () => generateKeyPairSync('ed25519');
const listAgents = async () => {
  const r = await runCli(['agent', 'list', '--json'], { env });
  expect(r.code).toBe(0);
  return JSON.parse(r.stdout) as Array<Record<string, unknown>>;
};

describe('agent register, approve, revoke', () => {
  const { publicKey } = ed25519();
  const jwk = publicKey.export({ format: 'jwk' });
  let id: string;

  it('registers a pending agent: the fingerprint on a line, the id alone on the last line; audited agent.registered', async () => {
    const r = await runCli(['agent', 'register', '--name', 'Кабинет 12', '--public-key', keyFile(jwk)], { env });
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    id = r.lines[r.lines.length - 1] as string;
    expect(id).toMatch(/^ag_[0-9a-f]{16}$/);
    expect(r.lines.slice(0, -1)).toContain(`fingerprint: ${thumbprint(jwk)}`);
    expect(await listAgents()).toEqual([
      { id, name: 'Кабинет 12', status: 'pending', alg: 'EdDSA', fingerprint: thumbprint(jwk), createdAt: expect.any(String), approvedBy: null, approvedAt: null, revokedBy: null, revokedAt: null, suspendedAt: null },
    ]);
    expect(await lastAudit(client, 'agent.registered')).toMatchObject({
      outcome: 'success',
      actor: OS_ACTOR,
      source: { agentId: id, workstation: 'Кабинет 12' },
      details: { fingerprint: thumbprint(jwk), alg: 'EdDSA' },
    });
  });

  it('the same key again: exit 1, agent_state', async () => {
    const r = await runCli(['agent', 'register', '--name', 'другое имя', '--public-key', keyFile(jwk)], { env });
    expect(r.code).toBe(1);
    expect(oneErrorLine(r)).toMatch(new RegExp(`^cardauth: agent_state: .*${id}`));
  });

  it('approve --fingerprint that does not match: exit 1 and still pending', async () => {
    const other = thumbprint(ed25519().publicKey.export({ format: 'jwk' }));
    const r = await runCli(['agent', 'approve', id, `--fingerprint=${other}`], { env });
    expect(r.code).toBe(1);
    expect(oneErrorLine(r)).toMatch(/^cardauth: agent_state: /);
    expect((await listAgents())[0]).toMatchObject({ status: 'pending' });
  });

  it('approves with the matching fingerprint, approvedBy os:<user>; audited agent.approved', async () => {
    const r = await runCli(['agent', 'approve', id, `--fingerprint=${thumbprint(jwk)}`], { env });
    expect(r.code).toBe(0);
    expect((await listAgents())[0]).toMatchObject({ status: 'approved', approvedBy: OS_ACTOR, approvedAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/) });
    expect(await lastAudit(client, 'agent.approved')).toMatchObject({ actor: OS_ACTOR, source: { agentId: id } });
  });

  it('approving twice: exit 1, agent_state', async () => {
    const r = await runCli(['agent', 'approve', id], { env });
    expect(r.code).toBe(1);
    expect(oneErrorLine(r)).toMatch(/^cardauth: agent_state: /);
  });

  it('the table shows id, name, status, fingerprint and approver', async () => {
    const r = await runCli(['agent', 'list'], { env });
    expect(r.code).toBe(0);
    expect(r.lines[0]).toMatch(/^ID\s+NAME\s+STATUS\s+FINGERPRINT\s+APPROVED\s+REVOKED$/);
    expect(r.lines[1]).toContain(id);
    expect(r.lines[1]).toContain(thumbprint(jwk));
    expect(r.lines[1]).toContain(OS_ACTOR);
  });

  it('revokes; audited agent.revoked; revoking again changes nothing but is no error', async () => {
    const r = await runCli(['agent', 'revoke', id], { env });
    expect(r.code).toBe(0);
    expect((await listAgents())[0]).toMatchObject({ status: 'revoked', revokedBy: OS_ACTOR });
    expect(await lastAudit(client, 'agent.revoked')).toMatchObject({ actor: OS_ACTOR, source: { agentId: id } });
    const revokedRecords = (await auditRecords(client, 'agent.revoked')).length;
    const again = await runCli(['agent', 'revoke', id], { env });
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(new RegExp(`agent ${id} ".*" was already revoked; no open session`));
    expect(await auditRecords(client, 'agent.revoked')).toHaveLength(revokedRecords);
  });

  it('registers a P-256 key as ES256', async () => {
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ format: 'jwk' });
    const r = await runCli(['agent', 'register', '--name', 'Регистратура', '--public-key', keyFile(ec)], { env });
    expect(r.code).toBe(0);
    const ecId = r.lines[r.lines.length - 1];
    expect((await listAgents()).find((a) => a.id === ecId)).toMatchObject({ alg: 'ES256', fingerprint: thumbprint(ec), status: 'pending' });
  });
});

describe('agent fail', () => {
  it('refuses a private key, a symmetric key, RSA, non-JSON and a missing file with exit 2 naming --public-key, registering nothing', async () => {
    const before = (await auditRecords(client)).length;
    const notJson = join(dir, 'not-json.jwk');
    writeFileSync(notJson, '-----BEGIN PUBLIC KEY-----');
    const files = [
      keyFile(ed25519().privateKey.export({ format: 'jwk' })),
      keyFile({ kty: 'oct', k: 'c2VjcmV0' }),
      keyFile(generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey.export({ format: 'jwk' })),
      notJson,
      join(dir, 'missing.jwk'),
    ];
    for (const file of files) {
      const r = await runCli(['agent', 'register', '--name', 'X', '--public-key', file], { env });
      expect(r.code).toBe(2);
      expect(oneErrorLine(r)).toMatch(/^cardauth: agent register: --public-key: /);
    }
    expect(await auditRecords(client)).toHaveLength(before);
  });

  it('a private key is never echoed', async () => {
    const priv = ed25519().privateKey.export({ format: 'jwk' });
    expect(priv.d).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const r = await runCli(['agent', 'register', '--name', 'X', '--public-key', keyFile(priv)], { env });
    expect(r.code).toBe(2);
    expect(oneErrorLine(r)).toMatch(/^cardauth: agent register: --public-key: /);
    expect(r.stderr).not.toContain(priv.d as string);
    expect(r.stdout).not.toContain(priv.d as string);
  });

  it('a malformed or missing ID: exit 2; an unknown one: exit 1, agent_not_found', async () => {
    for (const args of [['agent', 'approve'], ['agent', 'approve', 'AG_1'], ['agent', 'revoke', 'ag_0123'], ['agent', 'approve', 'ag_0123456789abcdef', 'extra']]) {
      const r = await runCli(args, { env });
      expect(r.code).toBe(2);
      oneErrorLine(r);
    }
    const r = await runCli(['agent', 'approve', 'ag_0123456789abcdef'], { env });
    expect(r.code).toBe(1);
    expect(oneErrorLine(r)).toMatch(/^cardauth: agent_not_found: /);
  });
});

describe('agent error', () => {
  it('the audit trail is unusable: register and approve exit 1 saying nothing was changed, and change nothing', async () => {
    const pending = await runCli(['agent', 'register', '--name', 'Процедурная', '--public-key', keyFile(ed25519().publicKey.export({ format: 'jwk' }))], { env });
    expect(pending.code).toBe(0);
    const id = pending.lines[pending.lines.length - 1] as string;
    const before = await listAgents();

    const jwk = ed25519().publicKey.export({ format: 'jwk' });
    const register = await withAuditUnusable(client, () => runCli(['agent', 'register', '--name', 'Неаудированная', '--public-key', keyFile(jwk)], { env }));
    expectRefusedUnaudited(register);
    expect(await client.hget('agent:by-fp', thumbprint(jwk))).toBeNull();

    const approve = await withAuditUnusable(client, () => runCli(['agent', 'approve', id], { env }));
    expectRefusedUnaudited(approve);
    expect(await listAgents()).toEqual(before);
    expect(before.find((a) => a.id === id)).toMatchObject({ status: 'pending' });
  });
});

describe('agent unsuspend: an agent the abuse rule suspended', () => {
  it('agent list shows it suspended (with the time); unsuspend brings it back to approved, audited agent.unsuspended with the actor and before/after; again, or on an approved agent, is agent_state', async () => {
    const { publicKey } = ed25519();
    const reg = await runCli(['agent', 'register', '--name', 'Кабинет 40', '--public-key', keyFile(publicKey.export({ format: 'jwk' }))], { env });
    const id = reg.lines[reg.lines.length - 1] as string;
    expect((await runCli(['agent', 'approve', id], { env })).code).toBe(0);
    // The abuse rule, as the server runs it (one script): the count that reaches the limit suspends.
    await client.eval(`redis.call('HSET', KEYS[1], 'status', 'suspended', 'suspendedAt', ARGV[1]) redis.call('SET', KEYS[2], '10')`, 2, `agent:${id}`, `rl:agent:${id}`, String(Date.now()));
    expect((await listAgents()).find((a) => a.id === id)).toMatchObject({ status: 'suspended', suspendedAt: expect.any(String) });
    const table = await runCli(['agent', 'list'], { env });
    expect(table.lines.find((l) => l.includes(id))).toMatch(/\bsuspended\b/);

    const r = await runCli(['agent', 'unsuspend', id], { env });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`unsuspended agent ${id}`);
    expect((await listAgents()).find((a) => a.id === id)).toMatchObject({ status: 'approved', suspendedAt: null });
    expect(await client.exists(`rl:agent:${id}`)).toBe(0);
    expect(await lastAudit(client, 'agent.unsuspended')).toMatchObject({ outcome: 'success', actor: OS_ACTOR, source: { agentId: id }, details: expect.objectContaining({ before: 'suspended', after: 'approved', via: 'cli' }) });

    const again = await runCli(['agent', 'unsuspend', id], { env });
    expect(again.code).not.toBe(0);
    expect(oneErrorLine(again)).toMatch(/agent_state|it is approved/);
  });
});
