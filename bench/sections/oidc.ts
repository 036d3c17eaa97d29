import { writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage } from 'node:http';
import { join } from 'node:path';
import { forkChild, profileChild } from '../lib/children';
import { cardauth } from '../lib/cardauth';
import { Browser, HttpTarget } from '../lib/http';
import { runFor, type LoadResult } from '../lib/load';
import { profileOwners, summariseProfile, type CpuProfile, type Owner } from '../lib/profile';
import { authorizationRequest, codeOf, redeemCode, registerClient, signingKeysFile, silentSso, type BenchClient } from '../lib/oidc';
import { cpuMeter, procCpu, type CpuReport } from '../lib/proc';
import { describeCommands, freePort, monitorCommands, startRedis, type BenchRedis, type SeenCommand } from '../lib/redis';
import { BENCH_PASSWORD, login, prepareLogin, seed, submitLogin, type BenchUser, type PreparedLogin, type Seeded } from '../lib/seed';
import { abba, fmt, median, percentile, sleep } from '../lib/stats';
import type { BenchContext, Row, Section } from '../lib/types';
import type { CardauthServerOptions } from '../servers/cardauth';
import { ARGON2_PARAMS } from './argon2-libs';
import { cpuLine, nonArgon2Ms, per, withCeiling } from './login-throughput';

/** Issue 9: a whole OIDC login's CPU besides argon2 (server JS thread + Redis). */
const OIDC_LOGIN_BUDGET_MS = 5;
/** Issue 9: tap-out → the client has its logout token, p95. */
const TAPOUT_P95_MS = 500;
const CLIENTS = 16;
const TAPOUTS = 40;

type Measured = { load: LoadResult; cpu: CpuReport };

/** With CARDAUTH_BENCH_PROFILES=<dir>, the raw V8 profile is kept there too (`<name>.cpuprofile`, for DevTools). */
function keepProfile(name: string, profile: CpuProfile): void {
  const dir = process.env.CARDAUTH_BENCH_PROFILES;
  if (dir) writeFileSync(join(dir, `${name}.cpuprofile`), JSON.stringify(profile));
}

/**
 * A whole OIDC login as a browser and its MIS make it, from a fresh browser whose cardauth
 * pre-auth session and card statement were made before the window: GET /oidc/auth → redirects
 * to cardauth's login page (its HTML not fetched) → POST /auth/card → POST /auth/password →
 * back to the interaction → redirects → the code → POST /oidc/token.
 */
async function oidcLogin(b: Browser, target: HttpTarget, client: BenchClient, prepared: PreparedLogin, user: BenchUser): Promise<void> {
  b.clearCookies();
  b.cookie = prepared.cookie;
  const { path, verifier } = authorizationRequest(client);
  const loginPage = await b.follow(path, (u) => u.pathname === '/login');
  const next = loginPage.pathname === '/login' ? loginPage.searchParams.get('next') : null;
  if (!next) throw new Error(`the authorization request did not reach the login page: ${loginPage.href.slice(0, 200)}`);
  await submitLogin(b, prepared, user, 'two-step');
  await redeemCode(target, client, codeOf(await b.follow(next), client), verifier);
}

/** A request's step name: method and path with ids left out, numbered when a flow makes it again. */
const stepName = (method: string, path: string) =>
  `${method} ${path.split('?')[0]!.replace(/^(\/oidc\/(?:auth|interaction))\/[^/]+$/, '$1/:uid')}`;

/**
 * Where a flow's CPU goes, request by request: `flow` runs once under MONITOR (the Redis
 * commands each request sends), then `n` times, one request in flight at a time, each request
 * of `target` charged the server's JS-thread CPU and redis-server's CPU from its start to its
 * answer (/proc schedstat). Lines "GET /oidc/auth  0.85 + 0.05 ms  3: GET session; …".
 */
