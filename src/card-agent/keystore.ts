import { chmodSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, importJWK, type CryptoKey, type JWK } from 'jose';
import { CardauthError } from '../errors';

/** The agent's identity: an Ed25519 key pair, and the id the server gave it once enrolled. */
export interface AgentIdentity {
  privateKey: CryptoKey;
  publicJwk: JWK;
  /** RFC 7638 thumbprint of the public key, the same the server prints in `agent list`. */
  fingerprint: string;
  /** Set after `cardauth agent enroll`. */
  agentId?: string;
  /** The server it enrolled with. */
  server?: string;
}

const KEY_FILE = 'agent-key.json';
const ID_FILE = 'agent.json';

function readJson(path: string): unknown {
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new CardauthError('config_invalid', `${path}: unreadable (${(err as Error).message.split('\n')[0]})`);
  }
}

/**
 * Loads the agent's key from its data folder, or generates an Ed25519 key
 * pair on first start. The private key is written with mode 0600 in a 0700
 * folder and never printed; a key file readable by others is refused.
 *
 * @example
 * const identity = await loadOrCreateIdentity('/var/lib/cardauth-agent');
 * console.log(identity.fingerprint);
 */
export async function loadOrCreateIdentity(dir: string): Promise<AgentIdentity> {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const keyPath = join(dir, KEY_FILE);
  let privateJwk = readJson(keyPath) as JWK | undefined;
  if (privateJwk === undefined) {
    const pair = await generateKeyPair('EdDSA', { extractable: true });
    privateJwk = await exportJWK(pair.privateKey);
    writeFileSync(keyPath, JSON.stringify(privateJwk), { mode: 0o600, flag: 'wx' });
  } else if (process.platform !== 'win32' && (statSync(keyPath).mode & 0o077) !== 0) {
    throw new CardauthError('config_invalid', `${keyPath}: the private key must be readable by its owner only (chmod 600)`);
  }
  if (privateJwk.kty !== 'OKP' || privateJwk.crv !== 'Ed25519' || typeof privateJwk.d !== 'string' || typeof privateJwk.x !== 'string') {
    throw new CardauthError('config_invalid', `${keyPath}: not an Ed25519 private key`);
  }
  const privateKey = (await importJWK(privateJwk, 'EdDSA')) as CryptoKey;
  const publicJwk: JWK = { kty: 'OKP', crv: 'Ed25519', x: privateJwk.x };
  const fingerprint = await calculateJwkThumbprint(publicJwk, 'sha256');
  const saved = readJson(join(dir, ID_FILE)) as { agentId?: unknown; server?: unknown } | undefined;
  return {
    privateKey,
    publicJwk,
    fingerprint,
    ...(typeof saved?.agentId === 'string' ? { agentId: saved.agentId } : {}),
    ...(typeof saved?.server === 'string' ? { server: saved.server } : {}),
  };
}

/** Remembers the id the server assigned at enrollment. */
export function saveEnrollment(dir: string, enrollment: { agentId: string; server: string }): void {
  const path = join(dir, ID_FILE);
  writeFileSync(path, JSON.stringify(enrollment, null, 2), { mode: 0o600 });
  chmodSync(path, 0o600);
}
