import { randomUUID } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { exportJWK, generateKeyPair, type JWK } from 'jose';
import { writeWhole } from '../card-agent/write-whole';
import { CardauthError } from '../errors';

/** The algorithms the provider signs ID tokens with: RS256 (OIDC Discovery requires it) and ES256. */
export const SIGNING_ALGS = ['RS256', 'ES256'] as const;

/** Private signing keys as oidc-provider's `jwks` takes them. */
export interface SigningJwks {
  keys: JWK[];
}

/**
 * Makes a new private JWKS: one RS256 (2048-bit) and one ES256 key, each with a `kid`, `alg`
 * and `use: sig`.
 *
 * @example
 * const jwks = await generateSigningJwks();
 */
export async function generateSigningJwks(): Promise<SigningJwks> {
  const keys: JWK[] = [];
  for (const alg of SIGNING_ALGS) {
    const { privateKey } = await generateKeyPair(alg, { extractable: true, ...(alg === 'RS256' ? { modulusLength: 2048 } : {}) });
    keys.push({ ...(await exportJWK(privateKey)), kid: randomUUID(), alg, use: 'sig' });
  }
  return { keys };
}

/**
 * Writes a new private JWKS to `file`, mode 0600, never over an existing file.
 *
 * @example
 * await writeSigningJwks('/etc/cardauth/oidc-jwks.json');
 */
export async function writeSigningJwks(file: string): Promise<SigningJwks> {
  const jwks = await generateSigningJwks();
  let written: boolean;
  try {
    written = writeWhole(file, `${JSON.stringify(jwks, null, 2)}\n`, { mode: 0o600, exclusive: true });
  } catch (err) {
    throw new CardauthError('config_invalid', `${file}: cannot write (${(err as NodeJS.ErrnoException).code ?? 'error'})`, { cause: err });
  }
  if (!written) throw new CardauthError('config_invalid', `${file}: exists already; keys are never overwritten (move it away first)`);
  return jwks;
}

/**
 * Reads the private JWKS of CARDAUTH_OIDC_JWKS_FILE. Refuses, naming the file (never its
 * content), a file others can read (chmod 600), one that is not a JWKS, and one without a
 * private RS256 key (OIDC Discovery requires RS256).
 *
 * @example
 * const jwks = readSigningJwks(config.CARDAUTH_OIDC_JWKS_FILE);
 */
export function readSigningJwks(file: string): SigningJwks {
  const bad = (why: string, cause?: unknown) => new CardauthError('config_invalid', `CARDAUTH_OIDC_JWKS_FILE: ${file}: ${why}`, cause ? { cause } : undefined);
  let text: string;
  try {
    if (process.platform !== 'win32' && (statSync(file).mode & 0o077) !== 0) throw bad('the private keys must be readable by their owner only (chmod 600)');
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if (err instanceof CardauthError) throw err;
    throw bad(`cannot read (${(err as NodeJS.ErrnoException).code ?? 'error'})`, err);
  }
  let jwks: unknown;
  try {
    jwks = JSON.parse(text);
  } catch {
    throw bad('not JSON; make one with `cardauth oidc keys init --out FILE`');
  }
  const keys = (jwks as SigningJwks | null)?.keys;
  if (!Array.isArray(keys) || keys.some((k) => typeof k !== 'object' || k === null || typeof k.kid !== 'string' || typeof k.d !== 'string')) {
    throw bad('not a JWKS of private keys, each with a kid; make one with `cardauth oidc keys init --out FILE`');
  }
  if (!keys.some((k) => k.kty === 'RSA' && (k.alg === undefined || k.alg === 'RS256'))) throw bad('has no RS256 key, which OpenID Connect requires');
  return { keys };
}
