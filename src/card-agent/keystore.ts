import { mkdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, importJWK, type CryptoKey, type JWK } from 'jose';
import { CardauthError } from '../errors';
import { writeWhole } from '../write-whole';

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

/** The private key, in CARDAUTH_AGENT_DIR. */
const KEY_FILE = 'agent-key.json';
/** The enrollment (agent id and server), in CARDAUTH_AGENT_DIR. */
const ID_FILE = 'agent.json';

/** How to start over as a new agent (a damaged key file, or enrolling again): both files go. */
export const startOverHint = (dir: string) => `move ${KEY_FILE} and ${ID_FILE} out of ${dir}, then run \`cardauth agent enroll\` again (a new key is made)`;

const errnoCode = (err: unknown) => (err as NodeJS.ErrnoException).code ?? (err as Error).message.split('\n')[0];

/** A file-system failure in the agent folder, as a config error naming CARDAUTH_AGENT_DIR. */
function dirError(dir: string, what: string, err: unknown): CardauthError {
  return new CardauthError('config_invalid', `CARDAUTH_AGENT_DIR ${dir}: cannot ${what} (${errnoCode(err)}); it must be a folder this user can write`, { cause: err });
}

function readJson(dir: string, name: string): unknown {
  const path = join(dir, name);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw dirError(dir, `read ${name}`, err);
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new CardauthError('config_invalid', `${path}: not valid JSON (${(err as Error).message.split('\n')[0]}); ${startOverHint(dir)}`);
  }
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Writes `dir/name` whole, mode 0600 (see writeWhole); a file-system failure names CARDAUTH_AGENT_DIR. */
function writeAtomic(dir: string, name: string, text: string, opts: { exclusive?: boolean } = {}): boolean {
  try {
    return writeWhole(join(dir, name), text, { mode: 0o600, ...opts });
  } catch (err) {
    throw dirError(dir, `write ${name}`, err);
  }
}

/** The key file's content: an Ed25519 private JWK, or a config error saying what to do. */
function privateJwkOf(dir: string, content: unknown): JWK & { d: string; x: string } {
  if (!isObject(content) || content.kty !== 'OKP' || content.crv !== 'Ed25519' || typeof content.d !== 'string' || typeof content.x !== 'string') {
    throw new CardauthError('config_invalid', `${join(dir, KEY_FILE)}: not an Ed25519 private key; ${startOverHint(dir)}`);
  }
  return content as JWK & { d: string; x: string };
}

/** The enrollment file's content: `{agentId, server}`, nothing (not enrolled), or a config error. */
function enrollmentOf(dir: string, content: unknown): { agentId: string; server: string } | undefined {
  if (content === undefined) return undefined;
  if (!isObject(content) || typeof content.agentId !== 'string' || !content.agentId || typeof content.server !== 'string' || !content.server) {
    throw new CardauthError('config_invalid', `${join(dir, ID_FILE)}: not an agent enrollment (expected {"agentId": …, "server": …}); ${startOverHint(dir)}`);
  }
  return { agentId: content.agentId, server: content.server };
}

/**
 * Loads the agent's key from its data folder, or generates an Ed25519 key
 * pair on first start. The private key is written with mode 0600 in a 0700
 * folder and never printed; a key file readable by others is refused. A
 * damaged key or enrollment file, or a folder that cannot be used, is
 * `config_invalid` naming the file or CARDAUTH_AGENT_DIR.
 *
 * @example
 * const identity = await loadOrCreateIdentity('/var/lib/cardauth-agent');
 * console.log(identity.fingerprint);
 */
