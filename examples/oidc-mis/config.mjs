// @ts-check
// The MIS's configuration: read once from the environment and checked with zod.
import { z } from 'zod';

const LOOPBACKS = new Set(['127.0.0.1', '[::1]', 'localhost']);

/** An origin (scheme://host[:port], nothing after it): https, or http on a loopback host. */
const origin = z
  .string({ error: (iss) => (iss.input === undefined ? 'required' : undefined) })
  .refine((v) => {
    const u = URL.parse(v);
    return !!u && u.origin === v.replace(/\/$/, '') && (u.protocol === 'https:' || (u.protocol === 'http:' && LOOPBACKS.has(u.hostname)));
  }, 'must be an origin such as https://auth.clinic.example (http only on 127.0.0.1, [::1] or localhost), without a path')
  .transform((v) => v.replace(/\/$/, ''));

/**
 * An unset or empty variable is absent.
 * @template {z.ZodType} T
 * @param {T} schema
 */
const optional = (schema) => z.preprocess((v) => (v === '' ? undefined : v), schema);

const Env = z.object({
  MIS_CARDAUTH_ORIGIN: origin,
  MIS_CLIENT_ID: z.string({ error: 'required' }).min(1, 'required'),
  MIS_CLIENT_SECRET: optional(z.string().min(32, 'a client secret from `cardauth client add` (43 characters); unset for a public client').optional()),
  MIS_PORT: optional(z.coerce.number({ error: 'a port number, 1 to 65535' }).int('a port number, 1 to 65535').min(1, 'a port number, 1 to 65535').max(65535, 'a port number, 1 to 65535').default(3001)),
  MIS_PUBLIC_ORIGIN: optional(origin.optional()),
});

/**
 * @typedef {object} MisConfig
 * @property {string} issuer cardauth's origin (its OpenID issuer)
 * @property {string} clientId
 * @property {string | undefined} clientSecret absent: a public client (PKCE only)
 * @property {number} port the port the MIS listens on, on 127.0.0.1
 * @property {string} publicOrigin the origin browsers open the MIS at
 */

/** What the MIS prints, one line per bad key, before it exits 2. */
export class MisConfigError extends Error {}

/**
 * Reads the configuration from `env`. Throws a MisConfigError naming every bad key.
 *
 * @param {Record<string, string | undefined>} env
 * @returns {MisConfig}
 */
export function loadConfig(env) {
  const parsed = Env.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`);
    throw new MisConfigError(`oidc-mis: bad configuration (see examples/oidc-mis/README.md):\n${lines.join('\n')}`);
  }
  const e = parsed.data;
  return {
    issuer: e.MIS_CARDAUTH_ORIGIN,
    clientId: e.MIS_CLIENT_ID,
    clientSecret: e.MIS_CLIENT_SECRET,
    port: e.MIS_PORT,
    publicOrigin: e.MIS_PUBLIC_ORIGIN ?? `http://127.0.0.1:${e.MIS_PORT}`,
  };
}
