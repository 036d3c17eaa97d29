import { chmodSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { addSigningKeys, dropSigningKey, readSigningJwks, useSigningKeys, writeSigningJwks } from '../../src/oidc/keys';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'cardauth-oidc-keys-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('OpenID signing keys file', () => {
  it('is written mode 0600 with a private RS256 and ES256 key, and read back', async () => {
    const file = join(dir, 'jwks.json');
    await writeSigningJwks(file);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const { keys } = readSigningJwks(file);
    expect(keys.map((k) => [k.kty, k.alg, k.use])).toEqual([
      ['RSA', 'RS256', 'sig'],
      ['EC', 'ES256', 'sig'],
    ]);
    for (const k of keys) expect(typeof k.d).toBe('string');
    expect(new Set(keys.map((k) => k.kid)).size).toBe(2);
  });

  it('is never overwritten', async () => {
    const file = join(dir, 'jwks.json');
    await writeSigningJwks(file);
    const before = readSigningJwks(file);
    await expect(writeSigningJwks(file)).rejects.toMatchObject({ code: 'config_invalid', message: expect.stringContaining('exists already') });
    expect(readSigningJwks(file)).toEqual(before);
  });

  it('is refused when others can read it, naming the file and never showing a key', async () => {
    const file = join(dir, 'jwks.json');
    await writeSigningJwks(file);
    chmodSync(file, 0o644);
    let message = '';
    try {
      readSigningJwks(file);
    } catch (err) {
      expect(err).toMatchObject({ code: 'config_invalid' });
      message = (err as Error).message;
    }
    expect(message).toBe(`CARDAUTH_OIDC_JWKS_FILE: ${file}: the private keys must be readable by their owner only (chmod 600)`);
  });

  it.each([
    ['not JSON', '{"keys":', 'not JSON'],
    ['public keys only', JSON.stringify({ keys: [{ kty: 'RSA', kid: 'a', n: 'x', e: 'AQAB' }] }), 'not a JWKS of private keys'],
    ['no RS256 key', JSON.stringify({ keys: [{ kty: 'EC', kid: 'a', crv: 'P-256', x: 'x', y: 'y', d: 'SECRETVALUE', alg: 'ES256' }] }), 'has no RS256 key'],
  ])('is refused when %s', (_what, text, why) => {
    const file = join(dir, 'jwks.json');
    writeFileSync(file, text, { mode: 0o600 });
    expect(() => readSigningJwks(file)).toThrow(why);
    try {
      readSigningJwks(file);
    } catch (err) {
      expect((err as Error).message).not.toContain('SECRETVALUE');
    }
  });

  it('is refused when missing', () => {
    expect(() => readSigningJwks(join(dir, 'none.json'))).toThrow('cannot read (ENOENT)');
  });
});

describe('OpenID signing key rotation', () => {
  const kids = (file: string) => readSigningJwks(file).keys.map((k) => `${String(k.alg)} ${String(k.kid)}`);

  it('adds new keys at the end (published, not signing), makes them sign, then drops the old ones', async () => {
    const file = join(dir, 'jwks.json');
    const old = (await writeSigningJwks(file)).keys;
    const added = await addSigningKeys(file);
    expect(added.map((k) => k.alg)).toEqual(['RS256', 'ES256']);
    expect(kids(file)).toEqual([...old, ...added].map((k) => `${k.alg} ${k.kid}`));
    expect(statSync(file).mode & 0o777).toBe(0o600);

    await useSigningKeys(file, added.map((k) => k.kid!));
    expect(kids(file)).toEqual([...added, ...old].map((k) => `${k.alg} ${k.kid}`));
    // Idempotent: naming them again changes nothing.
    await useSigningKeys(file, added.map((k) => k.kid!));
    expect(kids(file)).toEqual([...added, ...old].map((k) => `${k.alg} ${k.kid}`));

    for (const k of old) await dropSigningKey(file, k.kid!);
    expect(kids(file)).toEqual(added.map((k) => `${k.alg} ${k.kid}`));
  });

  it('never drops a key that signs, nor an unknown one, and never uses an unknown one', async () => {
    const file = join(dir, 'jwks.json');
    const [rs, es] = (await writeSigningJwks(file)).keys;
    await addSigningKeys(file);
    const before = readSigningJwks(file);
    await expect(dropSigningKey(file, rs!.kid!)).rejects.toThrow(`key ${rs!.kid} signs`);
    await expect(dropSigningKey(file, es!.kid!)).rejects.toThrow(`key ${es!.kid} signs`);
    await expect(dropSigningKey(file, 'nope')).rejects.toThrow('has no key nope');
    await expect(useSigningKeys(file, ['nope'])).rejects.toThrow('has no key nope');
    expect(readSigningJwks(file)).toEqual(before);
  });
});
