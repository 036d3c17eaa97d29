import { z } from 'zod';
import { isLoopbackUri, type ClientView } from '../oidc/clients';
import { checkValues, flag, textArg } from './args';
import { auditChange, type Command } from './command';
import { isoTime, printList, type Column } from './output';

const idArg = z.string({ error: (iss) => (iss.input === undefined ? 'required' : undefined) }).regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, 'letters, digits, dot, dash and underscore, 1 to 64, starting with a letter or digit');

/** An absolute redirect URI without a fragment: https, http on a loopback host (a desktop app, RFC 8252), or an app's own scheme. */
const uriArg = z.string().refine((v) => {
  const u = URL.parse(v);
  if (!u || u.hash || v.length > 512) return false;
  if (u.protocol === 'https:') return true;
  if (u.protocol === 'http:') return isLoopbackUri(v);
  return /^[a-z][a-z0-9+.-]*\.[a-z0-9+.-]+:$/.test(u.protocol);
}, 'must be an absolute https URI without #, http://127.0.0.1… / http://[::1]… (a desktop app, any port), or an app scheme such as ru.clinic.mis:/cb');

const AddArgs = z.object({
  id: idArg,
  name: textArg('name', 128),
  'redirect-uri': z.array(uriArg, { error: (iss) => (iss.input === undefined ? 'required' : undefined) }).min(1, 'required'),
  'post-logout-redirect-uri': z.array(uriArg).optional(),
  'backchannel-logout-uri': uriArg.optional(),
  public: flag,
});

/** A client for the audit record: never its secret. */
const auditDetails = (c: ClientView) => ({ clientId: c.id, name: c.name, public: c.public, redirectUris: c.redirectUris.join(' ') });

/** `cardauth client add`. */
export const clientAdd: Command = {
  path: ['client', 'add'],
  usage: '--id ID --name NAME --redirect-uri URI [--redirect-uri URI …] [--post-logout-redirect-uri URI …] [--backchannel-logout-uri URI] [--public]',
  summary: 'register an application (an MIS) with the OpenID provider; a confidential one gets a secret, printed once',
  details: [
    '--id ID                       the client_id the application is configured with',
    '--name NAME                   shown to officers',
    '--redirect-uri URI            where the code goes back (exact match); http://127.0.0.1/… takes any port (RFC 8252)',
    '--post-logout-redirect-uri URI where a logout may send the browser',
    '--backchannel-logout-uri URI  where back-channel logout tokens are POSTed when a session ends or locks',
    '--public                      no secret (a desktop or browser app): PKCE S256 required',
    'A confidential client authenticates with client_secret_basic or client_secret_post. Its secret is printed alone on the last line, once:',
    'the provider compares it as sent, so it is kept in Redis as it is, and never shown again (rotate-secret makes a new one).',
  ].join('\n'),
  options: {
    id: { type: 'string' },
    name: { type: 'string' },
    'redirect-uri': { type: 'string', multiple: true },
    'post-logout-redirect-uri': { type: 'string', multiple: true },
    'backchannel-logout-uri': { type: 'string' },
    public: { type: 'boolean' },
  },
  async run(ctx, raw) {
    const args = checkValues('client add', AddArgs, raw.values);
    return ctx.withChanges(async (s) => {
      const { client, secret } = await s.clients.add(
        {
          id: args.id,
          name: args.name,
          redirectUris: args['redirect-uri'],
          public: args.public,
          ...(args['post-logout-redirect-uri'] ? { postLogoutRedirectUris: args['post-logout-redirect-uri'] } : {}),
          ...(args['backchannel-logout-uri'] ? { backchannelLogoutUri: args['backchannel-logout-uri'] } : {}),
        },
        ctx.clock.now(),
      );
      await auditChange(ctx, s, { type: 'oidc.client_added', outcome: 'success', details: auditDetails(client) }, `client ${client.id} was added`);
      ctx.io.stdout.write(`added ${client.public ? 'public' : 'confidential'} client ${client.id}\n`);
      if (secret) ctx.io.stdout.write(`client secret (shown once, keep it in the application's configuration):\n${secret}\n`);
      return 0;
    });
  },
};

const COLUMNS: Column<ClientView>[] = [
  { heading: 'ID', cell: (c) => c.id },
  { heading: 'NAME', cell: (c) => c.name },
  { heading: 'TYPE', cell: (c) => (c.public ? 'public' : 'confidential') },
  { heading: 'REDIRECT URIS', cell: (c) => c.redirectUris.join(' ') },
  { heading: 'ADDED', cell: (c) => isoTime(c.createdAt) },
];

/** `cardauth client list`. */
export const clientList: Command = {
  path: ['client', 'list'],
  usage: '[--json]',
  summary: 'list the applications registered with the OpenID provider (never their secrets)',
  options: { json: { type: 'boolean' } },
  async run(ctx, raw) {
    const args = checkValues('client list', z.object({ json: flag }), raw.values);
    return ctx.withServices(async (s) => {
      printList(ctx.io.stdout, await s.clients.list(), COLUMNS, { json: args.json, empty: 'no clients' });
      return 0;
    });
  },
};

/** `cardauth client remove`. */
export const clientRemove: Command = {
  path: ['client', 'remove'],
  usage: '--id ID',
  summary: 'remove an application; the provider stops knowing it at once (its codes and tokens stop working)',
  options: { id: { type: 'string' } },
  async run(ctx, raw) {
    const args = checkValues('client remove', z.object({ id: idArg }), raw.values);
    return ctx.withChanges(async (s) => {
      const client = await s.clients.remove(args.id);
      await auditChange(ctx, s, { type: 'oidc.client_removed', outcome: 'success', details: auditDetails(client) }, `client ${client.id} was removed`);
      ctx.io.stdout.write(`removed client ${client.id}\n`);
      return 0;
    });
  },
};

/** `cardauth client rotate-secret`. */
export const clientRotateSecret: Command = {
  path: ['client', 'rotate-secret'],
  usage: '--id ID',
  summary: "replace a confidential application's secret (the old one stops working at once); the new one is printed once",
  options: { id: { type: 'string' } },
  async run(ctx, raw) {
    const args = checkValues('client rotate-secret', z.object({ id: idArg }), raw.values);
    return ctx.withChanges(async (s) => {
      const { client, secret } = await s.clients.rotateSecret(args.id);
      await auditChange(ctx, s, { type: 'oidc.client_secret_rotated', outcome: 'success', details: auditDetails(client) }, `the secret of client ${client.id} was replaced`);
      ctx.io.stdout.write(`new client secret of ${client.id} (shown once; the old one no longer works):\n${secret}\n`);
      return 0;
    });
  },
};

export const clientCommands: readonly Command[] = [clientAdd, clientList, clientRemove, clientRotateSecret];