async function cpuByStep(n: number, target: HttpTarget, redis: BenchRedis, server: number, roundTripMs: number, flow: () => Promise<void>): Promise<string[]> {
  const steps = new Map<string, { server: number; redis: number; commands: string[] }>();
  let made = new Map<string, number>();
  let before: (name: string) => Promise<void> = async () => undefined;
  const redisCpu = () => {
    const c = procCpu(redis.pid);
    return c.main + c.other;
  };
  const original = target.request.bind(target);
  target.request = async (method, path, headers, body) => {
    const base = stepName(method, path);
    const nth = (made.get(base) ?? 0) + 1;
    made.set(base, nth);
    const name = nth > 1 ? `${base} (#${nth})` : base;
    await before(name);
    const s0 = procCpu(server).main;
    const r0 = redisCpu();
    const res = await original(method, path, headers, body);
    const step = steps.get(name) ?? { server: 0, redis: 0, commands: [] };
    step.server += procCpu(server).main - s0;
    step.redis += redisCpu() - r0;
    steps.set(name, step);
    return res;
  };
  try {
    // Each request's commands: a marker (ECHO from another connection) before each.
    const marker = redis.client();
    before = async (name) => void (await marker.echo(`step ${name}`));
    const seen = await monitorCommands(redis, flow);
    before = async () => undefined;
    const byStep = new Map<string, SeenCommand[]>();
    let at: SeenCommand[] = [];
    for (const c of seen) {
      if (c.args[0]?.toLowerCase() === 'echo' && c.args[1]?.startsWith('step ')) byStep.set(c.args[1].slice(5), (at = []));
      else at.push(c);
    }
    steps.clear();
    for (const [name, cmds] of byStep) steps.set(name, { server: 0, redis: 0, commands: describeCommands(cmds).lines });
    for (let i = 0; i < n; i++) {
      made = new Map();
      await flow();
    }
  } finally {
    target.request = original;
  }
  const total = [...steps.values()].reduce((a, s) => a + s.server + s.redis, 0) / n;
  return [
    ...[...steps].map(
      ([name, s]) =>
        `${name.padEnd(34)} ${fmt(s.server / n, 2).padStart(6)} + ${fmt(s.redis / n, 2)} ms  ${s.commands.length} round trips (≈ ${fmt(s.commands.length * roundTripMs, 2)} ms): ${s.commands.join('; ')}`,
    ),
    `${'total (server JS thread + Redis)'.padEnd(34)} ${fmt(total, 2).padStart(6)} ms`,
  ];
}

