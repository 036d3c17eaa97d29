import { forkChild, profileChild } from '../lib/children';
import { profileBuckets } from '../lib/profile';
import { Browser, HttpTarget } from '../lib/http';
import { runFor, type LoadResult } from '../lib/load';
import { freePort, startRedis } from '../lib/redis';
import { BENCH_PASSWORD, login, seed, uidFor } from '../lib/seed';
import { cardauth } from '../lib/cardauth';
import { abba, fmt, median } from '../lib/stats';
import type { Row, Section } from '../lib/types';

const ACCOUNTS = 20_000;
const CARDS_PER_ACCOUNT = 2;
/** The page's answer time, p95, for an officer with a name prefix typed. */
const TARGET_MS = 100;
/** A few officers at once: the workbench is one department's, not a login storm. */
const CONNECTIONS = 4;
const SURNAMES = ['Иванов', 'Петров', 'Смирнов', 'Кузнецов', 'Попов', 'Васильев', 'Соколов', 'Михайлов', 'Новиков', 'Фёдоров', 'Морозов', 'Волков', 'Алексеев', 'Лебедев', 'Семёнов', 'Егоров', 'Павлов', 'Козлов', 'Степанов', 'Николаев'];
const FIRST = ['А.', 'Б.', 'В.', 'Г.', 'Д.', 'Е.', 'Ж.', 'И.', 'К.', 'Л.', 'М.', 'Н.', 'О.', 'П.', 'Р.', 'С.'];
/** What an officer types: a surname's first letters (a few hundred to a thousand matches each, 50 shown). */
const PREFIXES = ['Ива', 'Пет', 'Смир', 'Кузн', 'Поп', 'Вас', 'Сок', 'Мих', 'Нов', 'Фёд', 'Мор', 'Вол'];

/**
 * Writes the clinic's size straight into Redis through the real stores: ACCOUNTS accounts with
 * Russian names (surname, initials, a number) and two cards each, plus one security officer
 * with a card. One argon2 hash for all.
 */
async function seedClinic(redisUrl: string, origin: string): Promise<{ officer: { login: string; uid: string } }> {
  const config = cardauth.config.loadServerConfig({ REDIS_URL: redisUrl, CARDAUTH_PORT: new URL(origin).port, CARDAUTH_PUBLIC_ORIGIN: origin, CARDAUTH_SESSION_SECRET: 'seed-only-secret-0123456789abcdefghij' });
  const redis = cardauth.redis.connectRedis(redisUrl, { info() {}, warn() {}, error() {} });
  try {
    if (!(await cardauth.redis.whenReady(redis, 5000))) throw new Error('seed: redis not ready');
    const s = cardauth.services.createServices({ redis, config, clock: { now: () => Date.now() } });
    const passwordHash = await s.hasher.hash(BENCH_PASSWORD);
    for (let i = 0; i < ACCOUNTS; i += 64) {
      await Promise.all(
        Array.from({ length: Math.min(64, ACCOUNTS - i) }, async (_, k) => {
          const n = i + k;
          const name = `${SURNAMES[n % SURNAMES.length]}${n % 3 === 0 ? 'а' : ''} ${FIRST[n % FIRST.length]} ${FIRST[(n >> 4) % FIRST.length]} ${n}`;
          const acc = await s.accounts.create({ login: `wb${n}`, displayName: name, roles: ['clinician'], passwordHash });
          for (let c = 0; c < CARDS_PER_ACCOUNT; c++) await s.cards.bind({ uid: uidFor(1_000_000 + n * CARDS_PER_ACCOUNT + c), accountId: acc.id, by: 'os:bench' });
        }),
      );
    }
    const officer = { login: 'wb-officer', uid: uidFor(999_999) };
    const acc = await s.accounts.create({ login: officer.login, displayName: 'Офицер Б. Б.', roles: ['security_officer'], passwordHash });
    await s.cards.bind({ uid: officer.uid, accountId: acc.id, by: 'os:bench' });
    return { officer };
  } finally {
    redis.disconnect();
  }
}

