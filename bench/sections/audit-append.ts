import type Redis from 'ioredis';
import type { AuditEventInput } from '../../src/audit/record';
import { cardauth } from '../lib/cardauth';
import { runFor, type LoadResult } from '../lib/load';
import { startRedis } from '../lib/redis';
import { fmt } from '../lib/stats';
import type { Row, Section } from '../lib/types';

const COMMAND = 'cardauthAuditAppend';
const IN_FLIGHT = 64;
const NODES = 4;

/** A session.created event as a login writes it (the largest of a login's three records). */
export const EVENT: AuditEventInput = {
  type: 'session.created',
  outcome: 'success',
  subject: { accountId: 'acc_0123456789abcdef0123', login: 'ivanova.m' },
  source: {
    ip: '10.20.30.40',
    userAgent: 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36',
    agentId: 'agt_0123456789abcdef0123',
    reader: 'ACS ACR122U PICC Interface 00 00',
    workstation: 'РМ-101 Кабинет 12',
  },
  cardUid: '04A22BB25C6180',
  sessionId: 'pJx0s3b0cRk2bq2Jm1D7x2WqAqQbFz8e',
  details: { amr: 'sc pwd' },
};

/** Counts compare-and-append script calls, refused compares (another node moved the head) and records written. Counting only. */
function countScript(client: Redis) {
  const c = { calls: 0, conflicts: 0, records: 0 };
  const target = client as unknown as Record<string, (...args: string[]) => Promise<unknown>>;
  const orig = target[COMMAND];
  if (typeof orig !== 'function') throw new Error(`${COMMAND} not defined on the client (did createAuditLog change?)`);
  target[COMMAND] = async (...args: string[]) => {
    c.calls++;
    const reply = await orig.apply(client, args);
    if (Array.isArray(reply) && reply[0] === 0) c.conflicts++;
    else c.records += (args.length - 2) / 2;
    return reply;
  };
  return c;
}

export const auditAppendSection: Section = {
  id: 'audit',
  title: 'audit chain compare-and-append vs bare Redis XADD',
  async run(ctx) {
    const { cleanup } = ctx;
    const redis = await startRedis(cleanup);
    const clock = { now: () => Date.now() };
    const { createAuditLog } = cardauth.auditLog;

    // Bare XADDs carry fields as large as a real record's.
    const probe = redis.client();
    const first = createAuditLog({ redis: probe, clock, key: 'audit:probe' });
    await first.append(EVENT);
    const [[, fields]] = (await probe.xrevrange('audit:probe', '+', '-', 'COUNT', 1)) as [[string, string[]]];
    const r = fields[fields.indexOf('r') + 1]!;
    const h = fields[fields.indexOf('h') + 1]!;

    const win = ctx.ms(2);
    const xaddClient = redis.client();
    const xadd = (key: string) => async () => {
      await xaddClient.xadd(key, '*', 'r', r, 'h', h);
    };
    ctx.log(`XADD one at a time / ${IN_FLIGHT} in flight, ${win} ms each`);
    const x1 = await runFor(win, 1, xadd('bench:xadd1'));
    const x64 = await runFor(win, IN_FLIGHT, xadd('bench:xadd64'));

    const appendRun = async (key: string, nodes: number, perNode: number) => {
      const clients = Array.from({ length: nodes }, () => redis.client());
      const logs = clients.map((c) => createAuditLog({ redis: c, clock, key }));
      const counters = clients.map(countScript);
      const load = await runFor(win, nodes * perNode, (w) => logs[w % nodes]!.append(EVENT).then(() => undefined));
      const sum = counters.reduce((a, c) => ({ calls: a.calls + c.calls, conflicts: a.conflicts + c.conflicts, records: a.records + c.records }), { calls: 0, conflicts: 0, records: 0 });
      const verified = await cardauth.auditVerify.verifyAuditChain({ redis: clients[0]!, key });
      return { load, ...sum, verified };
    };
    ctx.log(`audit append: one at a time, ${IN_FLIGHT} in flight on one node, ${NODES} nodes × ${IN_FLIGHT / NODES}`);
    const a1 = await appendRun('audit:bench1', 1, 1);
    const a64 = await appendRun('audit:bench64', 1, IN_FLIGHT);
    const aN = await appendRun('audit:benchN', NODES, IN_FLIGHT / NODES);

    const note = (a: { load: LoadResult; calls: number; conflicts: number; records: number }) =>
      `${fmt(a.records / Math.max(a.calls - a.conflicts, 1), 1)} records/batch, ${fmt((a.conflicts / Math.max(a.calls, 1)) * 100, 1)}% compares refused, p50 ${fmt(a.load.latencyMs.p50, 2)} ms`;
    const rows: Row[] = [
      {
        metric: 'audit append, one at a time vs XADD one at a time',
        value: a1.load.perSec,
        unit: 'appends/s',
        baseline: { label: 'XADD', value: x1.perSec, unit: '/s' },
        ratio: a1.load.perSec / x1.perSec,
        note: note(a1),
      },
      {
        metric: `audit append, ${IN_FLIGHT} in flight, 1 node vs XADD ${IN_FLIGHT} in flight`,
        value: a64.load.perSec,
        unit: 'appends/s',
        baseline: { label: 'XADD', value: x64.perSec, unit: '/s' },
        ratio: a64.load.perSec / x64.perSec,
        note: note(a64),
      },
      {
        metric: `audit append, ${NODES} nodes × ${IN_FLIGHT / NODES} in flight vs XADD ${IN_FLIGHT} in flight`,
        value: aN.load.perSec,
        unit: 'appends/s',
        baseline: { label: 'XADD', value: x64.perSec, unit: '/s' },
        ratio: aN.load.perSec / x64.perSec,
        note: note(aN),
      },
    ];
    const bound = ctx.shared.boundPerSec;
    if (bound) {
      rows.push({
        metric: `audit headroom: ${NODES}-node append rate vs ${NODES} nodes at the login bound`,
        value: aN.load.perSec,
        unit: 'appends/s',
        baseline: { label: `${NODES} nodes × 3 records × argon2 bound`, value: NODES * 3 * bound, unit: '/s' },
        ratio: aN.load.perSec / (NODES * 3 * bound),
        target: { op: '>=', value: 1, of: 'ratio' },
        note: `a login writes 3 records; the ${NODES} "nodes" here share one process`,
      });
    }
    const chain = (name: string, v: Awaited<ReturnType<typeof appendRun>>['verified']) =>
      `${name}: ${v.ok ? `chain verifies, ${v.count} records` : `CHAIN BROKEN at ${v.firstBroken.id} (${v.firstBroken.reason}) after ${v.count}`}`;
    return {
      rows,
      details: [
        `record fields: r ${Buffer.byteLength(r)} B, h ${h.length} B; redis appendonly yes, appendfsync everysec`,
        `XADD: one at a time ${fmt(x1.perSec)}/s (p50 ${fmt(x1.latencyMs.p50, 3)} ms), ${IN_FLIGHT} in flight ${fmt(x64.perSec)}/s`,
        `script calls: one at a time ${a1.calls}, 1 node ${a64.calls} (${a64.conflicts} refused), ${NODES} nodes ${aN.calls} (${aN.conflicts} refused), appends that failed: ${a1.load.errors + a64.load.errors + aN.load.errors}${aN.load.firstError ? ` (${aN.load.firstError})` : ''}`,
        chain('one at a time', a1.verified),
        chain('1 node', a64.verified),
        chain(`${NODES} nodes`, aN.verified),
      ],
    };
  },
};
