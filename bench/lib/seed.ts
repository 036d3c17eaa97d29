import { exportJWK, generateKeyPair } from 'jose';
import type { StatementSigningKey } from '../../src/card-agent/sign-statement';
import type { ServerConfig } from '../../src/config';
import { cardauth } from './cardauth';
import type { Browser } from './http';

export const BENCH_PASSWORD = 'correct horse battery staple';

export interface BenchUser {
  login: string;
  uid: string;
}

export interface Seeded {
  agent: StatementSigningKey;
  users: BenchUser[];
  config: ServerConfig;
}

/** A 7-byte UID per index (never a 4-byte random ID). */
export const uidFor = (i: number) => `04B5${i.toString(16).toUpperCase().padStart(10, '0')}`;

/**
 * Writes what logins need straight into Redis through the real stores (from
 * dist): one approved Ed25519 agent, `count` active accounts, each with its
 * own card, all with one argon2id hash of BENCH_PASSWORD computed once (the
 * verify cost is the same for every account). Distinct accounts, cards and
 * successful logins only, so lockout never counts anything.
 */
export async function seed(opts: { redisUrl: string; origin: string; count: number; prefix: string }): Promise<Seeded> {
  const port = new URL(opts.origin).port;
  const config = cardauth.config.loadServerConfig({
    REDIS_URL: opts.redisUrl,
    CARDAUTH_PORT: port,
    CARDAUTH_PUBLIC_ORIGIN: opts.origin,
    CARDAUTH_SESSION_SECRET: 'seed-only-secret-0123456789abcdefghij',
  });
  const redis = cardauth.redis.connectRedis(opts.redisUrl, { info() {}, warn() {}, error() {} });
  try {
    if (!(await cardauth.redis.whenReady(redis, 5000))) throw new Error('seed: redis not ready');
    const services = cardauth.services.createServices({ redis, config, clock: { now: () => Date.now() } });
    const { publicKey, privateKey } = await generateKeyPair('EdDSA', { extractable: true });
    const agent = await services.agents.register({ name: 'РМ-bench', publicJwk: await exportJWK(publicKey), ip: '127.0.0.1' });
    await services.agents.approve(agent.id, 'os:bench');
    const passwordHash = await services.hasher.hash(BENCH_PASSWORD);
    const users: BenchUser[] = Array.from({ length: opts.count }, (_, i) => ({ login: `${opts.prefix}${i}`, uid: uidFor(i) }));
    for (let i = 0; i < users.length; i += 32) {
      await Promise.all(
        users.slice(i, i + 32).map(async (u) => {
          const acc = await services.accounts.create({ login: u.login, displayName: `Д-р ${u.login}`, roles: ['clinician'], passwordHash });
          await services.cards.bind({ uid: u.uid, accountId: acc.id, by: 'os:bench' });
        }),
      );
    }
    return { agent: { agentId: agent.id, alg: 'EdDSA', privateKey }, users, config };
  } finally {
    redis.disconnect();
  }
}

export interface LoginTimings {
  /** Wall time spent in signStatement (load generator side). */
  signMs: number;
}

const clock = { now: () => Date.now() };

/**
 * What a browser holds just before it submits a login: the pre-auth session
 * cookie that POST /auth/nonce set, and the card statement the agent signed
 * for that nonce. A statement lives 30 s and a nonce 120 s: prepare right
 * before use.
 */
export interface PreparedLogin {
  cookie: string;
  statement: string;
}

/**
 * The part of a login that is not the server's login work: POST /auth/nonce
 * as a fresh browser (keeps the cookie) and signStatement (the workstation
 * agent's job, on another machine in production).
 */
export async function prepareLogin(b: Browser, agent: StatementSigningKey, user: BenchUser, timings?: LoginTimings): Promise<PreparedLogin> {
  b.cookie = '';
  const { nonce } = await b.postJson<{ nonce: string }>('/auth/nonce', {});
  const t = performance.now();
  const statement = await cardauth.signStatement.signStatement(agent, { aud: b.origin, nonce, uid: user.uid, reader: 'Virtual PCD 00 00' }, clock);
  if (timings) timings.signMs += performance.now() - t;
  return { cookie: b.cookie, statement };
}

/**
 * Submits a prepared login: POST /auth/login (one shot) or POST /auth/card +
 * POST /auth/password. Throws unless every step is 200 and the session
 * names the user.
 */
export async function submitLogin(b: Browser, prepared: PreparedLogin, user: BenchUser, mode: 'one-shot' | 'two-step'): Promise<void> {
  b.cookie = prepared.cookie;
  const { statement } = prepared;
  let view: { login?: string };
  if (mode === 'one-shot') {
    view = await b.postJson('/auth/login', { statement, login: user.login, password: BENCH_PASSWORD });
  } else {
    await b.postJson('/auth/card', { statement });
    view = await b.postJson('/auth/password', { login: user.login, password: BENCH_PASSWORD });
  }
  if (view.login !== user.login) throw new Error(`login answered ${JSON.stringify(view).slice(0, 200)}`);
}

/**
 * One whole login as a fresh browser would do it: POST /auth/nonce →
 * signStatement (what the card agent does) → POST /auth/login (one shot) or
 * POST /auth/card + POST /auth/password.
 */
export async function login(b: Browser, agent: StatementSigningKey, user: BenchUser, mode: 'one-shot' | 'two-step', timings?: LoginTimings): Promise<void> {
  await submitLogin(b, await prepareLogin(b, agent, user, timings), user, mode);
}
