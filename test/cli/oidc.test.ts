import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type Redis from 'ioredis';
import { auditRecords, withAuditUnusable } from '../helpers/audit';
import { startRedis, type TestRedis } from '../helpers/redis';
import { cliEnv, expectRefusedUnaudited, OS_ACTOR, oneErrorLine, runCli } from './support';

// The keys commands change a file, not Redis, but each change is audited: they need REDIS_URL.

let dir: string;
let redis: TestRedis;
let client: Redis;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'cardauth-cli-oidc-'));
  redis = await startRedis();
  client = redis.client();
});
afterAll(async () => {
  rmSync(dir, { recursive: true, force: true });
  await redis?.stop();
});
const env = () => cliEnv({ REDIS_URL: redis.url });

/** The key records since `since` records: type, kid, alg, file. */
const keyRecords = async (since: number) =>
  (await auditRecords(client)).slice(since).map((r) => {
    expect(r).toMatchObject({ outcome: 'success', actor: OS_ACTOR, details: { via: 'cli' } });
    return [r.type, r.details.kid, r.details.alg, r.details.file];
  });
const recordCount = async () => (await auditRecords(client)).length;

describe('oidc keys init', () => {
  it('makes the signing keys file, mode 0600, printing only the key ids; never over an existing file', async () => {
    const out = join(dir, 'jwks.json');
    const before = await recordCount();
    const r = await runCli(['oidc', 'keys', 'init', '--out', out], { env: env() });
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    expect(statSync(out).mode & 0o777).toBe(0o600);
    const { keys } = JSON.parse(readFileSync(out, 'utf8')) as { keys: Array<{ kid: string; alg: string; d: string }> };
    expect(r.lines).toEqual([`wrote ${out} (mode 0600): RS256 ${keys[0]!.kid}, ES256 ${keys[1]!.kid}`]);
    for (const k of keys) expect(r.stdout).not.toContain(k.d);
    // One record per key made: its kid and alg, never key material.
    expect(await keyRecords(before)).toEqual(keys.map((k) => ['oidc.key_added', k.kid, k.alg, out]));
    const trail = JSON.stringify(await auditRecords(client));
    for (const k of keys) expect(trail).not.toContain(k.d);

    const again = await runCli(['oidc', 'keys', 'init', '--out', out], { env: env() });
    expect(again.code).toBe(2);
    expect(oneErrorLine(again)).toBe(`cardauth: config_invalid: ${out}: exists already; keys are never overwritten (move it away first)`);
    expect(JSON.parse(readFileSync(out, 'utf8')).keys[0].kid).toBe(keys[0]!.kid);
    expect(await recordCount()).toBe(before + 2);
  });

  it('makes no file when the audit trail is unusable', async () => {
    const out = join(dir, 'unaudited.json');
    const r = await withAuditUnusable(client, () => runCli(['oidc', 'keys', 'init', '--out', out], { env: env() }));
    expectRefusedUnaudited(r);
    expect(existsSync(out)).toBe(false);
  });

  it('needs --out', async () => {
    const r = await runCli(['oidc', 'keys', 'init'], { env: env() });
    expect(r.code).toBe(2);
    expect(oneErrorLine(r)).toBe('cardauth: oidc keys init: --out: required');
  });
});

describe('oidc keys add, use, drop', () => {
  it('rotates the signing keys one step at a time, printing only kids', async () => {
    const file = join(dir, 'rotate.json');
    const env = cliEnv({ REDIS_URL: redis.url });
    expect((await runCli(['oidc', 'keys', 'init', '--out', file], { env })).code).toBe(0);
    const before = await recordCount();
    const read = () => (JSON.parse(readFileSync(file, 'utf8')) as { keys: Array<{ kid: string; alg: string; d: string }> }).keys;
    const [oldRs, oldEs] = read();

    const add = await runCli(['oidc', 'keys', 'add', '--file', file], { env });
    expect(add.code).toBe(0);
    const [, , newRs, newEs] = read();
    expect(add.lines).toEqual([`added to ${file}: RS256 ${newRs!.kid}, ES256 ${newEs!.kid}; they sign once \`oidc keys use\` names them`]);

    const use = await runCli(['oidc', 'keys', 'use', '--file', file, '--kid', newRs!.kid, '--kid', newEs!.kid], { env });
    expect(use.lines).toEqual([`${file}: signing with RS256 ${newRs!.kid}, ES256 ${newEs!.kid}`]);
    expect(read().map((k) => k.kid)).toEqual([newRs!.kid, newEs!.kid, oldRs!.kid, oldEs!.kid]);

    const refused = await runCli(['oidc', 'keys', 'drop', '--file', file, '--kid', newRs!.kid], { env });
    expect(refused.code).toBe(2);
    expect(oneErrorLine(refused)).toBe(`cardauth: config_invalid: ${file}: key ${newRs!.kid} signs; make another sign first (cardauth oidc keys use)`);
    const drop = await runCli(['oidc', 'keys', 'drop', '--file', file, '--kid', oldRs!.kid], { env });
    expect(drop.lines).toEqual([`${file}: removed ${oldRs!.kid}`]);
    expect(read().map((k) => k.kid)).toEqual([newRs!.kid, newEs!.kid, oldEs!.kid]);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    for (const r of [add, use, drop]) for (const k of read()) expect(r.stdout).not.toContain(k.d);
    // Each change audited, key by key; the refused drop is not.
    expect(await keyRecords(before)).toEqual([
      ['oidc.key_added', newRs!.kid, 'RS256', file],
      ['oidc.key_added', newEs!.kid, 'ES256', file],
      ['oidc.key_activated', newRs!.kid, 'RS256', file],
      ['oidc.key_activated', newEs!.kid, 'ES256', file],
      ['oidc.key_dropped', oldRs!.kid, 'RS256', file],
    ]);
    const trail = JSON.stringify(await auditRecords(client));
    for (const k of [oldRs!, oldEs!, newRs!, newEs!]) expect(trail).not.toContain(k.d);
  });

  it('changes nothing when the audit trail is unusable', async () => {
    const file = join(dir, 'unaudited-rotate.json');
    const env = cliEnv({ REDIS_URL: redis.url });
    expect((await runCli(['oidc', 'keys', 'init', '--out', file], { env })).code).toBe(0);
    const before = readFileSync(file, 'utf8');
    const kid = (JSON.parse(before) as { keys: Array<{ kid: string }> }).keys[0]!.kid;
    for (const args of [['add', '--file', file], ['use', '--file', file, '--kid', kid], ['drop', '--file', file, '--kid', kid]]) {
      expectRefusedUnaudited(await withAuditUnusable(client, () => runCli(['oidc', 'keys', ...args], { env })));
    }
    expect(readFileSync(file, 'utf8')).toBe(before);
  });
});
