import { createHash } from 'node:crypto';
import type { AuditEvent } from '../../src/audit/record';
import { seededRandom } from '../../dev/seeded-random';
import { cardauth } from '../lib/cardauth';
import { forkChild } from '../lib/children';
import { Browser, HttpTarget } from '../lib/http';
import { freePort, startRedis } from '../lib/redis';
import { BENCH_PASSWORD, login, seed, uidFor } from '../lib/seed';
import { fmt, percentile } from '../lib/stats';
import type { Row, Section } from '../lib/types';

const RECORDS = 1_000_000;
const DAYS = 90;
const ACCOUNTS = 3000;
const WORKSTATIONS = 300;
/** Queries timed, each a different (account, day); as many /auth/session requests between them. */
const QUERIES = 400;
const TARGET_MS = 200;
const DAY_MS = 86_400_000;
const START = Date.parse('2026-08-01T00:00:00.000Z');

const accountId = (a: number) => `acc_${a.toString(16).padStart(20, '0')}`;

/**
 * The records of a clinic's 90 days, in the shapes the server writes, as events in time order: per
 * visit to a workstation a login (card, password, session, logout: 85 %), a wrong password (10 %),
 * an unknown card (3 %), or an officer's action or a lockout (2 %).
 */
function* clinicEvents(r: () => number): Generator<AuditEvent> {
  for (;;) {
    const a = Math.floor(r() * ACCOUNTS);
    const w = Math.floor(r() * WORKSTATIONS);
    const subject = { accountId: accountId(a), login: `doctor${a}` };
    const source = { agentId: `ag_${w.toString(16).padStart(16, '0')}`, ip: `10.${20 + (w >> 8)}.${w & 255}.${10 + (w % 7)}`, workstation: `РМ-${w} Кабинет ${w % 40}`, reader: 'ACS ACR122U PICC Interface 00 00' };
    const cardUid = uidFor(a);
    const p = r();
    if (p < 0.85) {
      const sessionIdHash = createHash('sha256').update(`s${a}-${r()}`).digest('hex');
      const userAgent = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36';
      yield { type: 'card.presented', outcome: 'success', subject, source, cardUid };
      yield { type: 'password.checked', outcome: 'success', subject, source, cardUid };
      yield { type: 'session.created', outcome: 'success', subject, source: { ...source, userAgent }, cardUid, sessionIdHash, details: { amr: 'sc pwd' } };
      yield { type: 'session.logout', outcome: 'success', subject, source: { ...source, userAgent }, sessionIdHash };
    } else if (p < 0.95) {
      yield { type: 'card.presented', outcome: 'success', subject, source, cardUid };
      yield { type: 'password.checked', outcome: 'failure', reason: 'wrong_password', subject, source, cardUid, details: { failures: 1 + Math.floor(r() * 4) } };
    } else if (p < 0.98) {
      yield { type: 'card.presented', outcome: 'failure', reason: 'unknown_card', source, cardUid: uidFor(100_000 + Math.floor(r() * 5000)) };
    } else if (p < 0.99) {
      yield { type: 'account.locked', outcome: 'success', subject, details: { failures: 5 } };
    } else {
      yield { type: 'card.bound', outcome: 'success', subject, actor: accountId(ACCOUNTS + 1), source: { ip: '10.1.1.1' }, cardUid };
    }
  }
}

/**
 * The 1M-record query of issue 11 §4. A million sealed, chained records of 90 days (3000
 * accounts, 300 workstations) are pipelined straight into `audit:log`, each with a stream id at
 * its `ts`; the indexer then catches up (its rate is reported); then an auditor, logged in by
 * card and password on a server child, asks `GET /admin/api/audit?account=…&since=DAY&until=DAY+1`
 * for a different account and day each time (each answer recorded as `audit.viewed` first, as
 * always), alternating with `GET /auth/session` on the same connection as the baseline. The
 * index job runs beside it, as in `cardauth serve`.
 */
