import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cliEnv, oneErrorLine, runCli } from './support';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'cardauth-cli-oidc-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('oidc keys init', () => {
  it('makes the signing keys file, mode 0600, printing only the key ids; never over an existing file', async () => {
    const out = join(dir, 'jwks.json');
    const r = await runCli(['oidc', 'keys', 'init', '--out', out], { env: cliEnv() });
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    expect(statSync(out).mode & 0o777).toBe(0o600);
    const { keys } = JSON.parse(readFileSync(out, 'utf8')) as { keys: Array<{ kid: string; alg: string; d: string }> };
    expect(r.lines).toEqual([`wrote ${out} (mode 0600): RS256 ${keys[0]!.kid}, ES256 ${keys[1]!.kid}`]);
    for (const k of keys) expect(r.stdout).not.toContain(k.d);

    const again = await runCli(['oidc', 'keys', 'init', '--out', out], { env: cliEnv() });
    expect(again.code).toBe(2);
    expect(oneErrorLine(again)).toBe(`cardauth: config_invalid: ${out}: exists already; keys are never overwritten (move it away first)`);
    expect(JSON.parse(readFileSync(out, 'utf8')).keys[0].kid).toBe(keys[0]!.kid);
  });

  it('needs --out', async () => {
    const r = await runCli(['oidc', 'keys', 'init'], { env: cliEnv() });
    expect(r.code).toBe(2);
    expect(oneErrorLine(r)).toBe('cardauth: oidc keys init: --out: required');
  });
});

describe('oidc keys add, use, drop', () => {
  it('rotates the signing keys one step at a time, printing only kids', async () => {
    const file = join(dir, 'rotate.json');
    const env = cliEnv();
    expect((await runCli(['oidc', 'keys', 'init', '--out', file], { env })).code).toBe(0);
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
  });
});