export async function loadOrCreateIdentity(dir: string): Promise<AgentIdentity> {
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    if (!statSync(dir).isDirectory()) throw Object.assign(new Error('not a folder'), { code: 'ENOTDIR' });
  } catch (err) {
    // mkdir of an existing file says EEXIST: it is a file where the folder should be.
    throw dirError(dir, 'create the folder', (err as NodeJS.ErrnoException).code === 'EEXIST' ? Object.assign(new Error('not a folder'), { code: 'ENOTDIR', cause: err }) : err);
  }
  const keyPath = join(dir, KEY_FILE);
  let content = readJson(dir, KEY_FILE);
  if (content === undefined) {
    const pair = await generateKeyPair('EdDSA', { extractable: true });
    // Never replaces a key: if another process made one meanwhile, that one is the key.
    writeAtomic(dir, KEY_FILE, JSON.stringify(await exportJWK(pair.privateKey)), { exclusive: true });
    content = readJson(dir, KEY_FILE);
  } else {
    let mode: number;
    try {
      mode = statSync(keyPath).mode;
    } catch (err) {
      throw dirError(dir, `read ${KEY_FILE}`, err);
    }
    if (process.platform !== 'win32' && (mode & 0o077) !== 0) {
      throw new CardauthError('config_invalid', `${keyPath}: the private key must be readable by its owner only (chmod 600)`);
    }
  }
  const privateJwk = privateJwkOf(dir, content);
  let privateKey: CryptoKey;
  try {
    privateKey = (await importJWK(privateJwk, 'EdDSA')) as CryptoKey;
  } catch (err) {
    throw new CardauthError('config_invalid', `${keyPath}: not a usable Ed25519 private key (${(err as Error).message.split('\n')[0]}); ${startOverHint(dir)}`, { cause: err });
  }
  const publicJwk: JWK = { kty: 'OKP', crv: 'Ed25519', x: privateJwk.x };
  const fingerprint = await calculateJwkThumbprint(publicJwk, 'sha256');
  const saved = enrollmentOf(dir, readJson(dir, ID_FILE));
  return { privateKey, publicJwk, fingerprint, ...saved };
}

/** Remembers the id the server assigned at enrollment (replacing the file whole, mode 0600). */
export function saveEnrollment(dir: string, enrollment: { agentId: string; server: string }): void {
  writeAtomic(dir, ID_FILE, JSON.stringify(enrollment, null, 2));
}

/**
 * For an agent started before `cardauth agent enroll`: the enrollment that
 * command wrote since, or nothing yet. Asking costs one stat of `agent.json`
 * until it is there. Then the key file must still hold the key this process
 * signs with (`publicJwk`): when someone started over (moved both files out
 * and enrolled a new key), the id on disk names another key, and this is
 * `unavailable`, saying to restart the agent. A file refused once is refused
 * again, without reading it, until it changes (inode, size, mtime).
 *
 * @example
 * const enrolled = enrollmentSince(dir, identity.publicJwk);
 * enrolled()?.agentId; // undefined until `cardauth agent enroll` ran
 */
export function enrollmentSince(dir: string, publicJwk: JWK): () => { agentId: string; server: string } | undefined {
  // The last refusal, and the file it came from: an unchanged file is refused again without reading it.
  let refused: { stamp: string; err: unknown } | undefined;
  return () => {
    let stamp: string;
    try {
      const st = statSync(join(dir, ID_FILE));
      stamp = `${st.ino}:${st.size}:${st.mtimeMs}`;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw dirError(dir, `read ${ID_FILE}`, err);
    }
    if (refused?.stamp === stamp) throw refused.err;
    try {
      const enrollment = enrollmentOf(dir, readJson(dir, ID_FILE));
      if (enrollment && privateJwkOf(dir, readJson(dir, KEY_FILE)).x !== publicJwk.x) {
        throw new CardauthError(
          'unavailable',
          `${join(dir, ID_FILE)} enrolls ${enrollment.agentId} for another key than the one this agent runs with (${join(dir, KEY_FILE)} was replaced): restart the agent`,
        );
      }
      return enrollment;
    } catch (err) {
      refused = { stamp, err };
      throw err;
    }
  };
}