export const auditQuerySection: Section = {
  id: 'audit-query',
  title: `audit query: one account, one day, through GET /admin/api/audit over ${RECORDS.toLocaleString('en-US')} records`,
  async run(ctx) {
    const { cleanup } = ctx;
    const redis = await startRedis(cleanup);
    const client = redis.client();
    const { sealRecordFields, GENESIS_PREV } = cardauth.auditRecord;

    ctx.log(`sealing and writing ${RECORDS} records of ${DAYS} days`);
    let t0 = performance.now();
    const r = seededRandom(11);
    const events = clinicEvents(r);
    const step = (DAYS * DAY_MS) / RECORDS;
    let prev = GENESIS_PREV;
    let ts = START;
    let lastId = 0;
    for (let seq = 1; seq <= RECORDS; ) {
      const pipe = client.pipeline();
      for (const end = Math.min(seq + 2000, RECORDS + 1); seq < end; seq++) {
        ts += Math.floor(r() * 2 * step);
        const { record, fields } = sealRecordFields(events.next().value as AuditEvent, { seq, prev, ts: new Date(ts).toISOString() });
        prev = record.hash;
        // Redis's clock a few ms off the node's.
        lastId = Math.max(lastId + 1, ts + Math.floor(r() * 40) - 20);
        pipe.xadd('audit:log', `${lastId}-0`, ...fields);
      }
      await pipe.exec();
    }
    const seedSec = (performance.now() - t0) / 1000;
    const lastTs = ts;

    ctx.log(`indexing`);
    t0 = performance.now();
    const indexer = cardauth.auditIndexer.createAuditIndexer({ redis: client });
    let indexed = 0;
    for (let n; (n = await indexer.step()) > 0; ) indexed += n;
    const indexSec = (performance.now() - t0) / 1000;
    const memory = /used_memory_human:(\S+)/.exec(await client.info('memory'))?.[1] ?? '?';
    ctx.log(`indexed ${indexed} in ${fmt(indexSec, 1)} s; Redis holds ${memory}`);

    const port = await freePort();
    const origin = `http://127.0.0.1:${port}`;
    const seeded = await seed({ redisUrl: redis.url, origin, count: 1, prefix: 'aq' });
    const auditor = { login: 'aq-auditor', uid: uidFor(999_998) };
    {
      const config = cardauth.config.loadServerConfig({ REDIS_URL: redis.url, CARDAUTH_PORT: String(port), CARDAUTH_PUBLIC_ORIGIN: origin, CARDAUTH_SESSION_SECRET: 'seed-only-secret-0123456789abcdefghij' });
      const s = cardauth.services.createServices({ redis: client, config, clock: { now: () => Date.now() } });
      const acc = await s.accounts.create({ login: auditor.login, displayName: 'Аудитор А. А.', roles: ['auditor'], passwordHash: await s.hasher.hash(BENCH_PASSWORD) });
      await s.cards.bind({ uid: auditor.uid, accountId: acc.id, by: 'os:bench' });
    }
    const job = cardauth.auditIndexJob.createIndexJob({ redis: client, indexer, logger: { info() {}, warn() {}, error: (e, f) => ctx.log(`index job: ${e} ${JSON.stringify(f)}`) } });
    job.start();
    cleanup.add('index job', () => job.stop());
    const app = await forkChild<{ url: string; origin: string }>(cleanup, 'servers/cardauth.js', { redisUrl: redis.url, port });
    const target = new HttpTarget(app.ready.url, 1);
    cleanup.add('http agent', () => target.close());
    const browser = new Browser(target, origin);
    await login(browser, seeded.agent, auditor, 'one-shot');

    const q = seededRandom(7);
    const query = () => {
      const day = new Date(START + Math.floor(q() * (Math.floor((lastTs - START) / DAY_MS) - 1)) * DAY_MS).toISOString().slice(0, 10);
      const until = new Date(Date.parse(day) + DAY_MS).toISOString().slice(0, 10);
      return `/admin/api/audit?account=${accountId(Math.floor(q() * ACCOUNTS))}&since=${day}&until=${until}`;
    };
    const timed = async (path: string) => {
      const t = performance.now();
      const res = await browser.getOk(path);
      return { ms: performance.now() - t, body: res.body };
    };
    for (let i = 0; i < 20; i++) await timed(query()); // warm-up
    await timed('/auth/session');
    const api: number[] = [];
    const session: number[] = [];
    let found = 0;
    for (let i = 0; i < QUERIES; i++) {
      const a = await timed(query());
      api.push(a.ms);
      found += (JSON.parse(a.body) as { entries: unknown[] }).entries.length;
      session.push((await timed('/auth/session')).ms);
    }
    const p = (xs: number[], n: number) => percentile(xs, n);
    const rows: Row[] = [
      {
        metric: `GET /admin/api/audit, one account × one day, p95 (${RECORDS / 1e6}M records)`,
        value: p(api, 95),
        unit: 'ms',
        baseline: { label: 'GET /auth/session p95', value: p(session, 95), unit: 'ms' },
        ratio: p(api, 95) / p(session, 95),
        target: { op: '<', value: TARGET_MS, of: 'value' },
        note: `${QUERIES} queries, each a different account and day, alternating with /auth/session; p50 ${fmt(p(api, 50), 1)} ms vs ${fmt(p(session, 50), 1)} ms`,
      },
      {
        metric: 'audit indexer catch-up',
        value: indexed / indexSec,
        unit: 'records/s',
        note: `${indexed} records in ${fmt(indexSec, 1)} s, one process, batches of 500`,
      },
    ];
    return {
      rows,
      details: [
        `seeded ${RECORDS} sealed records (${DAYS} days, ${ACCOUNTS} accounts, ${WORKSTATIONS} workstations) in ${fmt(seedSec, 1)} s; Redis used_memory after indexing ${memory}`,
        `records per answer: ${fmt(found / QUERIES, 1)} on average; the API's max ${fmt(Math.max(...api), 1)} ms, p99 ${fmt(p(api, 99), 1)} ms`,
      ],
    };
  },
};
