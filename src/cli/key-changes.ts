import { resolve } from 'node:path';
import type { JWK } from 'jose';
import { requiredString } from './args';
import { auditChange, type CommandContext } from './command';
import type { CliServices } from './services';

/**
 * What the key-file commands (`audit keys …`, `oidc keys …`) share: the options naming the file
 * and a key, and the audit record of each key they change.
 */

/** A key file option (`--file`, `--out`): required, not empty. */
export const keyFileArg = requiredString().min(1, 'required');
/** A key id option (`--kid`): required, not empty. */
export const kidArg = requiredString().min(1, 'required');

/** The audit events of a key file's change. */
export type KeyChangeType = 'audit.key_added' | 'audit.key_activated' | 'oidc.key_added' | 'oidc.key_activated' | 'oidc.key_dropped';

/**
 * Records one change of a key file per key: its kid and alg and the file's path, never key
 * material; `done` says what was done (see {@link auditChange}).
 *
 * @example
 * await auditKeyChanges(ctx, s, 'oidc.key_added', file, added, `keys ${kids} were added to ${file}`);
 */
export async function auditKeyChanges(ctx: CommandContext, s: Pick<CliServices, 'audit'>, type: KeyChangeType, file: string, keys: readonly JWK[], done: string): Promise<void> {
  for (const k of keys) await auditChange(ctx, s, { type, outcome: 'success', details: { kid: String(k.kid), alg: String(k.alg), file: resolve(file) } }, done);
}
