import { z } from 'zod';
import { writeSigningJwks } from '../oidc/keys';
import { checkValues } from './args';
import type { Command } from './command';

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
    const args = checkValues('oidc keys init', z.object({ out: z.string({ error: 'required' }).min(1, 'required') }), raw.values);
    const { keys } = await writeSigningJwks(args.out);
    ctx.io.stdout.write(`wrote ${args.out} (mode 0600): ${keys.map((k) => `${String(k.alg)} ${String(k.kid)}`).join(', ')}\n`);
    return 0;
  },
};
