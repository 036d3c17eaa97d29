import type { JWK } from 'jose';
import { z } from 'zod';
import { CardauthError } from '../errors';

const EnrollAnswer = z.object({ id: z.string().regex(/^ag_[0-9a-f]{16}$/), fingerprint: z.string(), status: z.string() });
const StatusAnswer = z.object({ status: z.enum(['pending', 'approved', 'suspended', 'revoked']) });
const ErrorAnswer = z.object({ error: z.object({ code: z.string(), message: z.string() }) });

/**
 * The agent's calls to the cardauth server: enrollment, its approval status,
 * and tap-out events. Each call has a timeout; a server that is down or
 * answers nonsense is `unavailable`, a refusal carries the server's code.
 *
 * @example
 * const server = createServerClient('https://mis.example.ru');
 * const { id } = await server.enroll('Регистратура-1', identity.publicJwk);
 */
export function createServerClient(serverUrl: string, timeoutMs = 5000) {
  const call = async <T>(method: string, path: string, schema: z.ZodType<T>, body?: unknown): Promise<T> => {
    let res: Response;
    try {
      res = await fetch(new URL(path, serverUrl), {
        method,
        headers: body === undefined ? {} : { 'content-type': 'application/json' },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (err) {
      throw new CardauthError('unavailable', `server ${serverUrl} unreachable`, { cause: err });
    }
    const json: unknown = await res.json().catch(() => undefined);
    if (!res.ok) {
      const e = ErrorAnswer.safeParse(json);
      if (res.status >= 500 || !e.success) throw new CardauthError('unavailable', `server answered ${res.status}`);
      const code = res.status === 429 ? 'rate_limited' : res.status === 409 ? 'agent_state' : res.status === 401 ? 'card_rejected' : 'bad_request';
      const theirs = e.data.error.code === code ? '' : ` (${e.data.error.code})`;
      throw new CardauthError(code, `the server refused${theirs}: ${e.data.error.message}`);
    }
    const parsed = schema.safeParse(json);
    if (!parsed.success) throw new CardauthError('unavailable', 'server answered something unexpected');
    return parsed.data;
  };
  return {
    enroll: (name: string, publicJwk: JWK) => call('POST', '/agents/enroll', EnrollAnswer, { name, publicJwk }),
    status: async (agentId: string) => (await call('GET', `/agents/${agentId}/status`, StatusAnswer)).status,
    sendEvent: (statement: string) => call('POST', '/agents/events', z.object({ locked: z.number() }), { statement }),
  };
}

export type ServerClient = ReturnType<typeof createServerClient>;
