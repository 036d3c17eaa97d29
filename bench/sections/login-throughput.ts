import { forkChild, profileChild, type Child } from '../lib/children';
import { Browser, HttpTarget } from '../lib/http';
import { runFor, type LoadResult } from '../lib/load';
import { summariseProfile, type CpuProfile } from '../lib/profile';
import { CORES, cpuMeter, type CpuReport } from '../lib/proc';
import { callDelta, describeCommands, freePort, monitorCommands, startRedis, type BenchRedis } from '../lib/redis';
import { BENCH_PASSWORD, prepareLogin, seed, submitLogin, type PreparedLogin, type Seeded } from '../lib/seed';
import { fmt, median } from '../lib/stats';
import type { BenchContext, Row, Section } from '../lib/types';
import type { Argon2OnlyOptions } from '../servers/argon2-only';
import type { CardauthServerOptions } from '../servers/cardauth';
import { startCardauth } from '../servers/cardauth';
import { ARGON2_PARAMS } from './argon2-libs';

/**
 * Issue 2 asked for 0.85 of the bare bound; on 2 cores shared with the load generator and
 * Redis even the ceiling app reaches only about 0.86–0.93, so issue 9 restated it as CPU
 * budgets: what a login costs besides argon2 (the server's JS thread plus Redis), and the
 * Redis commands it sends.
 */
export const BUDGET_MS = 2.5;
export const BUDGET_COMMANDS = 15;

type Bound = { load: LoadResult; cpu: CpuReport };
type LoginRun = {
  load: LoadResult;
  cpu: CpuReport;
  calls: Array<[string, number]>;
  /** Logins prepared before the window (nonce + signed statement), and how many had to be prepared inside it (pool ran dry). */
  prepared: number;
  preparedInside: number;
  /** Wall time of the preparation before the window. */
  prepareMs: number;
};

/**
 * The bare bound: `CORES` argon2id verifies in flight back to back through
 * @node-rs/argon2, in the runner's process, nothing else running. The
 * server's hasher runs at most CARDAUTH_HASH_CONCURRENCY (default: CORES)
 * at once.
 */
async function boundRun(durationMs: number, phc: string): Promise<Bound> {
  const { verify } = require('@node-rs/argon2') as typeof import('@node-rs/argon2');
  const meter = cpuMeter({ bench: process.pid });
  const load = await runFor(durationMs, CORES, async () => {
    if (!(await verify(phc, BENCH_PASSWORD))) throw new Error('verify false');
  });
  return { load, cpu: meter() };
}

/** One window of the ceiling server, with the CPU of the server and the load generator. */
export type CeilingRun = (ms: number) => Promise<{ load: LoadResult; cpu: CpuReport }>;

/**
 * The ceiling server (servers/argon2-only.ts: it only parses the body and runs cardauth's
 * hasher) for as long as `use` runs: the same clients and the same one-shot body as a login.
 * No login can beat it on this machine. Warmed up before `use` gets it.
 */
export async function withCeiling<T>(ctx: BenchContext, seeded: Seeded, statement: string, phc: string, use: (run: CeilingRun) => Promise<T>): Promise<T> {
  return ctx.cleanup.scope(async (c) => {
    const child = await forkChild<{ url: string }>(c, 'servers/argon2-only.js', { phc, params: ARGON2_PARAMS } satisfies Argon2OnlyOptions);
    const http = new HttpTarget(child.ready.url, seeded.users.length);
    c.add('http agent', () => http.close());
    const browsers = seeded.users.map(() => new Browser(http, child.ready.url));
    const run: CeilingRun = (ms) => {
      const meter = cpuMeter({ server: child.pid, loadgen: process.pid });
      return runFor(ms, browsers.length, async (w) => {
        const user = seeded.users[w]!;
        const view = await browsers[w]!.postJson<{ login?: string }>('/auth/login', { statement, login: user.login, password: BENCH_PASSWORD });
        if (view.login !== user.login) throw new Error(`argon2-only answered ${JSON.stringify(view).slice(0, 200)}`);
      }).then((load) => ({ load, cpu: meter() }));
    };
    await run(ctx.ms(1));
    const out = await use(run);
    await child.stop();
    return out;
  });
}