/** Who the server's JS time is spent for, in an OIDC login: oidc-provider's own work or cardauth's. */
const OWNERS: Owner[] = [
  { name: 'jose (oidc-provider: ID token signing; cardauth: statement verify)', url: /node_modules\/jose\//, anywhere: true },
  { name: 'cardauth: OIDC Redis adapter (its commands\' building and writes)', url: /\/dist\/oidc\/redis-adapter\.js/, anywhere: true },
  { name: 'ioredis (any store\'s commands; every reply)', url: /node_modules\/ioredis\//, anywhere: false },
  { name: 'cardauth: session (express-session, its store)', url: /node_modules\/(?:express-session|connect-redis)\/|\/dist\/store\/session-store\.js/ },
  { name: 'oidc-provider + Koa', url: /node_modules\/(?:oidc-provider|koa[^/]*|@koa\/[^/]+|cookies|keygrip|http-errors|statuses|jsesc|quick-lru|@panva\/[^/]+|content-type|raw-body|media-typer|accepts|negotiator|fresh|vary|only)\// },
  { name: 'cardauth: OIDC glue (mount, interaction route, provider hooks)', url: /\/dist\/oidc\// },
  { name: 'cardauth: login, guard, audit, stores, routes', url: /\/dist\// },
  { name: 'express, passport, helmet', url: /node_modules\/(?:express|router|body-parser|passport[^/]*|finalhandler|send|on-headers|on-finished|cookie|cookie-signature|helmet|parseurl|qs|type-is|encodeurl|escape-html)\// },
];

/** A client's back-channel logout endpoint on loopback: records when each logout token arrives. */
async function startLogoutReceiver(ctx: BenchContext): Promise<{ url: string; next(timeoutMs: number): Promise<{ at: number; sub: string } | undefined> }> {
  const arrived: Array<{ at: number; sub: string }> = [];
  let wake: (() => void) | undefined;
  const readBody = (req: IncomingMessage) =>
    new Promise<string>((resolve, reject) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
      req.on('error', reject);
    });
  const server = createServer((req, res) => {
    const at = performance.now();
    void readBody(req).then((body) => {
      const token = new URLSearchParams(body).get('logout_token') ?? '';
      const payload = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8') || '{}') as { sub?: string; events?: Record<string, unknown> };
      if (payload.events?.['http://schemas.openid.net/event/backchannel-logout'] === undefined) {
        res.writeHead(400).end();
        return;
      }
      arrived.push({ at, sub: String(payload.sub) });
      res.writeHead(200, { 'cache-control': 'no-store' }).end();
      wake?.();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  ctx.cleanup.add('logout receiver', () => new Promise<void>((resolve) => server.close(() => resolve())));
  const port = (server.address() as { port: number }).port;
  return {
    url: `http://127.0.0.1:${port}/backchannel-logout`,
    async next(timeoutMs) {
      const deadline = performance.now() + timeoutMs;
      while (!arrived.length && performance.now() < deadline) {
        await Promise.race([new Promise<void>((r) => (wake = r)), sleep(Math.max(1, deadline - performance.now()))]);
      }
      return arrived.shift();
    },
  };
}


export const oidcSection: Section = {
  id: 'oidc',
  title: 'OpenID Connect: silent SSO vs GET /auth/session; a whole OIDC login vs the ceiling app; tap-out → back-channel logout',
  async run(ctx) {
    const { cleanup } = ctx;
    const redis: BenchRedis = await startRedis(cleanup);
    const port = await freePort();
    const origin = `http://127.0.0.1:${port}`;
    const seeded: Seeded = await seed({ redisUrl: redis.url, origin, count: CLIENTS + TAPOUTS, prefix: 'oi' });
    const users = seeded.users.slice(0, CLIENTS);
    const receiver = await startLogoutReceiver(ctx);
    const jwksFile = await signingKeysFile(cleanup);
    const client = await registerClient(redis, { id: 'bench-mis' });
    const bclClient = await registerClient(redis, { id: 'bench-bcl', backchannelLogoutUri: receiver.url });
    const env = { CARDAUTH_OIDC_JWKS_FILE: jwksFile, CARDAUTH_AGENT_EVENTS_PER_MIN: '1000000' };
    const app = await forkChild<{ url: string; origin: string; backchannel?: boolean }>(cleanup, 'servers/cardauth.js', { redisUrl: redis.url, port, env } satisfies CardauthServerOptions);
    const target = new HttpTarget(app.ready.url, CLIENTS + 1);
    cleanup.add('http agent', () => target.close());
    const browsers = users.map(() => new Browser(target, origin));
    const meter = () => cpuMeter({ server: app.pid, redis: redis.pid, loadgen: process.pid });
    const measure = async (ms: number, op: (w: number) => Promise<void>): Promise<Measured> => {
      const m = meter();
      const load = await runFor(ms, CLIENTS, op);
      return { load, cpu: m() };
    };
    const errorsOf = (rs: Measured[]) => `${rs.reduce((a, r) => a + r.load.errors, 0)}${rs.find((r) => r.load.firstError)?.load.firstError ? ` (first: ${rs.find((r) => r.load.firstError)!.load.firstError})` : ''}`;
    const rows: Row[] = [];
    const details: string[] = [];

    // — Silent SSO against GET /auth/session, the same sessions on the same server.
    ctx.log(`logging in ${CLIENTS} sessions, each with a provider session of its own (one SSO each)`);
    await Promise.all(browsers.map((b, i) => login(b, seeded.agent, users[i]!, 'one-shot')));
    await Promise.all(browsers.map((b) => silentSso(b, target, client)));
    const sso = (w: number) => silentSso(browsers[w]!, target, client);
    const session = async (w: number) => {
      await browsers[w]!.getOk('/auth/session');
    };
    await measure(ctx.ms(1), sso);
    await measure(ctx.ms(0.5), session);
    const win = ctx.ms(1);
    const ssoRuns: Measured[] = [];
    const sessionRuns: Measured[] = [];
    const pairs = 8;
    await abba(
      pairs,
      () => measure(win, sso).then((r) => ssoRuns.push(r)),
      () => measure(win, session).then((r) => sessionRuns.push(r)),
    );
    const ssoRatios = ssoRuns.map((r, i) => r.load.perSec / sessionRuns[i]!.load.perSec);
    ctx.log(`silent SSO pairs: ${ssoRatios.map((x) => fmt(x, 3)).join(', ')}`);
    const ssoSent = describeCommands(await monitorCommands(redis, () => sso(0)));
    const ssoJs = median(ssoRuns.map((r) => per(r.cpu.procs.server!.main, r.load.completed)));
    const sessionJs = median(sessionRuns.map((r) => per(r.cpu.procs.server!.main, r.load.completed)));
    rows.push({
      metric: 'silent SSO (/oidc/auth → redirects → code → /oidc/token) vs GET /auth/session',
      value: median(ssoRuns.map((r) => r.load.perSec)),
      unit: 'SSOs/s',
      baseline: { label: 'GET /auth/session', value: median(sessionRuns.map((r) => r.load.perSec)), unit: 'req/s' },
      ratio: median(ssoRatios),
      note: `a logged-in cardauth session with a provider session; ${CLIENTS} clients, ABBA ×${pairs / 2}, ${win / 1000} s each: median of pair ratios; server JS ${fmt(ssoJs, 2)} vs ${fmt(sessionJs, 3)} CPU ms per op; ${ssoSent.sent} Redis commands sent per SSO; errors ${errorsOf([...ssoRuns, ...sessionRuns])}`,
    });
    details.push(
      `silent SSO: ${cpuLine(ssoRuns[0]!.cpu, ssoRuns[0]!.load.completed).replace('CPU ms/login', 'CPU ms/SSO')}`,
      `  one SSO's Redis commands (MONITOR): ${ssoSent.lines.map((l, i) => `${i + 1}. ${l}`).join('; ')}`,
    );

    // — A whole OIDC login (card, password, code, token) against the ceiling app, alternating.
    const { hash } = require('@node-rs/argon2') as typeof import('@node-rs/argon2');
    const phc = await hash(BENCH_PASSWORD, { algorithm: 2 as const, memoryCost: ARGON2_PARAMS.memoryKiB, timeCost: ARGON2_PARAMS.time, parallelism: ARGON2_PARAMS.parallelism });
    /** Fresh browsers' pre-auth sessions and statements for one window, made before it (as the login section does). */
    const pools = async (ms: number, perSec: number) => {
      const perClient = Math.ceil((perSec * 1.5 * ms) / 1000 / CLIENTS) + 2;
      return Promise.all(
        browsers.map(async (b, w) => {
          const pool: PreparedLogin[] = [];
          for (let i = 0; i < perClient; i++) {
            b.clearCookies();
            pool.push(await prepareLogin(b, seeded.agent, users[w]!));
          }
          return pool;
        }),
      );
    };
    let expect = 40;
    let dry = 0;
    const oidcRun = async (ms: number): Promise<Measured> => {
      const pool = await pools(ms, expect);
      const r = await measure(ms, async (w) => {
        let p = pool[w]!.shift();
        if (!p) {
          dry++;
          browsers[w]!.clearCookies();
          p = await prepareLogin(browsers[w]!, seeded.agent, users[w]!);
        }
        await oidcLogin(browsers[w]!, target, client, p, users[w]!);
      });
      expect = Math.max(expect, r.load.perSec);
      return r;
    };
    ctx.log('whole OIDC logins, alternating with the ceiling app, 3 pairs');
    await oidcRun(ctx.ms(1));
    const sample = await prepareLogin(browsers[0]!, seeded.agent, users[0]!);
    const logins: Measured[] = [];
    const ceilings: Measured[] = [];
    await withCeiling(ctx, { ...seeded, users }, sample.statement, phc, async (ceiling) => {
      for (let i = 0; i < 3; i++) {
        ceilings.push(await ceiling(ctx.ms(3)));
        logins.push(await oidcRun(ctx.ms(3)));
        ctx.log(`pair ${i + 1}/3: ceiling ${fmt(ceilings[i]!.load.perSec, 1)}/s, OIDC login ${fmt(logins[i]!.load.perSec, 1)}/s`);
      }
    });
    const probe = await pools(1000, 0).then((p) => p[0]![0]!);
    const loginSent = describeCommands(await monitorCommands(redis, () => oidcLogin(browsers[0]!, target, client, probe, users[0]!)));
    const oidcCpu = logins.map((r) => nonArgon2Ms(r.cpu, r.load.completed));
    const ceilingJs = median(ceilings.map((r) => per(r.cpu.procs.server!.main, r.load.completed)));
    rows.push(
      {
        metric: 'whole OIDC login (card, password, code, token) vs the ceiling app',
        value: median(logins.map((r) => r.load.perSec)),
        unit: 'logins/s',
        baseline: { label: 'ceiling app', value: median(ceilings.map((r) => r.load.perSec)), unit: 'logins/s' },
        ratio: median(logins.map((r, i) => r.load.perSec / ceilings[i]!.load.perSec)),
        note: `timed: GET /oidc/auth and its redirects, POST /auth/card, POST /auth/password, the redirects to the code, POST /oidc/token (not: the login page's HTML, POST /auth/nonce, signing); ${CLIENTS} clients, 3 alternating pairs of ${ctx.ms(3) / 1000} s: median of pair ratios; prepared inside a window: ${dry}; errors ${errorsOf(logins)}`,
      },
      {
        metric: 'whole OIDC login CPU besides argon2: server JS thread + Redis',
        value: median(oidcCpu),
        unit: 'CPU ms/login',
        baseline: { label: 'ceiling app JS thread', value: ceilingJs, unit: 'CPU ms/login' },
        target: { op: '<=', value: OIDC_LOGIN_BUDGET_MS, of: 'value' },
        note: `/proc schedstat inside each window, median of 3 (${oidcCpu.map((x) => fmt(x, 2)).join(', ')}); ${loginSent.sent} Redis commands sent per login (+ ${loginSent.inScripts} inside scripts)`,
      },
    );
    details.push(
      `whole OIDC login, median run: ${cpuLine(logins[1]!.cpu, logins[1]!.load.completed)}`,
      `  one OIDC login's Redis commands (MONITOR): ${loginSent.lines.map((l, i) => `${i + 1}. ${l}`).join('; ')}`,
    );

    if (ctx.options.diagnose === true || (ctx.options.diagnose === 'auto' && median(oidcCpu) > OIDC_LOGIN_BUDGET_MS)) {
      // Where the server's JS thread spends its time during OIDC logins, and during silent SSOs.
      ctx.log(`diagnose: profiling the server's JS thread during ${ctx.ms(3)} ms of OIDC logins and ${ctx.ms(2)} ms of silent SSOs`);
      const loginProfile = await profileChild(app, () => oidcRun(ctx.ms(3)));
      const ssoProfile = await profileChild(app, () => measure(ctx.ms(2), sso));
      // Step by step, one flow at a time (no other request of the bench in flight).
      // What one round trip costs, alone: the app's ioredis client, HGETALL of the client's record.
      const trips = 2000;
      const r0 = procCpu(redis.pid);
      const tripJs = await app.call<number>('roundTrip', { n: trips, key: `oidc:Client:${client.id}` });
      const r1 = procCpu(redis.pid);
      const tripRedis = (r1.main + r1.other - r0.main - r0.other) / trips;
      const steps = 20;
      const prepared: PreparedLogin[] = [];
      for (let i = 0; i <= steps; i++) {
        browsers[0]!.clearCookies();
        prepared.push(await prepareLogin(browsers[0]!, seeded.agent, users[0]!));
      }
      const loginSteps = await cpuByStep(steps, target, redis, app.pid, tripJs + tripRedis, () => oidcLogin(browsers[0]!, target, client, prepared.shift()!, users[0]!));
      const ssoSteps = await cpuByStep(steps, target, redis, app.pid, tripJs + tripRedis, () => sso(0));
      // The same, one login at a time, under the profiler: whose work the JS thread does.
      const oneByOne = 40;
      const more: PreparedLogin[] = [];
      for (let i = 0; i < oneByOne; i++) {
        browsers[0]!.clearCookies();
        more.push(await prepareLogin(browsers[0]!, seeded.agent, users[0]!));
      }
      const owned = await profileChild(app, async () => {
        for (const p of more) await oidcLogin(browsers[0]!, target, client, p, users[0]!);
      });
      keepProfile('oidc-login-one-by-one', owned.profile);
      details.push(
        `one Redis round trip (${trips} HGETALLs of a client's record one after another, the app's ioredis client): server JS thread ${fmt(tripJs, 3)} + redis-server ${fmt(tripRedis, 3)} ms`,
        `whole OIDC login, step by step (${steps} one at a time; server JS thread + redis-server CPU per request, the argon2 and statement verify run on other threads; the Redis commands it sends):`,
        ...loginSteps.map((l) => `  ${l}`),
        `silent SSO, step by step (${steps} one at a time):`,
        ...ssoSteps.map((l) => `  ${l}`),
        `whole OIDC login, the server's JS thread by owner (${oneByOne} one at a time under the profiler; wall-clock samples; ms per login):`,
        ...profileOwners(owned.profile, oneByOne, OWNERS)
          .slice(0, 16)
          .map(([name, ms]) => `  ${fmt(ms, 2).padStart(6)}  ${name}`),
      );
      keepProfile('oidc-login', loginProfile.profile);
      keepProfile('oidc-sso', ssoProfile.profile);
      details.push(
        `server CPU profile, whole OIDC logins (${fmt(loginProfile.result.load.perSec, 1)}/s while profiling):`,
        ...summariseProfile(loginProfile.profile, loginProfile.result.load.completed, 20).map((l) => `  ${l}`),
        `server CPU profile, silent SSOs (${fmt(ssoProfile.result.load.perSec, 1)}/s while profiling):`,
        ...summariseProfile(ssoProfile.profile, ssoProfile.result.load.completed, 20).map((l) => `  ${l}`),
      );
    }

    // — Tap-out → back-channel logout received by the client.
    if (!app.ready.backchannel) {
      rows.push({ metric: 'tap-out → back-channel logout token at the client, p95', value: NaN, unit: 'ms', note: 'prepared, not run: this build has no back-channel logout sender (createAppParts)' });
    } else {
      const tapUsers = seeded.users.slice(CLIENTS);
      ctx.log(`tap-out → back-channel logout: ${tapUsers.length} sessions, each with tokens of a client that has a back-channel logout URI`);
      const tapBrowsers = tapUsers.map(() => new Browser(target, origin));
      for (let i = 0; i < tapUsers.length; i += CLIENTS) {
        await Promise.all(
          tapUsers.slice(i, i + CLIENTS).map(async (u, j) => {
            await login(tapBrowsers[i + j]!, seeded.agent, u, 'one-shot');
            await silentSso(tapBrowsers[i + j]!, target, bclClient);
          }),
        );
      }
      while (await receiver.next(300)); // nothing should be there; drop it if it is
      const latencies: number[] = [];
      let missing = 0;
      for (const u of tapUsers) {
        // A random phase against the sender's polling.
        await sleep(Math.random() * 250);
        const statement = await cardauth.signStatement.signTapout(seeded.agent, { aud: origin, uid: u.uid, reader: 'Virtual PCD 00 00', signal: 'tap' }, { now: () => Date.now() });
        const t0 = performance.now();
        const res = await target.request('POST', '/agents/events', { 'content-type': 'application/json', accept: 'application/json' }, JSON.stringify({ statement }));
        if (res.status !== 200 || !((JSON.parse(res.body) as { locked?: number }).locked! >= 1)) throw new Error(`tap-out answered ${res.status} ${res.body.slice(0, 200)}`);
        const got = await receiver.next(5000);
        if (got) latencies.push(got.at - t0);
        else missing++;
      }
      rows.push({
        metric: 'tap-out → back-channel logout token at the client, p95',
        value: percentile(latencies, 95),
        unit: 'ms',
        target: { op: '<', value: TAPOUT_P95_MS, of: 'value' },
        note: `from POST /agents/events (signed card.tapout) to the logout token's arrival at a loopback receiver; ${tapUsers.length} sessions one at a time, random 0–250 ms apart; p50 ${fmt(percentile(latencies, 50), 0)} ms, max ${fmt(Math.max(...latencies), 0)} ms; not received in 5 s: ${missing}`,
      });
    }
    const logged = await app.stop<{ warn: number; error: number; first: string[] }>();
    details.push(`server log: ${logged ? `${logged.warn} warn, ${logged.error} error${logged.first.length ? ` — ${logged.first.join(' | ')}` : ''}` : 'n/a'}`);
    return { rows, details };
  },
};
