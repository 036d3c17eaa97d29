import { generateKeyPairSync } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { enrollmentSince, loadOrCreateIdentity, saveEnrollment } from '../../src/card-agent/keystore';
import { CardauthError } from '../../src/errors';

let root: string;
let n = 0;
beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'cardauth-keystore-'));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** A fresh agent folder, optionally with files in it (mode 0600). */
function agentDir(files: Record<string, string> = {}): string {
  const dir = join(root, `agent${++n}`);
  mkdirSync(dir, { mode: 0o700 });
  for (const [name, text] of Object.entries(files)) {
    writeFileSync(join(dir, name), text);
    chmodSync(join(dir, name), 0o600);
  }
  return dir;
}

/** The error loadOrCreateIdentity rejects with (fails the test when it resolves). */
async function refusal(dir: string): Promise<CardauthError> {
  const err: unknown = await loadOrCreateIdentity(dir).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(CardauthError);
  return err as CardauthError;
}

const ed25519Jwk = () => generateKeyPairSync('ed25519').privateKey.export({ format: 'jwk' });

describe('agent key store: damaged files are config_invalid, saying what to do', () => {
  const KEY_FILES: Array<[string, string]> = [
    ['null', 'null'],
    ['an array', '[]'],
    ['a truncated write', '{"crv":"Ed25519","d":"nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyu'],
    ['an EC key', JSON.stringify({ kty: 'EC', crv: 'P-256', x: 'a', y: 'b', d: 'c' })],
    ['a private part that does not match its public key', JSON.stringify({ ...ed25519Jwk(), x: ed25519Jwk().x })],
  ];
  it.each(KEY_FILES)('a key file holding %s', async (_what, text) => {
    const dir = agentDir({ 'agent-key.json': text });
    const err = await refusal(dir);
    expect(err.code).toBe('config_invalid');
    expect(err.message).toContain(join(dir, 'agent-key.json'));
    expect(err.message).toContain(`move agent-key.json and agent.json out of ${dir}, then run \`cardauth agent enroll\` again`);
    expect(err.message).not.toContain('\n');
    // Nothing was replaced: the operator decides.
    expect(readFileSync(join(dir, 'agent-key.json'), 'utf8')).toBe(text);
  });

  const ID_FILES: Array<[string, string]> = [
    ['null', 'null'],
    ['a truncated write', '{\n  "agentId": "ag_0123'],
    ['an agent id that is not a string', '{"agentId": 5, "server": "https://mis.example.ru"}'],
    ['no server', '{"agentId": "ag_0123456789abcdef"}'],
  ];
  it.each(ID_FILES)('an enrollment file (agent.json) holding %s', async (_what, text) => {
    const dir = agentDir({ 'agent.json': text });
    const err = await refusal(dir);
    expect(err.code).toBe('config_invalid');
    expect(err.message).toContain(join(dir, 'agent.json'));
    expect(err.message).toContain(`move agent-key.json and agent.json out of ${dir}`);
  });

  it('CARDAUTH_AGENT_DIR under a regular file, or a regular file itself', async () => {
    const file = join(agentDir(), 'plain-file');
    writeFileSync(file, 'x');
    for (const dir of [join(file, 'agent'), file]) {
      const err = await refusal(dir);
      expect(err.code).toBe('config_invalid');
      expect(err.message).toBe(`CARDAUTH_AGENT_DIR ${dir}: cannot create the folder (ENOTDIR); it must be a folder this user can write`);
    }
  });
});

describe('agent key store: writes whole files', () => {
  it('two first starts at once make one key, not a crash', async () => {
    const dir = agentDir();
    const [a, b] = await Promise.all([loadOrCreateIdentity(dir), loadOrCreateIdentity(dir)]);
    expect(a.fingerprint).toBe(b.fingerprint);
    expect(statSync(join(dir, 'agent-key.json')).mode & 0o777).toBe(0o600);
    expect(readdirSync(dir)).toEqual(['agent-key.json']);
  });

  it('saveEnrollment replaces agent.json by a rename (never rewrites it in place), mode 0600', async () => {
    const dir = agentDir();
    const first = await loadOrCreateIdentity(dir);
    saveEnrollment(dir, { agentId: 'ag_0123456789abcdef', server: 'https://a.example.ru' });
    const before = statSync(join(dir, 'agent.json')).ino;
    saveEnrollment(dir, { agentId: 'ag_fedcba9876543210', server: 'https://b.example.ru' });
    // A new inode: the new content went to a temp file first, so a crash mid-write leaves the old file whole.
    expect(statSync(join(dir, 'agent.json')).ino).not.toBe(before);
    expect(statSync(join(dir, 'agent.json')).mode & 0o777).toBe(0o600);
    expect(readdirSync(dir).sort()).toEqual(['agent-key.json', 'agent.json']);
    expect(await loadOrCreateIdentity(dir)).toMatchObject({ fingerprint: first.fingerprint, agentId: 'ag_fedcba9876543210', server: 'https://b.example.ru' });
  });
});

describe('agent key store: an enrollment written after the agent started', () => {
  it('is nothing until `agent enroll` writes it, then the enrollment', async () => {
    const dir = agentDir();
    const enrolled = enrollmentSince(dir, (await loadOrCreateIdentity(dir)).publicJwk);
    expect(enrolled()).toBeUndefined();
    saveEnrollment(dir, { agentId: 'ag_0123456789abcdef', server: 'https://a.example.ru' });
    expect(enrolled()).toEqual({ agentId: 'ag_0123456789abcdef', server: 'https://a.example.ru' });
  });

  it('is refused (unavailable, saying to restart) when the key file now holds another key than the one the agent runs with', async () => {
    const dir = agentDir();
    const enrolled = enrollmentSince(dir, (await loadOrCreateIdentity(dir)).publicJwk);
    rmSync(join(dir, 'agent-key.json'));
    await loadOrCreateIdentity(dir); // started over: a new key
    saveEnrollment(dir, { agentId: 'ag_0123456789abcdef', server: 'https://a.example.ru' });
    for (let i = 0; i < 2; i++) {
      expect(enrolled).toThrow(expect.objectContaining({ code: 'unavailable', message: expect.stringContaining('restart the agent') }));
    }
  });
});