/** The ceiling alternating with the bound: `pairs` pairs, each ratio taken side by side. */
async function ceilingRuns(ctx: BenchContext, seeded: Seeded, statement: string, phc: string, pairs: number): Promise<{ ratios: number[]; runs: Array<{ load: LoadResult; cpu: CpuReport }> }> {
  return withCeiling(ctx, seeded, statement, phc, async (run) => {
    const ratios: number[] = [];
    const runs: Array<{ load: LoadResult; cpu: CpuReport }> = [];
    for (let i = 0; i < pairs; i++) {
      const b = await boundRun(ctx.ms(2), phc);
      const r = await run(ctx.ms(3));
      runs.push(r);
      ratios.push(r.load.perSec / b.load.perSec);
    }
    return { ratios, runs };
  });
}

/** A server child plus one browser per seeded user. */
export interface Target {
  child: Child<{ url: string; origin: string }>;
  browsers: Browser[];
}

export async function startTarget(ctx: BenchContext, redis: BenchRedis, seeded: Seeded, extra: Partial<CardauthServerOptions> = {}): Promise<Target> {
  const port = await freePort();
  const child = await forkChild<{ url: string; origin: string }>(ctx.cleanup, 'servers/cardauth.js', { redisUrl: redis.url, port, ...extra } satisfies CardauthServerOptions);
  const http = new HttpTarget(child.ready.url, seeded.users.length);
  ctx.cleanup.add('http agent', () => http.close());
  return { child, browsers: seeded.users.map(() => new Browser(http, child.ready.origin)) };
}

/**
 * Each client's logins for one measuring window, prepared just before it
 * (outside the window): POST /auth/nonce as a fresh browser, then the
 * statement signed for that nonce, as the workstation agent would. Sized for
 * `expectPerSec` × 1.5 so the pools do not run dry; statements live 30 s,
 * nonces 120 s, so each window gets its own.
 */
async function preparePools(browsers: Browser[], seeded: Seeded, windowMs: number, expectPerSec: number): Promise<{ pools: PreparedLogin[][]; ms: number }> {
  const t0 = performance.now();
  const perClient = Math.ceil((expectPerSec * 1.5 * windowMs) / 1000 / browsers.length) + 2;
  const pools = await Promise.all(
    browsers.map(async (b, w) => {
      const pool: PreparedLogin[] = [];
      for (let i = 0; i < perClient; i++) pool.push(await prepareLogin(b, seeded.agent, seeded.users[w]!));
      return pool;
    }),
  );
  return { pools, ms: performance.now() - t0 };
}

/** Runs the timed window (e.g. inside a CPU profile of the server). */
type Around = (timed: () => Promise<LoadResult>) => Promise<LoadResult>;

/**
 * Times only the login requests: `browsers.length` clients, each submitting
 * its prepared logins back to back (one-shot POST /auth/login, or POST
 * /auth/card + POST /auth/password). A client whose pool runs dry prepares
 * inside the window (counted, and only makes the figure lower).
 */
async function timedLogins(
  browsers: Browser[],
  seeded: Seeded,
  windowMs: number,
  expectPerSec: number,
  mode: 'one-shot' | 'two-step',
  meterPids: Record<string, number>,
  redis: BenchRedis,
  around: Around = (f) => f(),
): Promise<LoginRun> {
  const { pools, ms: prepareMs } = await preparePools(browsers, seeded, windowMs, expectPerSec);
  const prepared = pools.reduce((a, p) => a + p.length, 0);
  let preparedInside = 0;
  const calls0 = await redis.commandCalls();
  const meter = cpuMeter(meterPids);
  const load = await around(() =>
    runFor(windowMs, browsers.length, async (w) => {
      const b = browsers[w]!;
      const user = seeded.users[w]!;
      let p = pools[w]!.shift();
      if (!p) {
        preparedInside++;
        p = await prepareLogin(b, seeded.agent, user);
      }
      await submitLogin(b, p, user, mode);
    }),
  );
  const cpu = meter();
  const calls = callDelta(calls0, await redis.commandCalls());
  return { load, cpu, calls, prepared, preparedInside, prepareMs };
}

/** Logins on a server child; CPU of the server, redis-server and the load generator (this process). */
export const loginRun = (t: Target, redis: BenchRedis, seeded: Seeded, ms: number, expectPerSec: number, mode: 'one-shot' | 'two-step' = 'one-shot', around?: Around) =>
  timedLogins(t.browsers, seeded, ms, expectPerSec, mode, { server: t.child.pid, redis: redis.pid, loadgen: process.pid }, redis, around);

