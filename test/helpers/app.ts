import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { exportJWK, generateKeyPair } from 'jose';
import type Redis from 'ioredis';
import type { Express } from 'express';
import { createApp } from '../../src/app';
import type { Clock } from '../../src/clock';
import { loadServerConfig, type ServerConfig } from '../../src/config';
import { silentLogger } from '../../src/logger';
import { connectRedis } from '../../src/redis';
import { createServices, type Services } from '../../src/services';
import { signStatement, type StatementSigningKey } from '../../src/card-agent/sign-statement';
import { freePort, startRedis, type TestRedis } from './redis';
import { MANY_SESSIONS } from './serve';

/** A clock tests move by hand. */
export function manualClock(start = Date.now()): Clock & { advance(ms: number): void; set(ms: number): void } {
  let t = start;
  return { now: () => t, advance: (ms) => void (t += ms), set: (ms) => void (t = ms) };
}

export const TEST_SECRET = 'test-session-secret-0123456789abcdef';

/** What a TestClient request answers: the status, the body as text and as JSON (if it is), the headers. */
export interface TestResponse {
  status: number;
  json: any;
  text: string;
  headers: Headers;
}

/** A browser-like client: keeps the session cookie, sends Origin (and `headers` on every request). */
export class TestClient {
  cookie = '';
  constructor(
    readonly base: string,
    public origin: string | null = base,
    readonly headers: Readonly<Record<string, string>> = {},
  ) {}

  async request(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<TestResponse> {
    const h: Record<string, string> = { ...this.headers, ...headers };
    if (this.cookie) h.cookie = this.cookie;
    if (this.origin !== null && !('origin' in h)) h.origin = this.origin;
    let payload: string | undefined;
    if (body !== undefined) {
      payload = typeof body === 'string' ? body : JSON.stringify(body);
      h['content-type'] ??= 'application/json';
    }
    const res = await fetch(this.base + path, { method, headers: h, body: payload, redirect: 'manual' });
    const set = res.headers.getSetCookie().find((c) => c.startsWith('cardauth.sid='));
    if (set) this.cookie = set.split(';')[0]!;
    const text = await res.text();
    let json: any;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = undefined;
    }
    return { status: res.status, json, text, headers: res.headers };
  }
  post(path: string, body?: unknown, headers?: Record<string, string>): Promise<TestResponse> {
    return this.request('POST', path, body ?? {}, headers);
  }
  get(path: string, headers?: Record<string, string>): Promise<TestResponse> {
    return this.request('GET', path, undefined, headers);
  }
}

/**
 * The session id in a client's signed session cookie (`name=s%3A<id>.<signature>`): a test may
 * know it; an officer's list shows only its hash.
 */
export function sessionIdOf(c: { cookie: string }): string {
  const value = decodeURIComponent(c.cookie.slice(c.cookie.indexOf('=') + 1));
  return value.slice(2, value.lastIndexOf('.'));
}

export interface TestAgent {
  id: string;
  key: StatementSigningKey;
}

export interface TestServer {
  url: string;
  config: ServerConfig;
  services: Services;
  redis: Redis;
  clock: Clock;
  /** A client that sends the configured public origin as Origin, and `headers` on every request. */
  client(headers?: Record<string, string>): TestClient;
  /** Registers (and by default approves) a workstation agent with a fresh Ed25519 or P-256 key, seen at 127.0.0.1. */
  agent(opts?: { approve?: boolean; alg?: 'EdDSA' | 'ES256'; name?: string }): Promise<TestAgent>;
  /** Creates an account with a password and binds the given card. */
  account(login: string, password: string, uid?: string, roles?: string[]): Promise<{ id: string }>;
  /** Gets a nonce for the client's session and signs a statement for it. */
  statementFor(client: TestClient, agent: TestAgent, uid: string, claims?: { aud?: string; lifetimeSec?: number; nonce?: string; desk?: boolean }, clock?: Clock): Promise<string>;
  /** Full login; returns the response of the password step. */
  login(client: TestClient, agent: TestAgent, uid: string, login: string, password: string): ReturnType<TestClient['post']>;
  close(): Promise<void>;
}

/**
 * Runs the real app (real Redis, real stores, real argon2) on a free loopback
 * port, with a config built through the real config loader. `app` builds
 * another app instead of createApp's (e.g. a host app embedding cardauth).
 */
