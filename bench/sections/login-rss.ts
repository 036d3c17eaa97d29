import { forkChild } from '../lib/children';
import { Browser, HttpTarget } from '../lib/http';
import { CORES, procMemory } from '../lib/proc';
import { freePort, startRedis } from '../lib/redis';
import { login, seed } from '../lib/seed';
import { fmt, percentile } from '../lib/stats';
import type { Section } from '../lib/types';

const AT_ONCE = 200;
const TARGET_MIB = 300;

export const loginRssSection: Section = {
  id: 'rss',
  title: `peak RSS of the server while ${AT_ONCE} logins run at once`,
  async run(ctx) {
    const { cleanup } = ctx;
    const redis = await startRedis(cleanup);
    const port = await freePort();
    const origin = `http://127.0.0.1:${port}`;
    ctx.log(`seeding ${AT_ONCE} accounts + cards`);
    const seeded = await seed({ redisUrl: redis.url, origin, count: AT_ONCE, prefix: 'rss' });
    // A fresh server process, so VmHWM (peak since start) covers only this.
    const server = await forkChild<{ url: string }>(cleanup, 'servers/cardauth.js', { redisUrl: redis.url, port });
    const target = new HttpTarget(server.ready.url, AT_ONCE);
    cleanup.add('http agent', () => target.close());
    const browsers = seeded.users.map(() => new Browser(target, origin));

    // A few logins first so the code is loaded and argon2's pool threads exist.
    for (let i = 0; i < 4; i++) await login(browsers[i]!, seeded.agent, seeded.users[i]!, 'one-shot');
    const warm = procMemory(server.pid);

    let peakRss = warm.rssMiB;
    const poll = setInterval(() => {
      peakRss = Math.max(peakRss, procMemory(server.pid).rssMiB);
    }, 10);
    const t0 = performance.now();
    const lat: number[] = [];
    const errors: string[] = [];
    await Promise.all(
      browsers.map(async (b, i) => {
        const s = performance.now();
        try {
          await login(b, seeded.agent, seeded.users[i]!, 'one-shot');
          lat.push(performance.now() - s);
        } catch (err) {
          errors.push(err instanceof Error ? err.message : String(err));
        }
      }),
    );
    const wall = performance.now() - t0;
    clearInterval(poll);
    const after = procMemory(server.pid);
    await server.stop();

    return {
      rows: [
        {
          metric: `server peak RSS (VmHWM), ${AT_ONCE} logins at once`,
          value: after.hwmMiB,
          unit: 'MiB',
          baseline: { label: 'VmHWM after 4 warm-up logins', value: warm.hwmMiB, unit: 'MiB' },
          ratio: after.hwmMiB / warm.hwmMiB,
          target: { op: '<', value: TARGET_MIB, of: 'value' },
          note: `${AT_ONCE - errors.length}/${AT_ONCE} ok in ${fmt(wall / 1000, 2)} s`,
        },
      ],
      details: [
        `VmRSS: ${fmt(warm.rssMiB, 1)} MiB before, peak sampled every 10 ms ${fmt(peakRss, 1)} MiB, ${fmt(after.rssMiB, 1)} MiB after; VmHWM ${fmt(warm.hwmMiB, 1)} → ${fmt(after.hwmMiB, 1)} MiB (/proc/${server.pid}/status)`,
        `login latency with ${AT_ONCE} at once: p50 ${fmt(percentile(lat, 50), 0)} ms, p90 ${fmt(percentile(lat, 90), 0)} ms, max ${fmt(percentile(lat, 100), 0)} ms (argon2 queue: CARDAUTH_HASH_CONCURRENCY = ${seeded.config.CARDAUTH_HASH_CONCURRENCY || `${CORES} (0 = cores)`})`,
        ...(errors.length ? [`${errors.length} failed; first: ${errors[0]}`] : []),
      ],
    };
  },
};