export const per = (ms: number, ops: number) => ms / Math.max(ops, 1);
const cpuTotal = (cpu: CpuReport) => Object.values(cpu.procs).reduce((a, c) => a + c.main + c.other, 0);

/**
 * What a login costs besides argon2, in CPU ms per login: the server's JS thread plus
 * redis-server. The server's other threads are the libuv pool (argon2, and WebCrypto's
 * statement verify) and GC helpers.
 */
export const nonArgon2Ms = (cpu: CpuReport, ops: number) => per(cpu.procs.server!.main + cpu.procs.redis!.main + cpu.procs.redis!.other, ops);

export function cpuLine(cpu: CpuReport, ops: number): string {
  const parts = Object.entries(cpu.procs).map(
    ([k, c]) => `${k} JS thread ${fmt(per(c.main, ops), 2)} (+ ${fmt(per(c.mainWait, ops), 2)} waiting for a CPU) + other threads ${fmt(per(c.other, ops), 2)}`,
  );
  return `CPU ms/login: ${parts.join('; ')}; machine busy ${fmt((cpu.system.busy / cpu.system.total) * 100, 0)}% of ${CORES} cores, ${fmt(((cpu.system.busy - cpuTotal(cpu)) / cpu.system.total) * 100, 0)}% of it outside these processes`;
}

