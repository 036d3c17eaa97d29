import { randomUUID } from 'node:crypto';
import { exportJWK, generateKeyPair, type JWK } from 'jose';
import { readKeyFileText, writeKeyFile } from '../key-file';
import { CardauthError } from '../errors';

/** The algorithms the provider signs ID tokens with: RS256 (OIDC Discovery requires it) and ES256. */
export const SIGNING_ALGS = ['RS256', 'ES256'] as const;

/** Private signing keys as oidc-provider's `jwks` takes them. */
export interface SigningJwks {
  keys: JWK[];
}

/**
 * Makes a new private JWKS: one RS256 (2048-bit) and one ES256 key, each with a `kid`, `alg`
 * and `use: sig`. The provider signs with the first key of each algorithm in the file and
 * publishes them all: that order is what the rotation commands change.
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
  writeKeyFile(file, jwks, { create: true });
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
  const text = readKeyFileText(file, bad, true);
  let jwks: unknown;
  try {
    jwks = JSON.parse(text);
  } catch {
    throw bad('not JSON; make one with `cardauth oidc keys init --out FILE`');
  }
  const keys = (jwks as SigningJwks | null)?.keys;
  const algs: readonly unknown[] = SIGNING_ALGS;
  if (!Array.isArray(keys) || keys.some((k) => typeof k !== 'object' || k === null || typeof k.kid !== 'string' || typeof k.d !== 'string' || !algs.includes(k.alg))) {
    throw bad('not a JWKS of private keys, each with a kid and an alg (RS256 or ES256); make one with `cardauth oidc keys init --out FILE`');
  }
  if (!keys.some((k) => k.alg === 'RS256')) throw bad('has no RS256 key, which OpenID Connect requires');
  return { keys };
}

/** The key that signs for `alg`: the first of that algorithm in the file. */
const signingKid = (keys: JWK[], alg: string) => keys.find((k) => k.alg === alg)?.kid;

/** Rewrites the keys file whole (mode 0600) with what `change` makes of its keys. */
async function rewriteSigningJwks(file: string, change: (keys: JWK[]) => JWK[] | Promise<JWK[]>): Promise<SigningJwks> {
  const jwks = { keys: await change(readSigningJwks(file).keys) };
  writeKeyFile(file, jwks, { create: false });
  return jwks;
}

/**
 * Rotation, step 1: adds a new RS256 and ES256 key at the end of the file. Once the file is on
 * every node (and they restarted), the new keys are published but nothing is signed with them.
 *
 * @example
 * const added = await addSigningKeys(file); // => the new keys
 */
export async function addSigningKeys(file: string): Promise<JWK[]> {
  const fresh = (await generateSigningJwks()).keys;
  await rewriteSigningJwks(file, (keys) => [...keys, ...fresh]);
  return fresh;
}

/**
 * Rotation, step 2: the given keys (one per algorithm, e.g. those step 1 added) sign from now
 * on: each moves to the front of the file. The others stay published, so tokens they signed
 * still verify. Refuses an unknown kid.
 *
 * @example
 * await useSigningKeys(file, [rsKid, esKid]);
 */
export async function useSigningKeys(file: string, kids: string[]): Promise<SigningJwks> {
  return rewriteSigningJwks(file, (keys) => {
    const chosen = kids.map((kid) => {
      const key = keys.find((k) => k.kid === kid);
      if (!key) throw new CardauthError('config_invalid', `${file}: has no key ${kid}`);
      return key;
    });
    return [...chosen, ...keys.filter((k) => !chosen.includes(k))];
  });
}

/**
 * Rotation, step 3: removes an old key once nothing it signed is still in use. Refuses the key
 * that signs (the first of its algorithm) and an unknown kid. Answers the removed key.
 *
 * @example
 * const dropped = await dropSigningKey(file, 'e4f…'); // dropped.alg, dropped.kid
 */
export async function dropSigningKey(file: string, kid: string): Promise<JWK> {
  let dropped: JWK | undefined;
  await rewriteSigningJwks(file, (keys) => {
    const key = keys.find((k) => k.kid === kid);
    if (!key) throw new CardauthError('config_invalid', `${file}: has no key ${kid}`);
    if (SIGNING_ALGS.some((alg) => signingKid(keys, alg) === kid)) throw new CardauthError('config_invalid', `${file}: key ${kid} signs; make another sign first (cardauth oidc keys use)`);
    dropped = key;
    return keys.filter((k) => k !== key);
  });
  return dropped!;
}
