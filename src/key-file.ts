import { readFileSync, statSync } from 'node:fs';
import { CardauthError } from './errors';
import { writeWhole } from './write-whole';

/**
 * The files of private keys (the OpenID provider's JWKS, the audit's checkpoint keys): JSON,
 * mode 0600, written whole, never created over an existing file, and refused when others can
 * read them. Messages name the file, never its content.
 *
 * @example
 * writeKeyFile('/etc/cardauth/audit-keys.json', { keys: [key] }, { create: true });
 */
export function writeKeyFile(file: string, jwks: { keys: readonly unknown[] }, opts: { create: boolean }): void {
  let written: boolean;
  try {
    written = writeWhole(file, `${JSON.stringify(jwks, null, 2)}\n`, { mode: 0o600, ...(opts.create ? { exclusive: true } : {}) });
  } catch (err) {
    throw new CardauthError('config_invalid', `${file}: cannot write (${(err as NodeJS.ErrnoException).code ?? 'error'})`, { cause: err });
  }
  if (!written) throw new CardauthError('config_invalid', `${file}: exists already; keys are never overwritten (move it away first)`);
}

/**
 * The text of a key file; with `ownerOnly` (private keys), refused when others can read it.
 * `bad` makes the refusal (it names the config key or the file).
 *
 * @example
 * const text = readKeyFileText(file, (why, cause) => new CardauthError('config_invalid', `${file}: ${why}`, { cause }), true);
 */
export function readKeyFileText(file: string, bad: (why: string, cause?: unknown) => CardauthError, ownerOnly: boolean): string {
  try {
    if (ownerOnly && process.platform !== 'win32' && (statSync(file).mode & 0o077) !== 0) throw bad('the private keys must be readable by their owner only (chmod 600)');
    return readFileSync(file, 'utf8');
  } catch (err) {
    if (err instanceof CardauthError) throw err;
    throw bad(`cannot read (${(err as NodeJS.ErrnoException).code ?? 'error'})`, err);
  }
}
