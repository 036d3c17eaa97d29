import { randomBytes } from 'node:crypto';
import type Redis from 'ioredis';
import type { AdapterPayload } from 'oidc-provider';
import { CardauthError } from '../errors';
import { createRedisAdapter } from './redis-adapter';

/** The set of registered client ids. */
const INDEX = 'oidc:clients';

const LOOPBACKS = new Set(['127.0.0.1', '[::1]', 'localhost']);

/** An http URI on a loopback host: a desktop app's redirect (RFC 8252 §7.3), any port. */
export const isLoopbackUri = (uri: string) => {
  const u = URL.parse(uri);
  return u?.protocol === 'http:' && LOOPBACKS.has(u.hostname);
};

/** A registered relying party, as `client list` shows it (never its secret). */
export interface ClientView {
  id: string;
  name: string;
  public: boolean;
  redirectUris: string[];
  postLogoutRedirectUris: string[];
  backchannelLogoutUri: string | null;
  createdAt: number;
}

export interface NewClient {
  id: string;
  name: string;
  redirectUris: string[];
  postLogoutRedirectUris?: string[];
  backchannelLogoutUri?: string;
  public: boolean;
}

/** A fresh client secret: 32 random bytes, base64url. */
const newSecret = () => randomBytes(32).toString('base64url');

const view = (id: string, m: AdapterPayload): ClientView => ({
  id,
  name: String(m.client_name ?? ''),
  public: m.token_endpoint_auth_method === 'none',
  redirectUris: (m.redirect_uris as string[]) ?? [],
  postLogoutRedirectUris: (m.post_logout_redirect_uris as string[]) ?? [],
  backchannelLogoutUri: (m.backchannel_logout_uri as string | undefined) ?? null,
  createdAt: Number(m['urn:cardauth:created_at'] ?? 0),
});

/**
 * The relying parties (the MIS apps) registered with the OpenID provider, kept in Redis as
 * oidc-provider's `Client` model (`oidc:Client:<id>`, through the same adapter), so every
 * node's provider finds them. A confidential client authenticates with `client_secret_basic`
 * (registered so) or `client_secret_post` (the provider takes either for such a client);
 * the provider compares the secret as sent, so the secret is stored as it is (in Redis, never
 * in the audit or the logs) and shown once, when it is made. A public client (`--public`: a
 * desktop or single-page app) has no secret and must use PKCE; one whose redirect URIs are all
 * loopback is a native app, and any port of them is accepted (RFC 8252 §7.3).
 *
 * @example
 * const { secret } = await clients.add({ id: 'mis', name: 'МИС', redirectUris: ['https://mis.example.ru/cb'], public: false }, clock.now());
 */
export function createClientStore(deps: { redis: Redis }) {
  const adapter = createRedisAdapter(deps.redis)('Client');
  const find = async (id: string) => (await adapter.find(id)) ?? undefined;
  const mustFind = async (id: string) => {
    const m = await find(id);
    if (!m) throw new CardauthError('client_not_found', `no client ${id}`);
    return m;
  };
  return {
    /** Registers a client; answers its secret (confidential clients only). Refuses an id that exists. */
    async add(c: NewClient, now: number): Promise<{ client: ClientView; secret?: string }> {
      if ((await deps.redis.sadd(INDEX, c.id)) === 0) throw new CardauthError('client_exists', `client ${c.id} exists already`);
      const secret = c.public ? undefined : newSecret();
      const metadata: AdapterPayload = {
        client_id: c.id,
        client_name: c.name,
        redirect_uris: c.redirectUris,
        post_logout_redirect_uris: c.postLogoutRedirectUris ?? [],
        ...(c.backchannelLogoutUri ? { backchannel_logout_uri: c.backchannelLogoutUri, backchannel_logout_session_required: true } : {}),
        application_type: c.redirectUris.every(isLoopbackUri) ? 'native' : 'web',
        grant_types: ['authorization_code', 'refresh_token'],
        response_types: ['code'],
        token_endpoint_auth_method: secret ? 'client_secret_basic' : 'none',
        ...(secret ? { client_secret: secret } : {}),
        'urn:cardauth:created_at': now,
      };
      try {
        await adapter.upsert(c.id, metadata);
      } catch (err) {
        await deps.redis.srem(INDEX, c.id);
        throw err;
      }
      return { client: view(c.id, metadata), ...(secret ? { secret } : {}) };
    },
    async get(id: string): Promise<ClientView | undefined> {
      const m = await find(id);
      return m && view(id, m);
    },
    async list(): Promise<ClientView[]> {
      const ids = (await deps.redis.smembers(INDEX)).sort();
      const out: ClientView[] = [];
      for (const id of ids) {
        const m = await find(id);
        if (m) out.push(view(id, m));
      }
      return out;
    },
    /** Removes a client; its codes and tokens stop working (the provider no longer finds it). */
    async remove(id: string): Promise<ClientView> {
      const m = await mustFind(id);
      await adapter.destroy(id);
      await deps.redis.srem(INDEX, id);
      return view(id, m);
    },
    /** Replaces a confidential client's secret; the old one stops working at once. */
    async rotateSecret(id: string): Promise<{ client: ClientView; secret: string }> {
      const m = await mustFind(id);
      if (m.token_endpoint_auth_method === 'none') throw new CardauthError('bad_request', `client ${id} is public and has no secret`);
      const secret = newSecret();
      await adapter.upsert(id, { ...m, client_secret: secret });
      return { client: view(id, m), secret };
    },
  };
}

export type ClientStore = ReturnType<typeof createClientStore>;
