import type Redis from 'ioredis';
import { cardauth } from '../lib/cardauth';
import { runFor, type LoadResult } from '../lib/load';
import { startRedis, type BenchRedis } from '../lib/redis';
import { CORES } from '../lib/proc';
import { seed } from '../lib/seed';
import { fmt, median, sleep } from '../lib/stats';
import type { Row, Section } from '../lib/types';
import { EVENT } from './audit-append';
import { loginRun, startTarget } from './login-throughput';

/** `xadd`: bare XADDs one at a time (the fsync's own cost, no group commit); then the audit log with 1 and 64 appends in flight. */
const RUNS = ['xadd', 1, 64] as const;
type Run = (typeof RUNS)[number];
const ROUNDS = 2;
const LOGIN_PAIRS = 3;

/** Resolves once `replica` says its link to the primary is up and synced. */
async function replicaUp(replica: Redis): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (/master_link_status:up/.test(await replica.info('replication'))) return;
    await sleep(50);
  }
  throw new Error('the replica did not sync with the primary within 10 s');
}

/**
 * What "nothing acknowledged is ever lost" (issue 11 §3) costs the audit: appends through the
 * real audit log (`createAuditLog().append`, one node) to a Redis with `appendfsync always`
 * (what the server requires), to one with `everysec`, and to an `everysec` primary whose
 * every acknowledged append is followed by `WAIT 1 1000` on the same connection (a replica on
 * this machine, everysec too). The three alternate in ABC/CBA rounds; each figure is the mean
 * of the rounds, the ratio against `everysec` in the same run.
 */
