import type { SessionUser } from '../../src/strategies/session-user';
import { forkChild, profileChild } from '../lib/children';
import { Browser, HttpTarget } from '../lib/http';
import { runFor, type LoadResult } from '../lib/load';
import { profileBuckets } from '../lib/profile';
import { cpuMeter, type CpuReport } from '../lib/proc';
import { callDelta, freePort, startRedis } from '../lib/redis';
import { login, seed } from '../lib/seed';
import { abba, fmt, median } from '../lib/stats';
import type { Row, Section } from '../lib/types';
import type { BareOptions } from '../servers/bare-session';

const TARGET = 0.9;
const CONNECTIONS = 32;

/** The session id inside a signed `cardauth.sid=s%3A<id>.<sig>` cookie. */
function sessionIdOf(cookie: string): string {
  const v = decodeURIComponent(cookie.slice(cookie.indexOf('=') + 1));
  return v.slice(2, v.lastIndexOf('.'));
}

export const sessionReadSection: Section = {
  id: 'session',
  title: 'authenticated GET /auth/session vs a bare Express + session + passport app; GET /auth/forward vs GET /auth/session',
  async run(ctx) {
    const { cleanup } = ctx;
    const redis = await startRedis(cleanup);
    const port = await freePort();
    const origin = `http://127.0.0.1:${port}`;
    const seeded = await seed({ redisUrl: redis.url, origin, count: CONNECTIONS, prefix: 'sr' });
    const app = await forkChild<{ url: string; origin: string }>(cleanup, 'servers/cardauth.js', { redisUrl: redis.url, port });
    const appTarget = new HttpTarget(app.ready.url, CONNECTIONS);
    cleanup.add('http agent', () => appTarget.close());
    const appBrowsers = seeded.users.map(() => new Browser(appTarget, origin));
    ctx.log(`logging in ${CONNECTIONS} sessions on cardauth`);
    await Promise.all(appBrowsers.map((b, i) => login(b, seeded.agent, seeded.users[i]!, 'one-shot')));

    // The bare app stores a user exactly as large as the one cardauth stored.
    const stored = JSON.parse((await redis.client().get(`sess:${sessionIdOf(appBrowsers[0]!.cookie)}`)) ?? 'null') as { passport?: { user?: SessionUser } } | null;
    const user = stored?.passport?.user;
    if (!user) throw new Error('could not read the stored session user of a cardauth login');
    const bare = await forkChild<{ url: string }>(cleanup, 'servers/bare-session.js', { redisUrl: redis.url, user, ttlSec: seeded.config.CARDAUTH_SESSION_MAX_SEC } satisfies BareOptions);
    const bareTarget = new HttpTarget(bare.ready.url, CONNECTIONS);
    cleanup.add('http agent', () => bareTarget.close());
    const bareBrowsers = seeded.users.map(() => new Browser(bareTarget, bare.ready.url));
    await Promise.all(bareBrowsers.map((b) => b.postJson('/login', {})));

    const check = async (bs: Browser[]) => {
      const body = JSON.parse((await bs[0]!.getOk('/auth/session')).body) as { login?: string };
      if (body.login !== seeded.users[0]!.login) throw new Error(`GET /auth/session answered ${JSON.stringify(body).slice(0, 200)}`);
    };
    await check(appBrowsers);
    await check(bareBrowsers);

    const get = (bs: Browser[], path = '/auth/session') => async (w: number) => {
      await bs[w]!.getOk(path);
    };
    const calls = { app: new Map<string, number>(), bare: new Map<string, number>() };
    const measure = async (bs: Browser[], pid: number, ms: number) => {
      const c0 = await redis.commandCalls();
      const meter = cpuMeter({ server: pid, redis: redis.pid, loadgen: process.pid });
      const load = await runFor(ms, CONNECTIONS, get(bs));
      const cpu = meter();
      const m = bs === appBrowsers ? calls.app : calls.bare;
      for (const [k, v] of callDelta(c0, await redis.commandCalls())) m.set(k, (m.get(k) ?? 0) + v / load.completed);
      return { load, cpu };
    };
    ctx.log(`warm-up ${ctx.ms(1.5)} ms each`);
    await measure(appBrowsers, app.pid, ctx.ms(1.5));
    await measure(bareBrowsers, bare.pid, ctx.ms(1.5));

    const runs = { app: [] as Array<{ load: LoadResult; cpu: CpuReport }>, bare: [] as Array<{ load: LoadResult; cpu: CpuReport }> };
    // Many short pairs: the machine's load drifts over seconds, so short windows side by side
    // see the same load, and the median of 16 pair ratios is steadier than of 6 long ones.
    const pairs = 16;
    const win = ctx.ms(0.75);
    const pairRatios: number[] = [];
    await abba(
      pairs,
      () => measure(appBrowsers, app.pid, win).then((r) => runs.app.push(r)),
      () => measure(bareBrowsers, bare.pid, win).then((r) => runs.bare.push(r)),
      (i) => {
        pairRatios.push(runs.app[i]!.load.perSec / runs.bare[i]!.load.perSec);
        ctx.log(`pair ${i + 1}/${pairs}: cardauth ${fmt(runs.app[i]!.load.perSec)} req/s, bare ${fmt(runs.bare[i]!.load.perSec)} req/s`);
      },
    );

    // A reverse proxy's check (GET /auth/forward) against the pages' own (GET /auth/session): the same
    // server, the same sessions, pairs side by side as above. Both are hot paths; the check must not cost more.
    await appBrowsers[0]!.getOk('/auth/forward');
    const fwdPairs = 8;
    const fwd = { forward: [] as LoadResult[], session: [] as LoadResult[], ratios: [] as number[] };
    await abba(
      fwdPairs,
      () => runFor(win, CONNECTIONS, get(appBrowsers, '/auth/forward')).then((r) => fwd.forward.push(r)),
      () => runFor(win, CONNECTIONS, get(appBrowsers)).then((r) => fwd.session.push(r)),
      (i) => {
        fwd.ratios.push(fwd.forward[i]!.perSec / fwd.session[i]!.perSec);
        ctx.log(`forward pair ${i + 1}/${fwdPairs}: /auth/forward ${fmt(fwd.forward[i]!.perSec)} req/s, /auth/session ${fmt(fwd.session[i]!.perSec)} req/s`);
      },
    );
    const fwdErrors = [...fwd.forward, ...fwd.session].reduce((a, r) => a + r.errors, 0);

    const appMed = median(runs.app.map((r) => r.load.perSec));
    const bareMed = median(runs.bare.map((r) => r.load.perSec));
    const ratio = median(pairRatios);
    const cpuPerReq = (r: { load: LoadResult; cpu: CpuReport }) => (r.cpu.procs.server!.main / Math.max(r.load.completed, 1)) * 1000;
    const appCpu = median(runs.app.map(cpuPerReq));
    const bareCpu = median(runs.bare.map(cpuPerReq));
    const errors = [...runs.app, ...runs.bare].reduce((a, r) => a + r.load.errors, 0);
    const firstError = [...runs.app, ...runs.bare].map((r) => r.load).concat(fwd.forward, fwd.session).find((r) => r.firstError)?.firstError;

    const rows: Row[] = [
      {
        metric: 'GET /auth/session (logged in) vs bare express-session + passport',
        value: appMed,
        unit: 'req/s',
        baseline: { label: 'bare app', value: bareMed, unit: 'req/s' },
        ratio,
        target: { op: '>=', value: TARGET, of: 'ratio' },
        note: `${CONNECTIONS} keep-alive connections, ABBA ×${pairs / 2}, ${win / 1000} s each: median of pair ratios (ratio of medians ${fmt(appMed / bareMed, 3)}); errors ${errors}`,
      },
      {
        metric: 'GET /auth/forward vs GET /auth/session (same server, same sessions)',
        value: median(fwd.forward.map((r) => r.perSec)),
        unit: 'req/s',
        baseline: { label: 'GET /auth/session', value: median(fwd.session.map((r) => r.perSec)), unit: 'req/s' },
        ratio: median(fwd.ratios),
        target: { op: '>=', value: TARGET, of: 'ratio' },
        note: `${CONNECTIONS} keep-alive connections, ABBA ×${fwdPairs / 2}, ${win / 1000} s each: median of pair ratios; errors ${fwdErrors}`,
      },
      {
        metric: 'server JS-thread CPU per GET, bare ÷ cardauth',
        value: appCpu,
        unit: 'µs/req',
        baseline: { label: 'bare app', value: bareCpu, unit: 'µs/req' },
        ratio: bareCpu / appCpu,
        note: `CPU time from /proc schedstat, median; steadier than req/s. JS thread waited for a CPU ${fmt(median(runs.app.map((r) => (r.cpu.procs.server!.mainWait / Math.max(r.load.completed, 1)) * 1000)))} µs/req`,
      },
    ];
    const line = (name: string, rs: Array<{ load: LoadResult; cpu: CpuReport }>) =>
      `${name}: ${rs.map((r) => `${fmt(r.load.perSec)}/s p50 ${fmt(r.load.latencyMs.p50, 1)} ms p99 ${fmt(r.load.latencyMs.p99, 1)} ms`).join('; ')}; server JS ${fmt(median(rs.map(cpuPerReq)))} µs/req, redis ${fmt(median(rs.map((r) => (r.cpu.procs.redis!.main / Math.max(r.load.completed, 1)) * 1000)))} µs/req, loadgen ${fmt(median(rs.map((r) => ((r.cpu.procs.loadgen!.main + r.cpu.procs.loadgen!.other) / Math.max(r.load.completed, 1)) * 1000)))} µs/req`;
    const perReq = (m: Map<string, number>) =>
      [...m.entries()]
        .filter(([k]) => k !== 'info')
        .map(([k, v]) => `${k} ${fmt(v / (pairs + 1), 3)}`)
        .join(', ');
    const details = [line('cardauth', runs.app), line('bare', runs.bare), `redis commands per GET: cardauth ${perReq(calls.app)}; bare ${perReq(calls.bare)}`, `pair ratios: ${pairRatios.map((x) => fmt(x, 3)).join(', ')}`];
    if (firstError) details.push(`first error: ${firstError}`);

    if (ctx.options.diagnose === true || (ctx.options.diagnose === 'auto' && ratio < TARGET)) {
      const pwin = ctx.ms(3);
      ctx.log(`diagnose: profiling both servers, ${pwin} ms each`);
      const pa = await profileChild(app, () => runFor(pwin, CONNECTIONS, get(appBrowsers)));
      const pb = await profileChild(bare, () => runFor(pwin, CONNECTIONS, get(bareBrowsers)));
      const a = profileBuckets(pa.profile, pa.result.completed);
      const b = profileBuckets(pb.profile, pb.result.completed);
      const sum = (m: Map<string, number>) => [...m.values()].reduce((x, y) => x + y, 0);
      const diff = [...new Set([...a.keys(), ...b.keys()])].map((k): [string, number, number] => [k, (a.get(k) ?? 0) * 1000, (b.get(k) ?? 0) * 1000]).sort((x, y) => y[1] - y[2] - (x[1] - x[2]));
      details.push(
        `profiles (wall-clock samples of the JS thread, indicative on a busy box): cardauth ${fmt(sum(a) * 1000)} µs/req, bare ${fmt(sum(b) * 1000)} µs/req; largest differences, µs/req cardauth vs bare:`,
        ...diff.slice(0, 10).map(([k, x, y]) => `  ${(x - y >= 0 ? '+' : '') + fmt(x - y, 1)}`.padEnd(10) + `  ${fmt(x, 1)} vs ${fmt(y, 1)}  ${k}`),
      );
    }
    return { rows, details };
  },
};
