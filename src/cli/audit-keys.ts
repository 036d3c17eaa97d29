import { z } from 'zod';
import { createCheckpointWriter } from '../audit/checkpoint';
import { activateAuditKey, addAuditKey, publicAuditJwks, readAuditKeys, writeAuditKeys } from '../audit/keys';
import { CardauthError } from '../errors';
import { explain } from '../logger';
import { writeWhole } from '../write-whole';
import { checkValues, UsageError } from './args';
import type { Command } from './command';
import { auditKeyChanges, keyFileArg, kidArg } from './key-changes';

const ROTATION = [
  'Rotation, one step at a time; after each, copy the file to every node and restart them one by one:',
  '  1. audit keys add --file FILE                 a new key, not signing yet',
  '  2. audit keys activate --file FILE --kid K    (once every node has it) the new key signs; the old ones still verify',
  '  3. audit keys export --file FILE --out PUB    the public keys, for `audit verify --keys PUB` offline',
  'Keep every old key in the file (and in the exports): the checkpoints it signed need it.',
].join('\n');

/** `cardauth audit keys init`. */
export const auditKeysInit: Command = {
  path: ['audit', 'keys', 'init'],
  usage: '--out FILE',
  summary: "make the audit checkpoints' signing key (Ed25519) in a new file, mode 0600",
  details: [
    '--out FILE    the file to make; an existing file is never overwritten',
    'Give the file to every node as CARDAUTH_AUDIT_KEYS_FILE (owner-readable only). It holds a private key: only its key id is printed.',
  ].join('\n'),
  options: { out: { type: 'string' } },
  async run(ctx, raw) {
    const args = checkValues('audit keys init', z.object({ out: keyFileArg }), raw.values);
    return ctx.withChanges(async (s) => {
      const { keys } = await writeAuditKeys(args.out);
      await auditKeyChanges(ctx, s, 'audit.key_added', args.out, keys, `${args.out} was written`);
      ctx.io.stdout.write(`wrote ${args.out} (mode 0600): signing key ${String(keys[0]?.kid)}\n`);
      return 0;
    });
  },
};

/** `cardauth audit keys add`. */
export const auditKeysAdd: Command = {
  path: ['audit', 'keys', 'add'],
  usage: '--file FILE',
  summary: 'rotation step 1: add a new key to the audit key file (it does not sign yet)',
  details: ROTATION,
  options: { file: { type: 'string' } },
  async run(ctx, raw) {
    const args = checkValues('audit keys add', z.object({ file: keyFileArg }), raw.values);
    return ctx.withChanges(async (s) => {
      const added = await addAuditKey(args.file);
      await auditKeyChanges(ctx, s, 'audit.key_added', args.file, [added], `key ${String(added.kid)} was added to ${args.file}`);
      ctx.io.stdout.write(`added to ${args.file}: ${String(added.kid)}; it signs once \`audit keys activate\` names it\n`);
      return 0;
    });
  },
};

/** `cardauth audit keys activate`. */
export const auditKeysActivate: Command = {
  path: ['audit', 'keys', 'activate'],
  usage: '--file FILE --kid KID',
  summary: 'rotation step 2: this key signs the checkpoints from now on (the others still verify)',
  details: ROTATION,
  options: { file: { type: 'string' }, kid: { type: 'string' } },
  async run(ctx, raw) {
    const args = checkValues('audit keys activate', z.object({ file: keyFileArg, kid: kidArg }), raw.values);
    return ctx.withChanges(async (s) => {
      const key = await activateAuditKey(args.file, args.kid);
      await auditKeyChanges(ctx, s, 'audit.key_activated', args.file, [key], `${args.file} now signs with ${args.kid}`);
      ctx.io.stdout.write(`${args.file}: signing with ${args.kid}\n`);
      return 0;
    });
  },
};

/** `cardauth audit keys export`. */
export const auditKeysExport: Command = {
  path: ['audit', 'keys', 'export'],
  usage: '--file FILE --out PUBLIC',
  summary: 'write the public keys of the audit key file (a JWKS) for offline verification',
  details: [
    '--out PUBLIC  a new file (never overwritten), mode 644: the public JWKS, no private key',
    'Check checkpoints with it anywhere: cardauth audit verify --keys PUBLIC.',
  ].join('\n'),
  options: { file: { type: 'string' }, out: { type: 'string' } },
  async run(ctx, raw) {
    const args = checkValues('audit keys export', z.object({ file: keyFileArg, out: keyFileArg }), raw.values);
    const jwks = publicAuditJwks(readAuditKeys(args.file));
    let written: boolean;
    try {
      written = writeWhole(args.out, `${JSON.stringify(jwks, null, 2)}\n`, { mode: 0o644, exclusive: true });
    } catch (err) {
      throw new UsageError(`audit keys export: --out: cannot write ${args.out} (${explain(err)})`);
    }
    if (!written) throw new UsageError(`audit keys export: --out: ${args.out} already exists; name a new file (nothing is overwritten)`);
    ctx.io.stdout.write(`wrote ${args.out}: ${jwks.keys.length} public key${jwks.keys.length === 1 ? '' : 's'} (${jwks.keys.map((k) => String(k.kid)).join(', ')})\n`);
    return 0;
  },
};

/** `cardauth audit checkpoint`. */
export const auditCheckpoint: Command = {
  path: ['audit', 'checkpoint'],
  usage: '',
  summary: "sign a checkpoint of the audit chain's head now (the server signs them every CARDAUTH_AUDIT_CHECKPOINT_RECORDS records or _SEC seconds)",
  details: 'Needs CARDAUTH_AUDIT_KEYS_FILE. Signs {seq, headHash, time} of the head with its first key into audit:checkpoints.',
  options: {},
  async run(ctx) {
    return ctx.withServices(async (s) => {
      if (!s.auditKeysFile) throw new CardauthError('config_invalid', 'CARDAUTH_AUDIT_KEYS_FILE is empty: no key to sign checkpoints with (cardauth audit keys init --out FILE)');
      const written = await createCheckpointWriter({ redis: s.redis, clock: ctx.clock, keys: readAuditKeys(s.auditKeysFile).keys }).write();
      ctx.io.stdout.write(written ? `checkpoint signed: seq ${written.seq}, hash ${written.headHash}, key ${written.kid}\n` : 'the audit log is empty: nothing to sign\n');
      return 0;
    });
  },
};

export const auditKeysCommands: readonly Command[] = [auditCheckpoint, auditKeysInit, auditKeysAdd, auditKeysActivate, auditKeysExport];