export const auditDurabilitySection: Section = {
  id: 'durability',
  title: 'audit durability: appendfsync always, and replication + WAIT 1, vs everysec',
  async run(ctx) {
    const { cleanup } = ctx;
    const lazy = await startRedis(cleanup, { appendfsync: 'everysec' });
    const always = await startRedis(cleanup, { appendfsync: 'always' });
    const primary = await startRedis(cleanup, { appendfsync: 'everysec' });
    const replica = await startRedis(cleanup, { appendfsync: 'everysec', extraArgs: ['--replicaof', '127.0.0.1', String(primary.port)] });
    await replicaUp(replica.client());
    const clock = { now: () => Date.now() };
    const win = ctx.ms(2);

    type Setup = { name: string; redis: BenchRedis; wait: boolean };
    const setups: Setup[] = [
      { name: 'everysec', redis: lazy, wait: false },
      { name: 'always', redis: always, wait: false },
      { name: 'WAIT 1', redis: primary, wait: true },
    ];
    let n = 0;
    const measure = async (s: Setup, run: Run): Promise<LoadResult> => {
      const client = s.redis.client();
      const key = `audit:durability${++n}`;
      const waited = async () => {
        if (s.wait && (await client.wait(1, 1000)) < 1) throw new Error('WAIT 1: the replica did not confirm within 1 s');
      };
      if (run === 'xadd') return runFor(win, 1, async () => void (await client.xadd(key, '*', 'r', JSON.stringify(EVENT), 'h', '0'.repeat(64)), await waited()));
      const log = cardauth.auditLog.createAuditLog({ redis: client, clock, key });
      const load = await runFor(win, run, async () => {
        await log.append(EVENT);
        await waited();
      });
      const v = await cardauth.auditVerify.verifyAuditChain({ redis: client, key });
      if (!v.ok) throw new Error(`${s.name}: chain broken at ${v.firstBroken.id}`);
      return load;
    };

    const results = new Map<string, LoadResult[]>();
    for (const inFlight of RUNS) {
      ctx.log(`${inFlight === 'xadd' ? 'bare XADD one at a time' : `audit append, ${inFlight} in flight`}: ${setups.map((s) => s.name).join(' / ')}, ${ROUNDS} rounds of ${win} ms each`);
      for (let round = 0; round < ROUNDS; round++) {
        for (const s of round % 2 === 0 ? setups : [...setups].reverse()) {
          const k = `${s.name}@${inFlight}`;
          results.set(k, [...(results.get(k) ?? []), await measure(s, inFlight)]);
        }
      }
    }
    const rate = (name: string, inFlight: Run) => {
      const rs = results.get(`${name}@${inFlight}`) ?? [];
      return rs.reduce((a, r) => a + r.perSec, 0) / Math.max(rs.length, 1);
    };
    const p50 = (name: string, inFlight: Run) => fmt(results.get(`${name}@${inFlight}`)?.[0]?.latencyMs.p50 ?? NaN, 2);
    const errors = [...results.values()].flat().reduce((a, r) => a + r.errors, 0);

    const rows: Row[] = [];
    for (const inFlight of RUNS) {
      const base = rate('everysec', inFlight);
      for (const name of ['always', 'WAIT 1']) {
        rows.push({
          metric: `${inFlight === 'xadd' ? 'bare XADD one at a time' : `audit append ${inFlight} in flight`}: ${name === 'always' ? 'appendfsync always' : 'everysec + WAIT 1 to a local replica'} vs everysec`,
          value: rate(name, inFlight),
          unit: inFlight === 'xadd' ? 'XADD/s' : 'appends/s',
          baseline: { label: 'everysec', value: base, unit: '/s' },
          ratio: rate(name, inFlight) / base,
          note: `p50 ${p50(name, inFlight)} ms vs ${p50('everysec', inFlight)} ms`,
        });
      }
    }
    // Full logins (the login section's one-shot logins, 8 × cores clients) on a server child per Redis, alternating.
    const concurrency = 8 * CORES;
    const targets = await Promise.all(
      [lazy, always].map(async (r) => {
        const seeded = await seed({ redisUrl: r.url, origin: 'http://127.0.0.1:1', count: concurrency, prefix: 'du' });
        // Each client logs one account in again and again: at most about 80 times here, under the highest limit.
        const target = await startTarget(ctx, r, seeded, { env: { CARDAUTH_SESSION_LIMITS: 'clinician=100' } });
        return { redis: r, seeded, target };
      }),
    );
    ctx.log(`logins: ${concurrency} clients, everysec / always, ${LOGIN_PAIRS} pairs of ${ctx.ms(2)} ms after a warm-up`);
    let expect = 40;
    for (const t of targets) expect = Math.max(expect, (await loginRun(t.target, t.redis, t.seeded, ctx.ms(1), 100)).load.perSec);
    const loginPairs: Array<{ lazy: LoadResult; always: LoadResult }> = [];
    for (let i = 0; i < LOGIN_PAIRS; i++) {
      const [a, b] = i % 2 === 0 ? [targets[0]!, targets[1]!] : [targets[1]!, targets[0]!];
      const first = (await loginRun(a.target, a.redis, a.seeded, ctx.ms(2), expect)).load;
      const second = (await loginRun(b.target, b.redis, b.seeded, ctx.ms(2), expect)).load;
      expect = Math.max(expect, first.perSec, second.perSec);
      loginPairs.push(a.redis === lazy ? { lazy: first, always: second } : { lazy: second, always: first });
    }
    const loginLazy = median(loginPairs.map((p) => p.lazy.perSec));
    const loginAlways = median(loginPairs.map((p) => p.always.perSec));
    const loginErrors = loginPairs.reduce((a, p) => a + p.lazy.errors + p.always.errors, 0);
    const loginError = loginPairs.map((p) => p.lazy.firstError ?? p.always.firstError).find(Boolean);
    rows.push({
      metric: 'full login (one-shot POST /auth/login): appendfsync always vs everysec',
      value: loginAlways,
      unit: 'logins/s',
      baseline: { label: 'everysec', value: loginLazy, unit: '/s' },
      ratio: median(loginPairs.map((p) => p.always.perSec / p.lazy.perSec)),
      note: `median of ${LOGIN_PAIRS} alternating pairs; p50 ${fmt(median(loginPairs.map((p) => p.always.latencyMs.p50)), 0)} vs ${fmt(median(loginPairs.map((p) => p.lazy.latencyMs.p50)), 0)} ms`,
    });

    const bound = ctx.shared.boundPerSec;
    if (bound) {
      const top = rate('always', 64);
      rows.push({
        metric: 'audit headroom with appendfsync always: one node\'s append rate vs 3 records × the login bound',
        value: top,
        unit: 'appends/s',
        baseline: { label: '3 × argon2 bound', value: 3 * bound, unit: '/s' },
        ratio: top / (3 * bound),
        target: { op: '>=', value: 1, of: 'ratio' },
      });
    }
    return {
      rows,
      details: [
        `each figure: mean of ${ROUNDS} windows of ${win} ms, ABC/CBA order; one node (one ioredis client, the log's group commit batches what is in flight)`,
        `WAIT 1 1000 after every acknowledged append, on the appending connection: the record is in the replica's memory (not its disk) when the append counts`,
        `appends that failed: ${errors}; every chain verified after its window; logins that failed: ${loginErrors}${loginError ? ` (${loginError})` : ''}`,
      ],
    };
  },
};
