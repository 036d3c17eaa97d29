import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type Redis from 'ioredis';
import { auditRecords, lastAudit } from '../helpers/audit';
import { startRedis, type TestRedis } from '../helpers/redis';
import { cliEnv, OS_ACTOR, runCli } from './support';

let redis: TestRedis;
let client: Redis;
let dir: string;
let keysFile: string;
let env: Record<string, string>;

beforeAll(async () => {
  redis = await startRedis();
  client = redis.client();
  dir = mkdtempSync(join(tmpdir(), 'cardauth-audit-keys-'));
  keysFile = join(dir, 'audit-keys.json');
  env = cliEnv({ REDIS_URL: redis.url, CARDAUTH_AUDIT_KEYS_FILE: keysFile });
});
afterAll(async () => {
  await redis.stop();
  rmSync(dir, { recursive: true, force: true });
});

const kidsOf = (file: string) => (JSON.parse(readFileSync(file, 'utf8')) as { keys: Array<{ kid: string; d?: string }> }).keys;

describe('audit keys and audit checkpoint, then audit verify', () => {
  it('keys init makes a 0600 file of one Ed25519 key and is audited; checkpoint signs the head; verify checks it', async () => {
    const init = await runCli(['audit', 'keys', 'init', '--out', keysFile], { env });
    expect(init.code).toBe(0);
    expect(statSync(keysFile).mode & 0o777).toBe(0o600);
    const [key] = kidsOf(keysFile);
    expect(key).toMatchObject({ kty: 'OKP', crv: 'Ed25519', alg: 'EdDSA', kid: expect.any(String), d: expect.any(String) });
    expect(init.stdout).toBe(`wrote ${keysFile} (mode 0600): signing key ${key?.kid}\n`);
    expect(init.stdout).not.toContain(key?.d as string);
    expect(await lastAudit(client, 'audit.key_added')).toMatchObject({ seq: 1, actor: OS_ACTOR, details: { kid: key?.kid, alg: 'EdDSA', file: keysFile } });
    expect((await runCli(['audit', 'keys', 'init', '--out', keysFile], { env })).code).not.toBe(0); // never overwritten

    const cp = await runCli(['audit', 'checkpoint'], { env });
    expect(cp.code).toBe(0);
    const head = (await client.xrevrange('audit:log', '+', '-', 'COUNT', 1))[0] as [string, string[]];
    expect(cp.stdout).toBe(`checkpoint signed: seq 1, hash ${head[1][3]}, key ${key?.kid}\n`);
    expect(await client.xlen('audit:checkpoints')).toBe(1);

    const v = await runCli(['audit', 'verify'], { env });
    expect(v.code).toBe(0);
    expect(v.lines[0]).toBe('audit chain intact: 1 record');
    expect(v.lines[2]).toMatch(new RegExp(`^checkpoints: 1 verified, the last at seq 1 \\(.+Z, key ${key?.kid}\\); 0 records after it unprotected$`));
    expect(await lastAudit(client, 'audit.verified')).toMatchObject({ outcome: 'success', details: { count: 1, checkpoints: 1, unprotected: 0, lastCheckpointSeq: 1 } });
  });

  it('without a key file: verify says the tail is unprotected; checkpoint refuses', async () => {
    const bare = cliEnv({ REDIS_URL: redis.url });
    const v = await runCli(['audit', 'verify'], { env: bare });
    expect(v.code).toBe(0);
    expect(v.lines[2]).toBe('checkpoints not checked (no CARDAUTH_AUDIT_KEYS_FILE, no --keys): the tail of the chain is unprotected');
    expect(await lastAudit(client, 'audit.verified')).toMatchObject({ outcome: 'success', details: { checkpoints: 'none' } });
    const cp = await runCli(['audit', 'checkpoint'], { env: bare });
    expect(cp.code).not.toBe(0);
    expect(cp.stderr).toMatch(/CARDAUTH_AUDIT_KEYS_FILE is empty/);
  });

  it('rotation: add, activate (audited); the new key signs, the old checkpoints still verify; export writes only public keys for --keys offline', async () => {
    const [old] = kidsOf(keysFile);
    expect((await runCli(['audit', 'keys', 'add', '--file', keysFile], { env })).code).toBe(0);
    const fresh = kidsOf(keysFile)[1];
    expect(await lastAudit(client, 'audit.key_added')).toMatchObject({ details: { kid: fresh?.kid } });
    const act = await runCli(['audit', 'keys', 'activate', '--file', keysFile, '--kid', fresh?.kid as string], { env });
    expect(act.code).toBe(0);
    expect(kidsOf(keysFile).map((k) => k.kid)).toEqual([fresh?.kid, old?.kid]);
    expect(await lastAudit(client, 'audit.key_activated')).toMatchObject({ actor: OS_ACTOR, details: { kid: fresh?.kid, alg: 'EdDSA' } });
    expect((await runCli(['audit', 'keys', 'activate', '--file', keysFile, '--kid', 'nope'], { env })).code).not.toBe(0);

    expect((await runCli(['audit', 'checkpoint'], { env })).stdout).toMatch(new RegExp(`key ${fresh?.kid}\\n$`));

    const pub = join(dir, 'audit-public.json');
    const exp = await runCli(['audit', 'keys', 'export', '--file', keysFile, '--out', pub], { env });
    expect(exp.code).toBe(0);
    expect(kidsOf(pub).map((k) => [k.kid, k.d])).toEqual([
      [fresh?.kid, undefined],
      [old?.kid, undefined],
    ]);

    // Offline: only the public keys, no key file.
    const offline = await runCli(['audit', 'verify', '--keys', pub, '--json'], { env: cliEnv({ REDIS_URL: redis.url }) });
    expect(offline.code).toBe(0);
    expect(JSON.parse(offline.stdout)).toMatchObject({ ok: true, checkpoints: { count: 2, last: { kid: fresh?.kid }, unprotected: 0 } });
  });

  it('the tail cut after a checkpoint (XDEL): exit 1, one line naming the kind, audited with it as the reason', async () => {
    const [lastId] = (await client.xrevrange('audit:log', '+', '-', 'COUNT', 1))[0] as [string, string[]];
    expect((await runCli(['audit', 'checkpoint'], { env })).code).toBe(0);
    const count = await client.xlen('audit:log');
    await client.xdel('audit:log', lastId);
    const v = await runCli(['audit', 'verify'], { env });
    expect(v.code).toBe(1);
    const [cpId] = (await client.xrevrange('audit:checkpoints', '+', '-', 'COUNT', 1))[0] as [string, string[]];
    expect(v.stdout).toBe(`audit chain broken: first broken record seq ${count}, checkpoint ${cpId}: the tail truncated after a checkpoint (head_before_checkpoint; ${count - 1} records intact before it)\n`);
    expect(await lastAudit(client, 'audit.verified')).toMatchObject({ outcome: 'failure', reason: 'tail_truncated', details: { break: 'head_before_checkpoint', brokenSeq: count, checkpointId: cpId } });
    expect((await auditRecords(client, 'audit.verified')).length).toBeGreaterThan(2);
  });
});