export const workbenchSection: Section = {
  id: 'workbench',
  title: `the accounts page filtered by a name prefix (${ACCOUNTS.toLocaleString('en-US')} accounts, ${(ACCOUNTS * CARDS_PER_ACCOUNT).toLocaleString('en-US')} cards) vs GET /auth/session`,
  async run(ctx) {
    const { cleanup } = ctx;
    const redis = await startRedis(cleanup);
    const port = await freePort();
    const origin = `http://127.0.0.1:${port}`;
    // seed() makes the approved agent (and one clinician); the clinic comes after.
    const seeded = await seed({ redisUrl: redis.url, origin, count: 1, prefix: 'wbs' });
    ctx.log(`seeding ${ACCOUNTS} accounts and ${ACCOUNTS * CARDS_PER_ACCOUNT} cards`);
    const t0 = performance.now();
    const { officer } = await seedClinic(redis.url, origin);
    ctx.log(`seeded in ${fmt((performance.now() - t0) / 1000, 1)} s`);
    const app = await forkChild<{ url: string; origin: string }>(cleanup, 'servers/cardauth.js', { redisUrl: redis.url, port });
    const target = new HttpTarget(app.ready.url, CONNECTIONS);
    cleanup.add('http agent', () => target.close());
    // One officer's session, on every connection (as an officer's browser tabs).
    const browser = new Browser(target, origin);
    await login(browser, seeded.agent, officer, 'one-shot');

    let n = 0;
    const rows = { page: 0, pages: 0 };
    const page = async () => {
      const prefix = PREFIXES[n++ % PREFIXES.length]!;
      const res = await browser.getOk(`/admin/accounts?prefix=${encodeURIComponent(prefix)}`);
      rows.page += (res.body.match(/<th scope="row">/g) ?? []).length;
      rows.pages++;
    };
    const session = async () => {
      await browser.getOk('/auth/session');
    };
    // The first page marks the index built (the create script indexed every account; it walks the logins once).
    await page();
    if (rows.page !== 50) throw new Error(`the accounts page showed ${rows.page} rows for "${PREFIXES[0]}", not 50`);
    ctx.log(`warm-up ${ctx.ms(1.5)} ms each`);
    await runFor(ctx.ms(1.5), CONNECTIONS, page);
    await runFor(ctx.ms(1.5), CONNECTIONS, session);

    const runs = { page: [] as LoadResult[], session: [] as LoadResult[] };
    const pairs = 8;
    const win = ctx.ms(1);
    await abba(
      pairs,
      () => runFor(win, CONNECTIONS, page).then((r) => runs.page.push(r)),
      () => runFor(win, CONNECTIONS, session).then((r) => runs.session.push(r)),
      (i) => ctx.log(`pair ${i + 1}/${pairs}: page p95 ${fmt(runs.page[i]!.latencyMs.p95, 1)} ms, session p95 ${fmt(runs.session[i]!.latencyMs.p95, 1)} ms`),
    );
    const p95 = (rs: LoadResult[]) => median(rs.map((r) => r.latencyMs.p95));
    const pageP95 = p95(runs.page);
    const sessionP95 = p95(runs.session);
    const errors = [...runs.page, ...runs.session].reduce((a, r) => a + r.errors, 0);
    const firstError = [...runs.page, ...runs.session].find((r) => r.firstError)?.firstError;
    const row: Row = {
      metric: `accounts page, name prefix, p95 (${ACCOUNTS / 1000}k accounts, ${(ACCOUNTS * CARDS_PER_ACCOUNT) / 1000}k cards)`,
      value: pageP95,
      unit: 'ms',
      baseline: { label: 'GET /auth/session p95', value: sessionP95, unit: 'ms' },
      ratio: pageP95 / sessionP95,
      target: { op: '<', value: TARGET_MS, of: 'value' },
      note: `${CONNECTIONS} connections, one officer session, ${PREFIXES.length} prefixes in turn, 50 rows a page; ABBA ×${pairs / 2}, ${win / 1000} s each, median of window p95s; errors ${errors}`,
    };
    const details = [
      `accounts page: ${runs.page.map((r) => `${fmt(r.perSec)}/s p50 ${fmt(r.latencyMs.p50, 1)} p95 ${fmt(r.latencyMs.p95, 1)} ms`).join('; ')}`,
      `GET /auth/session: ${runs.session.map((r) => `${fmt(r.perSec)}/s p50 ${fmt(r.latencyMs.p50, 1)} p95 ${fmt(r.latencyMs.p95, 1)} ms`).join('; ')}`,
      `rows per page ${fmt(rows.page / Math.max(rows.pages, 1), 1)}; the worst window's p95 ${fmt(Math.max(...runs.page.map((r) => r.latencyMs.p95)), 1)} ms`,
    ];
    if (firstError) details.push(`first error: ${firstError}`);
    if (ctx.options.diagnose === true || (ctx.options.diagnose === 'auto' && pageP95 >= TARGET_MS)) {
      ctx.log(`diagnose: profiling the server, ${ctx.ms(3)} ms of the page`);
      const { result, profile } = await profileChild(app, () => runFor(ctx.ms(3), CONNECTIONS, page));
      const buckets = [...profileBuckets(profile, result.completed)].sort((a, b) => b[1] - a[1]);
      details.push(`profile (wall-clock samples of the JS thread) per page, ${fmt(buckets.reduce((a, [, ms]) => a + ms, 0), 2)} ms in all; largest:`, ...buckets.slice(0, 12).map(([k, ms]) => `  ${fmt(ms, 2).padStart(6)} ms  ${k}`));
    }
    return { rows: [row], details };
  },
};
