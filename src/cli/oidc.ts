import { z } from 'zod';
import type { JWK } from 'jose';
import { addSigningKeys, dropSigningKey, useSigningKeys, writeSigningJwks } from '../oidc/keys';
import { checkValues } from './args';
import type { Command } from './command';
import { auditKeyChanges, keyFileArg, kidArg } from './key-changes';

/** Keys as the commands print them: algorithm and kid, never a key. */
const describeKeys = (keys: JWK[]) => keys.map((k) => `${String(k.alg)} ${String(k.kid)}`).join(', ');

/** `cardauth oidc keys init`. */
export const oidcKeysInit: Command = {
  path: ['oidc', 'keys', 'init'],
  usage: '--out FILE',
  summary: "make the OpenID provider's signing keys (RS256 and ES256) in a new file, mode 0600",
  details: [
    '--out FILE    the file to make; an existing file is never overwritten',
    'Give the file to every node as CARDAUTH_OIDC_JWKS_FILE (owner-readable only). It holds private keys: only their key ids are printed.',
  ].join('\n'),
  options: { out: { type: 'string' } },
  async run(ctx, raw) {
    const args = checkValues('oidc keys init', z.object({ out: keyFileArg }), raw.values);
    return ctx.withChanges(async (s) => {
      const { keys } = await writeSigningJwks(args.out);
      await auditKeyChanges(ctx, s, 'oidc.key_added', args.out, keys, `${args.out} was written`);
      ctx.io.stdout.write(`wrote ${args.out} (mode 0600): ${describeKeys(keys)}\n`);
      return 0;
    });
  },
};

const ROTATION = [
  'Rotation without downtime, one step at a time; after each, copy the file to every node and restart them one by one:',
  '  1. oidc keys add --file FILE                   new keys, published, not signing yet',
  '  2. oidc keys use --file FILE --kid K --kid K2  (once every node publishes them) the new keys sign',
  '  3. oidc keys drop --file FILE --kid OLD        (once nothing the old key signed is in use) the old key goes',
].join('\n');

/** `cardauth oidc keys add`. */
export const oidcKeysAdd: Command = {
  path: ['oidc', 'keys', 'add'],
  usage: '--file FILE',
  summary: 'rotation step 1: add a new RS256 and ES256 key to the signing keys file (published, not signing yet)',
  details: ROTATION,
  options: { file: { type: 'string' } },
  async run(ctx, raw) {
    const args = checkValues('oidc keys add', z.object({ file: keyFileArg }), raw.values);
    return ctx.withChanges(async (s) => {
      const added = await addSigningKeys(args.file);
      await auditKeyChanges(ctx, s, 'oidc.key_added', args.file, added, `keys ${describeKeys(added)} were added to ${args.file}`);
      ctx.io.stdout.write(`added to ${args.file}: ${describeKeys(added)}; they sign once \`oidc keys use\` names them\n`);
      return 0;
    });
  },
};

/** `cardauth oidc keys use`. */
export const oidcKeysUse: Command = {
  path: ['oidc', 'keys', 'use'],
  usage: '--file FILE --kid KID [--kid KID]',
  summary: 'rotation step 2: these keys sign from now on (the others stay published)',
  details: ROTATION,
  options: { file: { type: 'string' }, kid: { type: 'string', multiple: true } },
  async run(ctx, raw) {
    const args = checkValues('oidc keys use', z.object({ file: keyFileArg, kid: z.array(kidArg, { error: 'required' }).min(1, 'required') }), raw.values);
    return ctx.withChanges(async (s) => {
      const { keys } = await useSigningKeys(args.file, args.kid);
      const signing = keys.filter((k, i) => keys.findIndex((o) => o.alg === k.alg) === i);
      await auditKeyChanges(ctx, s, 'oidc.key_activated', args.file, keys.filter((k) => args.kid.includes(String(k.kid))), `${args.file} now signs with ${describeKeys(signing)}`);
      ctx.io.stdout.write(`${args.file}: signing with ${describeKeys(signing)}\n`);
      return 0;
    });
  },
};

/** `cardauth oidc keys drop`. */
export const oidcKeysDrop: Command = {
  path: ['oidc', 'keys', 'drop'],
  usage: '--file FILE --kid KID',
  summary: 'rotation step 3: remove an old key (never one that signs)',
  details: ROTATION,
  options: { file: { type: 'string' }, kid: { type: 'string' } },
  async run(ctx, raw) {
    const args = checkValues('oidc keys drop', z.object({ file: keyFileArg, kid: kidArg }), raw.values);
    return ctx.withChanges(async (s) => {
      const dropped = await dropSigningKey(args.file, args.kid);
      await auditKeyChanges(ctx, s, 'oidc.key_dropped', args.file, [dropped], `key ${args.kid} was removed from ${args.file}`);
      ctx.io.stdout.write(`${args.file}: removed ${args.kid}\n`);
      return 0;
    });
  },
};

export const oidcCommands: readonly Command[] = [oidcKeysInit, oidcKeysAdd, oidcKeysUse, oidcKeysDrop];
