import { chmodSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readSigningJwks, writeSigningJwks } from '../../src/oidc/keys';

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