export async function startTestServer(redis: TestRedis, opts: { env?: Record<string, string>; clock?: Clock; app?: (deps: { config: ServerConfig; redis: Redis; clock: Clock; services: Services }) => Express } = {}): Promise<TestServer> {
  const port = await freePort();
  const origin = `http://127.0.0.1:${port}`;
  const config = loadServerConfig({
    REDIS_URL: redis.url,
    CARDAUTH_PORT: String(port),
    CARDAUTH_PUBLIC_ORIGIN: origin,
    CARDAUTH_SESSION_SECRET: TEST_SECRET,
    CARDAUTH_SESSION_LIMITS: MANY_SESSIONS,
    ...opts.env,
  });
  const clock = opts.clock ?? { now: () => Date.now() };
  const client = connectRedis(redis.url, silentLogger);
  await new Promise<void>((resolve) => (client.status === 'ready' ? resolve() : client.once('ready', () => resolve())));
  const services = createServices({ redis: client, config, clock });
  const app = opts.app ? opts.app({ config, redis: client, clock, services }) : createApp({ config, redis: client, clock, logger: silentLogger, ...services });
  const server: Server = await new Promise((resolve) => {
    const s = app.listen(port, '127.0.0.1', () => resolve(s));
  });
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const ts: TestServer = {
    url,
    config,
    services,
    redis: client,
    clock,
    client: (headers) => new TestClient(url, config.CARDAUTH_PUBLIC_ORIGIN, headers),
    async agent(o = {}) {
      const alg = o.alg ?? 'EdDSA';
      const { publicKey, privateKey } = await generateKeyPair(alg, { extractable: true });
      // Seen at 127.0.0.1, where the test clients present its statements from (as an enrollment over HTTP records).
      const agent = await services.agents.register({ name: o.name ?? 'РМ-101', publicJwk: await exportJWK(publicKey), ip: '127.0.0.1' });
      if (o.approve !== false) await services.agents.approve(agent.id, 'os:test');
      return { id: agent.id, key: { agentId: agent.id, alg, privateKey } };
    },
    async account(login, password, uid, roles = ['clinician']) {
      const acc = await services.accounts.create({ login, displayName: `Д-р ${login}`, roles: roles as never, passwordHash: await services.hasher.hash(password) });
      if (uid) await services.cards.bind({ uid, accountId: acc.id, by: 'os:test' });
      return { id: acc.id };
    },
    async statementFor(c, agent, uid, claims = {}, signClock = clock) {
      const nonce = claims.nonce ?? (await c.post('/auth/nonce')).json.nonce;
      return signStatement(agent.key, { aud: claims.aud ?? config.CARDAUTH_PUBLIC_ORIGIN, nonce, uid, reader: 'Virtual PCD 00 00', ...(claims.lifetimeSec ? { lifetimeSec: claims.lifetimeSec } : {}), ...(claims.desk ? { desk: true } : {}) }, signClock);
    },
    async login(c, agent, uid, login, password) {
      const statement = await ts.statementFor(c, agent, uid);
      const card = await c.post('/auth/card', { statement });
      if (card.status !== 200) return card;
      return c.post('/auth/password', { login, password });
    },
    async close() {
      await new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      });
      client.disconnect();
    },
  };
  return ts;
}

/**
 * In the enclosing describe: a real Redis and a test server of their own,
 * started before its tests (with `opts`, and an approved agent) and stopped
 * after them. `ready` gets them once they run, to keep and to seed (and the
 * Redis, for a test that stops it).
 *
 * @example
 * let srv: TestServer;
 * let agent: TestAgent;
 * suiteServer({ env: { CARDAUTH_IP_ATTEMPTS: '3' } }, async (s, a) => {
 *   [srv, agent] = [s, a];
 *   await srv.account('ivanova', PASSWORD, UID);
 * });
 */
export function suiteServer(opts: Parameters<typeof startTestServer>[1], ready: (srv: TestServer, agent: TestAgent, redis: TestRedis) => Promise<void> | void): void {
  let redis: TestRedis | undefined;
  let srv: TestServer | undefined;
  beforeAll(async () => {
    redis = await startRedis();
    srv = await startTestServer(redis, opts);
    await ready(srv, await srv.agent(), redis);
  });
  afterAll(async () => {
    await srv?.close();
    await redis?.stop();
  });
}


/** A person a suite logs in as: login, card UID, roles. */
export type Person = [login: string, uid: string, roles: string[]];

/**
 * suiteServer with `people` to log in as: each one's account (its card and password) is created
 * before `ready` runs. Returns their account ids by login (filled once the suite starts), the
 * password of a login, the card UID of a person, and `logIn`: a fresh card + password login of
 * `login` in `c` (a new client by default), expecting 200.
 *
 * @example
 * let srv: TestServer;
 * let agent: TestAgent;
 * const { ids, logIn } = suitePeople([['security', '04E2E2E2E2E2E2', ['security_officer']]], { env: { CARDAUTH_IP_ATTEMPTS: '1000' } }, (s, a) => {
 *   [srv, agent] = [s, a];
 * });
 */
export function suitePeople(
  people: readonly Person[],
  opts: Parameters<typeof suiteServer>[0],
  ready?: Parameters<typeof suiteServer>[1],
): { ids: Record<string, string>; password: (login: string) => string; uidOf: (login: string) => string; logIn: (login: string, c?: TestClient) => Promise<TestClient> } {
  const ids: Record<string, string> = {};
  const password = (login: string) => `Пароль-${login}-2026!`;
  const uidOf = (login: string) => {
    const person = people.find(([l]) => l === login);
    if (!person) throw new Error(`no such person in the suite: ${login}`);
    return person[1];
  };
  let srv: TestServer;
  let agent: TestAgent;
  suiteServer(opts, async (s, a, redis) => {
    [srv, agent] = [s, a];
    for (const [login, uid, roles] of people) ids[login] = (await srv.account(login, password(login), uid, roles)).id;
    await ready?.(s, a, redis);
  });
  const logIn = async (login: string, c: TestClient = srv.client()): Promise<TestClient> => {
    expect((await srv.login(c, agent, uidOf(login), login, password(login))).status).toBe(200);
    return c;
  };
  return { ids, password, uidOf, logIn };
}
