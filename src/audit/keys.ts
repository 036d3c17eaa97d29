import { randomUUID } from 'node:crypto';
import { exportJWK, generateKeyPair } from 'jose';
import type { JWK } from 'jose' with { 'resolution-mode': 'import' };
import { CardauthError } from '../errors';
import { readKeyFileText, writeKeyFile } from '../key-file';

/** The algorithm of the audit checkpoints' signatures: EdDSA over Ed25519. */
export const AUDIT_KEY_ALG = 'EdDSA';

/**
 * The audit key file (CARDAUTH_AUDIT_KEYS_FILE): private Ed25519 JWKs, each with a `kid`. The
 * first key signs checkpoints; the others only verify the checkpoints they signed (rotation).
 */
export interface AuditKeys {
  keys: JWK[];
}

/** A new private Ed25519 key with a fresh `kid`. */
export async function generateAuditKey(): Promise<JWK> {
  const { privateKey } = await generateKeyPair(AUDIT_KEY_ALG, { crv: 'Ed25519', extractable: true });
  return { ...(await exportJWK(privateKey)), kid: randomUUID(), alg: AUDIT_KEY_ALG, use: 'sig' };
}

/**
 * Makes a new audit key file with one key, mode 0600, never over an existing file.
 *
 * @example
 * const { keys: [key] } = await writeAuditKeys('/etc/cardauth/audit-keys.json');
 */
export async function writeAuditKeys(file: string): Promise<AuditKeys> {
  const jwks = { keys: [await generateAuditKey()] };
  writeKeyFile(file, jwks, { create: true });
  return jwks;
}

const isKey = (k: unknown, priv: boolean): k is JWK => {
  const j = k as JWK | null;
  return typeof j === 'object' && j !== null && j.kty === 'OKP' && j.crv === 'Ed25519' && typeof j.x === 'string' && typeof j.kid === 'string' && j.kid !== '' && (!priv || typeof j.d === 'string');
};

/** Reads a JWKS file; `bad` names what is wrong, never the content. */
function readJwks(file: string, bad: (why: string, cause?: unknown) => CardauthError, priv: boolean): JWK[] {
  const text = readKeyFileText(file, bad, priv);
  let keys: unknown;
  try {
    keys = (JSON.parse(text) as { keys?: unknown } | null)?.keys;
  } catch {
    keys = undefined;
  }
  if (!Array.isArray(keys) || keys.length === 0 || !keys.every((k) => isKey(k, priv))) {
    throw bad(`not a JWKS of ${priv ? 'private ' : ''}Ed25519 keys, each with a kid; make one with \`cardauth audit keys ${priv ? 'init --out' : 'export --file KEYS --out'} FILE\``);
  }
  return keys as JWK[];
}

/**
 * Reads the private audit keys. Refuses, naming the file (never its content), a file others
 * can read (chmod 600) and one that is not a JWKS of private Ed25519 keys with kids.
 *
 * @example
 * const { keys } = readAuditKeys(config.CARDAUTH_AUDIT_KEYS_FILE); // keys[0] signs
 */
export function readAuditKeys(file: string): AuditKeys {
  return { keys: readJwks(file, (why, cause) => new CardauthError('config_invalid', `CARDAUTH_AUDIT_KEYS_FILE: ${file}: ${why}`, cause ? { cause } : undefined), true) };
}

/**
 * Reads a public JWKS (as `audit keys export` writes it) for offline verification.
 *
 * @example
 * const { keys } = readPublicAuditKeys('audit-public.json');
 */
export function readPublicAuditKeys(file: string): AuditKeys {
  return { keys: readJwks(file, (why, cause) => new CardauthError('config_invalid', `${file}: ${why}`, cause ? { cause } : undefined), false).map(publicKey) };
}

/** The public part of a key: no `d`. */
function publicKey({ kty, crv, x, kid, alg, use }: JWK): JWK {
  return { kty, crv, x, kid, alg: alg ?? AUDIT_KEY_ALG, use: use ?? 'sig' };
}

/**
 * The public JWKS of the audit keys, for verifying checkpoints offline.
 *
 * @example
 * writeFileSync('audit-public.json', JSON.stringify(publicAuditJwks(readAuditKeys(file))));
 */
export function publicAuditJwks(jwks: AuditKeys): AuditKeys {
  return { keys: jwks.keys.map(publicKey) };
}

/** Rewrites the key file whole (mode 0600) with what `change` makes of its keys. */
async function rewriteAuditKeys(file: string, change: (keys: JWK[]) => JWK[] | Promise<JWK[]>): Promise<AuditKeys> {
  const jwks = { keys: await change(readAuditKeys(file).keys) };
  writeKeyFile(file, jwks, { create: false });
  return jwks;
}

/**
 * Rotation, step 1: adds a new key at the end of the file (it verifies, it does not sign yet).
 *
 * @example
 * const added = await addAuditKey(file);
 */
export async function addAuditKey(file: string): Promise<JWK> {
  const fresh = await generateAuditKey();
  await rewriteAuditKeys(file, (keys) => [...keys, fresh]);
  return fresh;
}

/**
 * Rotation, step 2: the key `kid` signs from now on (it moves to the front); the others still
 * verify what they signed. Refuses an unknown kid.
 *
 * @example
 * await activateAuditKey(file, added.kid);
 */
export async function activateAuditKey(file: string, kid: string): Promise<JWK> {
  let chosen: JWK | undefined;
  await rewriteAuditKeys(file, (keys) => {
    chosen = keys.find((k) => k.kid === kid);
    if (!chosen) throw new CardauthError('config_invalid', `${file}: has no key ${kid}`);
    return [chosen, ...keys.filter((k) => k !== chosen)];
  });
  return chosen!;
}
