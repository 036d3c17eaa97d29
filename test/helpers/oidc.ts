import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { exportJWK, generateKeyPair } from 'jose';
import { signStatement, type StatementSigningKey } from '../../src/card-agent/sign-statement';
import { loadServerConfig } from '../../src/config';
import { createClientStore, type ClientStore } from '../../src/oidc/clients';
import { writeSigningJwks } from '../../src/oidc/keys';
import { createServices, type Services } from '../../src/services';
import { TEST_SECRET } from './app';
import { freePort, startRedis, type TestRedis } from './redis';
import { startEmbeddedProcess, startServeProcess, type ServeProcess } from './serve';

/** A browser for the OpenID flows: keeps every cookie by name, sends Origin on writes, follows no redirect by itself. */
export class Browser {
  readonly cookies = new Map<string, string>();
  /** Every URL this browser was answered a page (a non-redirect) for, in order. */
  readonly pages: string[] = [];
  /** Every path `follow` fetched, redirects included, in order. */
  readonly trail: string[] = [];
  constructor(readonly origin: string) {}

  async fetch(url: string, init: { method?: string; body?: unknown; form?: Record<string, string>; headers?: Record<string, string> } = {}): Promise<Response> {
    const headers: Record<string, string> = { ...init.headers };
    if (this.cookies.size) headers.cookie = [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    if (init.method && init.method !== 'GET') {
      headers.origin = this.origin;
      headers['content-type'] = init.form ? 'application/x-www-form-urlencoded' : 'application/json';
    }
    const body = init.form ? new URLSearchParams(init.form).toString() : init.body === undefined ? undefined : JSON.stringify(init.body);
    const res = await fetch(new URL(url, this.origin), { method: init.method ?? 'GET', headers, body, redirect: 'manual' });
    for (const c of res.headers.getSetCookie()) {
      const [pair, ...attrs] = c.split(';');
      const eq = pair!.indexOf('=');
      const name = pair!.slice(0, eq).trim();
      const value = pair!.slice(eq + 1).trim();
      const gone = attrs.some((a) => /^\s*expires=thu, 01 jan 1970/i.test(a) || /^\s*max-age=0\s*$/i.test(a)) || value === '';
      if (gone) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
    return res;
  }

  /** Submits a page's form as the browser would: a same-origin POST of `fields`, form-encoded; follows no redirect. */
  submit(action: string, fields: Record<string, string>): Promise<Response> {
    return this.fetch(action, { method: 'POST', form: fields });
  }

  /**
   * Follows redirects from `url` until one leaves the provider's origin (answered as that URL) or a
   * page answers (answered as that Response). `login` runs when the trip reaches cardauth's login page.
   */
  async follow(url: string, login?: () => Promise<void>): Promise<{ callback?: string; page?: Response; pageUrl?: string }> {
    let at = url;
    for (let hops = 0; hops < 20; hops++) {
      const u = new URL(at, this.origin);
      if (u.origin !== this.origin) return { callback: u.href };
      this.trail.push(u.pathname);
      const res = await this.fetch(u.href);
      const location = res.headers.get('location');
      if (res.status >= 300 && res.status < 400 && location) {
        await res.arrayBuffer();
        at = new URL(location, u).href;
        continue;
      }
      if (u.pathname === '/login' && res.status === 200 && login) {
        // The login page was shown: log in as its script would, then go where it would.
        await res.arrayBuffer();
        this.pages.push(u.pathname + u.search);
        await login();
        login = undefined;
        at = u.searchParams.get('next') ?? '/home';
        continue;
      }
      this.pages.push(u.pathname + u.search);
      return { page: res, pageUrl: u.href };
    }
    throw new Error('too many redirects');
  }
}

/** The relying party: the real openid-client 6 in its own node process (test/helpers/oidc-rp.mjs). */
export interface Rp {
  call(request: Record<string, unknown>): Promise<any>;
  stop(): void;
}

export function startRp(): Rp {
  const proc = spawn(process.execPath, [join(__dirname, 'oidc-rp.mjs')], { stdio: ['pipe', 'pipe', 'inherit'] });
  const waiting: ((answer: unknown) => void)[] = [];
  createInterface({ input: proc.stdout! }).on('line', (line) => waiting.shift()?.(JSON.parse(line)));
  return {
    call(request) {
      return new Promise((resolve) => {
        waiting.push(resolve);
        proc.stdin!.write(`${JSON.stringify(request)}\n`);
      });
    },
    stop: () => void proc.kill(),
  };
}

/** Someone with a card and a password. */
export interface Who {
  login: string;
  password: string;
  uid: string;
}

/** An authorization that reached the client's callback: the RP's start, the callback URL, and the code's redemption. */
export interface SignIn {
  start: { url: string; verifier: string; state: string; nonce: string };
  callback: string;
  finish(): Promise<any>;
}

export interface OidcSetup {
  redis: TestRedis;
  server: ServeProcess;
  issuer: string;
  /** The environment `server` runs with (another node: the same with another CARDAUTH_PORT). */
  env: Record<string, string>;
  services: Services;
  clients: ClientStore;
  rp: Rp;
  /** The approved agent the logins' card statements come from, and its key (for its tap-outs). */
  agentId: string;
  agentKey: StatementSigningKey;
  /** Logs `browser` in through cardauth's own API (card statement + password). */
  login(browser: Browser, who: Who): Promise<void>;
  /**
   * Starts an authorization at the RP, drives the browser to the callback (logging in as `who`
   * if the login page is shown; without `who` it must not be), and answers how to redeem the code.
   */
  signIn(browser: Browser, rpClient: Record<string, unknown>, params?: Record<string, string>, who?: Who): Promise<SignIn>;
  close(): Promise<void>;
}

/**
 * For a test file: real Redis, `cardauth serve` from dist/ with the OpenID provider on (a fresh
 * JWKS file, mode 0600), the stores to seed, an approved agent at 127.0.0.1, and the RP process.
 * `host: 'embedded'` runs examples/express-mis instead: a host app with cardauth's router.
 * `movableClock`: the server runs with a clock the test moves (`server.advance`).
 */
export async function startOidcSetup(env: Record<string, string> = {}, opts: { host?: 'serve' | 'embedded'; movableClock?: boolean } = {}): Promise<OidcSetup> {
  const redis = await startRedis();
  const dir = mkdtempSync(join(tmpdir(), 'cardauth-oidc-'));
  const jwksFile = join(dir, 'jwks.json');
  await writeSigningJwks(jwksFile);
  const port = await freePort();
  const issuer = `http://127.0.0.1:${port}`;
  const fullEnv = { REDIS_URL: redis.url, CARDAUTH_PORT: String(port), CARDAUTH_PUBLIC_ORIGIN: issuer, CARDAUTH_SESSION_SECRET: TEST_SECRET, CARDAUTH_OIDC_JWKS_FILE: jwksFile, ...env };
  const client = redis.client();
  const services = createServices({ redis: client, config: loadServerConfig(fullEnv), clock: { now: () => Date.now() } });
  const { publicKey, privateKey } = await generateKeyPair('EdDSA', { extractable: true });
  const agent = await services.agents.register({ name: 'РМ-101', publicJwk: await exportJWK(publicKey), ip: '127.0.0.1' });
  await services.agents.approve(agent.id, 'os:test');
  const key: StatementSigningKey = { agentId: agent.id, alg: 'EdDSA', privateKey };
  const server = await (opts.host === 'embedded' ? startEmbeddedProcess(fullEnv) : startServeProcess(fullEnv, opts));
  const rp = startRp();
  const login = async (browser: Browser, who: Who) => {
    const nonce = ((await (await browser.fetch('/auth/nonce', { method: 'POST', body: {} })).json()) as { nonce: string }).nonce;
    const statement = await signStatement(key, { aud: issuer, nonce, uid: who.uid, reader: 'Virtual PCD 00 00' }, { now: () => Date.now() });
    const card = await browser.fetch('/auth/card', { method: 'POST', body: { statement } });
    if (card.status !== 200) throw new Error(`card step ${card.status}`);
    const pw = await browser.fetch('/auth/password', { method: 'POST', body: { login: who.login, password: who.password } });
    if (pw.status !== 200) throw new Error(`password step ${pw.status}`);
  };
  return {
    redis,
    server,
    issuer,
    env: fullEnv,
    services,
    clients: createClientStore({ redis: client }),
    rp,
    agentId: agent.id,
    agentKey: key,
    login,
    async signIn(browser, rpClient, params = {}, who) {
      const start = await rp.call({ op: 'start', ...rpClient, params });
      const trip = await browser.follow(start.url, who ? () => login(browser, who) : undefined);
      if (!trip.callback) throw new Error(`no callback; a page answered ${trip.page?.status} at ${trip.pageUrl}`);
      return { start, callback: trip.callback, finish: () => rp.call({ op: 'finish', ...rpClient, callbackUrl: trip.callback, verifier: start.verifier, state: start.state, nonce: start.nonce }) };
    },
    async close() {
      rp.stop();
      await server.stop();
      await redis.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