export const loginThroughputSection: Section = {
  id: 'login',
  title: 'full login throughput vs the bare argon2-verify bound',
  async run(ctx: BenchContext) {
    const { cleanup } = ctx;
    const concurrency = 8 * CORES;
    const redis = await startRedis(cleanup);
    ctx.log(`seeding ${concurrency} accounts + cards on redis :${redis.port}`);
    const seeded = await seed({ redisUrl: redis.url, origin: 'http://127.0.0.1:1', count: concurrency, prefix: 'lt' });
    const main = await startTarget(ctx, redis, seeded);

    const { hash } = require('@node-rs/argon2') as typeof import('@node-rs/argon2');
    const phc = await hash(BENCH_PASSWORD, { algorithm: 2 as const, memoryCost: ARGON2_PARAMS.memoryKiB, timeCost: ARGON2_PARAMS.time, parallelism: ARGON2_PARAMS.parallelism });

    ctx.log(`warm-up: ${concurrency} clients logging in for ${ctx.ms(1.5)} ms`);
    const warm = await loginRun(main, redis, seeded, ctx.ms(1.5), 100);
    if (warm.load.ops === 0) throw new Error(`no login succeeded in warm-up: ${warm.load.firstError}`);
    /** What the next window's pools are sized for: the fastest rate seen so far. */
    let expect = Math.max(warm.load.perSec, 40);

    // Bound and login alternate; each pair ran back to back, so its ratio saw the same machine load.
    const bounds: Bound[] = [];
    const logins: LoginRun[] = [];
    const pairRatios: number[] = [];
    const runs = 5;
    for (let i = 0; i < runs; i++) {
      const b = await boundRun(ctx.ms(2), phc);
      expect = Math.max(expect, b.load.perSec);
      const l = await loginRun(main, redis, seeded, ctx.ms(3), expect);
      expect = Math.max(expect, l.load.perSec);
      bounds.push(b);
      logins.push(l);
      pairRatios.push(l.load.perSec / b.load.perSec);
      ctx.log(
        `pair ${i + 1}/${runs}: bound ${fmt(b.load.perSec, 1)} verifies/s, login ${fmt(l.load.perSec, 1)}/s (p50 ${fmt(l.load.latencyMs.p50, 0)} ms, errors ${l.load.errors}${l.load.firstError ? `: ${l.load.firstError}` : ''}) → ${fmt(pairRatios[i]!, 3)}`,
      );
    }
    const boundMed = median(bounds.map((b) => b.load.perSec));
    const loginMed = median(logins.map((l) => l.load.perSec));
    const ratio = median(pairRatios);
    ctx.shared.boundPerSec = boundMed;
    ctx.shared.loginPerSec = loginMed;

    ctx.log(`ceiling: the same clients against a server that only runs the hasher, 3 alternating pairs`);
    const sample = await prepareLogin(main.browsers[0]!, seeded.agent, seeded.users[0]!);
    const ceiling = await ceilingRuns(ctx, seeded, sample.statement, phc, 3);
    const ceilingMid = ceiling.runs[ceiling.runs.findIndex((r) => r.load.perSec === median(ceiling.runs.map((x) => x.load.perSec)))] ?? ceiling.runs[0]!;

    ctx.log(`card + password variant (2 timed requests per login), ${ctx.ms(4)} ms`);
    const twoStep = await loginRun(main, redis, seeded, ctx.ms(4), expect, 'two-step');
    const boundAfter = await boundRun(ctx.ms(2), phc);

    // Same load, but server and load generator in this one process (the server child idles).
    ctx.log(`in-process variant: server in the runner's process, ${ctx.ms(4)} ms`);
    const inProc = await cleanup.scope(async (c) => {
      const srv = await startCardauth({ redisUrl: redis.url, port: await freePort() });
      c.add('in-process server', () => srv.close());
      const t = new HttpTarget(srv.url, concurrency);
      c.add('http agent', () => t.close());
      const bs = seeded.users.map(() => new Browser(t, srv.origin));
      const pids = { 'runner (server + loadgen)': process.pid, redis: redis.pid };
      await timedLogins(bs, seeded, ctx.ms(1), expect, 'one-shot', pids, redis);
      return timedLogins(bs, seeded, ctx.ms(4), expect, 'one-shot', pids, redis);
    });

    // One login alone under MONITOR (outside every window: MONITOR slows Redis): what it sends, step by step.
    // A login first, unwatched: the in-process server appended to the audit chain since this one's last append.
    await submitLogin(main.browsers[0]!, await prepareLogin(main.browsers[0]!, seeded.agent, seeded.users[0]!), seeded.users[0]!, 'one-shot');
    const probe = await prepareLogin(main.browsers[0]!, seeded.agent, seeded.users[0]!);
    const sent = describeCommands(await monitorCommands(redis, () => submitLogin(main.browsers[0]!, probe, seeded.users[0]!, 'one-shot')));

    const mid = logins[Math.max(0, logins.findIndex((l) => l.load.perSec === loginMed))] ?? logins[0]!;
    const budget = median(logins.map((l) => nonArgon2Ms(l.cpu, l.load.completed)));
    const ceilingJs = median(ceiling.runs.map((r) => per(r.cpu.procs.server!.main, r.load.completed)));
    const n = mid.load.completed;
    const boundCpuPerVerify = median(bounds.map((b) => per(b.cpu.procs.bench!.other, b.load.completed)));
    const perLoginCpu = per(cpuTotal(mid.cpu), n);
    const loadgenCpu = per(mid.cpu.procs.loadgen!.main + mid.cpu.procs.loadgen!.other, n);
    const rows: Row[] = [
      {
        metric: 'full login (one-shot POST /auth/login) vs bare argon2 bound',
        value: loginMed,
        unit: 'logins/s',
        baseline: { label: `${CORES} verifies in flight`, value: boundMed, unit: 'verifies/s' },
        ratio,
        note: `issue 2's target 0.85 is restated as the budgets below (issue 9). Timed: POST /auth/login only (statement verify, nonce, allow-list, lockout, argon2, session, audit); not timed: POST /auth/nonce and signing, done before each window. Server child, loadgen in runner, ${concurrency} clients; ${runs} alternating pairs (bound ${ctx.ms(2) / 1000} s, login ${ctx.ms(3) / 1000} s): median of pair ratios (ratio of medians ${fmt(loginMed / boundMed, 3)})`,
      },
      {
        metric: 'argon2 share of the CPU a login costs (all processes)',
        value: perLoginCpu,
        unit: 'CPU ms/login',
        baseline: { label: 'bare verify', value: boundCpuPerVerify, unit: 'CPU ms/verify' },
        ratio: boundCpuPerVerify / perLoginCpu,
        note: 'CPU from /proc (server + redis + loadgen) inside the timed window, median run: the ratio a CPU-bound box can reach; steadier than req/s',
      },
      {
        metric: 'ceiling: HTTP + argon2 only (no Redis, session, statement, audit) vs bound',
        value: median(ceiling.runs.map((r) => r.load.perSec)),
        unit: 'logins/s',
        baseline: { label: 'bound, alternating', value: median(ceiling.runs.map((r, i) => r.load.perSec / ceiling.ratios[i]!)), unit: 'verifies/s' },
        ratio: median(ceiling.ratios),
        note: `servers/argon2-only.ts: Express + express.json + cardauth's hasher, the same ${concurrency} clients and one-shot body; 3 alternating pairs, median of pair ratios (${ceiling.ratios.map((x) => fmt(x, 3)).join(', ')}). The most any login can reach here`,
      },
      {
        metric: 'full login (one-shot) vs the ceiling app',
        value: loginMed,
        unit: 'logins/s',
        baseline: { label: 'ceiling app', value: median(ceiling.runs.map((r) => r.load.perSec)), unit: 'logins/s' },
        ratio: ratio / median(ceiling.ratios),
        note: 'median login pair ratio ÷ median ceiling pair ratio (each against its own alternating bound)',
      },
      {
        metric: 'login CPU besides argon2: server JS thread + Redis',
        value: budget,
        unit: 'CPU ms/login',
        baseline: { label: 'ceiling app JS thread', value: ceilingJs, unit: 'CPU ms/login' },
        target: { op: '<=', value: BUDGET_MS, of: 'value' },
        note: `/proc schedstat inside each timed window, median of ${runs} (${logins.map((l) => fmt(nonArgon2Ms(l.cpu, l.load.completed), 2)).join(', ')}); the ceiling app's is HTTP + body + argon2 dispatch alone`,
      },
      {
        metric: 'Redis commands a login sends',
        value: sent.sent,
        unit: 'commands',
        target: { op: '<=', value: BUDGET_COMMANDS, of: 'value' },
        note: `one one-shot login alone under MONITOR (a script call is one; it ran ${sent.inScripts} more inside scripts); under load: ${fmt(per(mid.calls.reduce((a, [, v]) => a + v, 0), mid.load.completed), 1)} run per login (INFO commandstats, inside scripts too; the audit's group commit shares its calls)`,
      },
      {
        metric: 'full login, card + password (2 requests) vs bound',
        value: twoStep.load.perSec,
        unit: 'logins/s',
        baseline: { label: 'bound run just after', value: boundAfter.load.perSec, unit: 'verifies/s' },
        ratio: twoStep.load.perSec / boundAfter.load.perSec,
        note: `timed: POST /auth/card + POST /auth/password (nonce and signing before the window); one ${ctx.ms(4) / 1000} s run; errors ${twoStep.load.errors}`,
      },
      {
        metric: 'full login, server and loadgen in one process vs bound',
        value: inProc.load.perSec,
        unit: 'logins/s',
        baseline: { label: 'median bound', value: boundMed, unit: 'verifies/s' },
        ratio: inProc.load.perSec / boundMed,
        note: `timed: POST /auth/login only; one ${ctx.ms(4) / 1000} s run; errors ${inProc.load.errors}`,
      },
    ];
    const details = [
      `pair ratios: ${pairRatios.map((x) => fmt(x, 3)).join(', ')}`,
      `bound runs: ${bounds.map((b) => fmt(b.load.perSec, 1)).join(', ')} verifies/s (+ ${fmt(boundAfter.load.perSec, 1)} after the card + password run); argon2 CPU ${fmt(boundCpuPerVerify, 2)} ms per verify, verify wall p50 ${fmt(median(bounds.map((b) => b.load.latencyMs.p50)), 1)} ms`,
      `login runs: ${logins.map((l) => `${fmt(l.load.perSec, 1)}/s (p50 ${fmt(l.load.latencyMs.p50, 0)} ms, p99 ${fmt(l.load.latencyMs.p99, 0)} ms, ${l.load.errors} errors)`).join('; ')}`,
      `prepared before each window (POST /auth/nonce + signStatement, not timed): ${logins.map((l) => `${l.prepared} in ${fmt(l.prepareMs / 1000, 1)} s`).join(', ')}; prepared inside a window because a pool ran dry: ${logins.reduce((a, l) => a + l.preparedInside, 0) + twoStep.preparedInside + inProc.preparedInside} (counted against the login figure)`,
      `median login run — ${cpuLine(mid.cpu, n)}`,
      `  ${fmt(perLoginCpu, 2)} CPU ms per login in all, ${fmt(boundCpuPerVerify, 2)} of them the verify: argon2 is ${fmt((boundCpuPerVerify / perLoginCpu) * 100, 0)}% of a login's CPU here; the load generator (HTTP client only: nonce and signing were done before the window) is ${fmt((loadgenCpu / perLoginCpu) * 100, 0)}%`,
      `  model, if the load generator ran on other machines (CPU-bound case): argon2 share ≈ ${fmt(boundCpuPerVerify / (perLoginCpu - loadgenCpu), 3)} (an estimate, not a measurement)`,
      `one login's Redis commands, in order (MONITOR): ${sent.lines.map((l, i) => `${i + 1}. ${l}`).join('; ')}`,
      `redis commands per login: ${mid.calls.map(([k, v]) => `${k} ${fmt(per(v, n), 2)}`).join(', ')} (${fmt(per(mid.calls.reduce((a, [, v]) => a + v, 0), n), 1)} in all)`,
      `ceiling (HTTP + argon2 only), median run — ${cpuLine(ceilingMid.cpu, ceilingMid.load.completed)}`,
      `card + password: p50 ${fmt(twoStep.load.latencyMs.p50, 0)} ms, ${cpuLine(twoStep.cpu, twoStep.load.completed)}`,
      `in-process: p50 ${fmt(inProc.load.latencyMs.p50, 0)} ms, ${cpuLine(inProc.cpu, inProc.load.completed)}`,
    ];

    const missed = budget > BUDGET_MS || sent.sent > BUDGET_COMMANDS;
    if (ctx.options.diagnose === true || (ctx.options.diagnose === 'auto' && missed)) {
      // Where the server's JS thread spends its time during logins.
      ctx.log(`diagnose: profiling the server's JS thread during ${ctx.ms(4)} ms of logins`);
      let profile: CpuProfile | undefined;
      const profiled = await loginRun(main, redis, seeded, ctx.ms(4), expect, 'one-shot', async (timed) => {
        const p = await profileChild(main.child, timed);
        profile = p.profile;
        return p.result;
      });
      details.push(`server CPU profile (${fmt(profiled.load.perSec, 1)} logins/s while profiling):`, ...summariseProfile(profile!, profiled.load.completed).map((l) => `  ${l}`));
    }
    if (ctx.options.diagnose === true) {
      // What-if (only with --diagnose): the same server with ioredis auto-pipelining, alternating with the shipped one.
      ctx.log(`diagnose: what-if ioredis auto-pipelining, alternating 2 × ${ctx.ms(3)} ms each`);
      const alt = await startTarget(ctx, redis, seeded, { autoPipelining: true });
      await loginRun(alt, redis, seeded, ctx.ms(1), expect);
      const base: LoginRun[] = [];
      const wi: LoginRun[] = [];
      for (let i = 0; i < 2; i++) {
        base.push(await loginRun(main, redis, seeded, ctx.ms(3), expect));
        wi.push(await loginRun(alt, redis, seeded, ctx.ms(3), expect));
      }
      await alt.child.stop();
      const js = (rs: LoginRun[]) => median(rs.map((r) => per(r.cpu.procs.server!.main, r.load.completed)));
      const rate = (rs: LoginRun[]) => median(rs.map((r) => r.load.perSec));
      rows.push({
        metric: 'what-if: ioredis auto-pipelining, server JS-thread CPU per login',
        value: js(wi),
        unit: 'ms/login',
        baseline: { label: 'as shipped', value: js(base), unit: 'ms/login' },
        ratio: js(wi) / js(base),
        note: `not the shipped config; logins/s ${fmt(rate(wi), 1)} vs ${fmt(rate(base), 1)} (×${fmt(rate(wi) / rate(base), 2)})`,
      });
      details.push(
        `what-if auto-pipelining: ${cpuLine(wi[0]!.cpu, wi[0]!.load.completed)}`,
        `  as shipped, same time: ${cpuLine(base[0]!.cpu, base[0]!.load.completed)}`,
      );
    }
    const logged = await main.child.stop<{ warn: number; error: number; first: string[] }>();
    details.push(`server log: ${logged ? `${logged.warn} warn, ${logged.error} error${logged.first.length ? ` — ${logged.first.join(' | ')}` : ''}` : 'n/a'}`);
    return { rows, details };
  },
};
