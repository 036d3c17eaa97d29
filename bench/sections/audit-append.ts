import type Redis from 'ioredis';
import type { AuditBatchStats } from '../../src/audit/log';
import type { AuditEventInput } from '../../src/audit/record';
import { cardauth } from '../lib/cardauth';
import { forkChild } from '../lib/children';
import type { AuditLeanResult, AuditNodeParams, AuditNodeResult, AuditTurnsRun } from '../workers/audit-append';
import { cpuMeter, type CpuReport } from '../lib/proc';
import { runFor, type LoadResult } from '../lib/load';
import { startRedis } from '../lib/redis';
import { fmt } from '../lib/stats';
import type { Row, Section } from '../lib/types';

const COMMAND = 'cardauthAuditAppend';
const IN_FLIGHT = 64;
const NODES = 4;
const PROC_IN_FLIGHT = 32;
const PROC_ROUNDS = 4;

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

/** What the append script did on one client: tries and their refusals (the head moved), fast paths sealed anew and their refusals (into the intake), intake compares and theirs. Counting only. */
function countScript(client: Redis) {
  const c = { tries: 0, triesRefused: 0, seals: 0, sealsRefused: 0, compares: 0, comparesRefused: 0 };
  const target = client as unknown as Record<string, (...args: unknown[]) => Promise<unknown>>;
  const orig = target[COMMAND];
  if (typeof orig !== 'function') throw new Error(`${COMMAND} not defined on the client (did createAuditLog change?)`);
  target[COMMAND] = async (...args: unknown[]) => {
    const reply = await orig.apply(client, args);
    const refused = Array.isArray(reply) && reply[0] === 0;
    // args: key, intake, expected hash, expected id, mode, n, ...
    if (args[4] === 'try') {
      c.tries++;
      if (refused) c.triesRefused++;
    } else if (args[4] === 'seal') {
      c.seals++;
      if (refused) c.sealsRefused++;
    } else if (Number(args[5]) > 0) {
      c.compares++;
      if (refused) c.comparesRefused++;
    }
    return reply;
  };
  return c;
}

/** Batches, records and compare rounds, from the log's `onBatch`. */
function batchCounter() {
  const c = { batches: 0, records: 0, rounds: 0, maxRounds: 0 };
  const onBatch = (b: AuditBatchStats) => {
    c.batches++;
    c.records += b.records;
    c.rounds += b.rounds;
    c.maxRounds = Math.max(c.maxRounds, b.rounds);
  };
  return { c, onBatch };
}

const pct = (a: number, b: number) => `${fmt((a / Math.max(b, 1)) * 100, 1)}%`;

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
      const batches = batchCounter();
      const logs = clients.map((c) => createAuditLog({ redis: c, clock, key, onBatch: batches.onBatch }));
      const counters = clients.map(countScript);
      const load = await runFor(win, nodes * perNode, (w) => logs[w % nodes]!.append(EVENT).then(() => undefined));
      const sum = counters.reduce((a, c) => ({
        tries: a.tries + c.tries,
        triesRefused: a.triesRefused + c.triesRefused,
        seals: a.seals + c.seals,
        sealsRefused: a.sealsRefused + c.sealsRefused,
        compares: a.compares + c.compares,
        comparesRefused: a.comparesRefused + c.comparesRefused,
      }));
      const verified = await cardauth.auditVerify.verifyAuditChain({ redis: clients[0]!, key });
      return { load, ...sum, ...batches.c, verified };
    };
    ctx.log(`audit append: one at a time, ${IN_FLIGHT} in flight on one node, ${NODES} nodes × ${IN_FLIGHT / NODES}`);
    const a1 = await appendRun('audit:bench1', 1, 1);
    const a64 = await appendRun('audit:bench64', 1, IN_FLIGHT);
    const aN = await appendRun('audit:benchN', NODES, IN_FLIGHT / NODES);

    // The issue's figure: 2 server processes at once vs bare pipelined XADD, both on a Redis with appendfsync always.
    // Beside it, the same 2 processes each on a chain of its own (no coordination at all, every batch one call that lands),
    // and as the lean writer (the least a chained append does: validate, seal, one script call per batch).
    const durable = await startRedis(cleanup, { appendfsync: 'always' });
    const procs = await Promise.all([0, 1].map(() => forkChild<null>(cleanup, 'workers/audit-append.js', { port: durable.port, inFlight: PROC_IN_FLIGHT } satisfies AuditNodeParams)));
    const durableXadd = durable.client();
    /** CPU µs per record: the named processes' threads plus redis-server, over what completed in the window. */
    const cpuPer = (report: CpuReport, completed: number) => (Object.values(report.procs).reduce((a, c) => a + c.main + c.other, 0) * 1000) / Math.max(completed, 1);
    const xaddAlways = async () => {
      const stop = cpuMeter({ client: process.pid, redis: durable.pid });
      const load = await runFor(win, IN_FLIGHT, async () => void (await durableXadd.xadd('bench:xaddAlways', '*', 'r', r, 'h', h)));
      return { load, cpuUs: cpuPer(stop(), load.completed) };
    };
    /** Both nodes run `method` for `ms` from the same instant, each on its key: the rate, and CPU µs per record written. */
    const both = async <T>(method: 'run' | 'lean' | 'turns', ms: number, keys: readonly [string, string], load: (n: T) => { perSec: number; completed: number }) => {
      const at = Date.now() + 200;
      // The nodes idle until `at`, so metering from here adds nothing but that wait's few µs.
      const stop = cpuMeter({ node0: procs[0]!.pid, node1: procs[1]!.pid, redis: durable.pid });
      const nodes = await Promise.all(procs.map((c, i) => c.call<T>(method, { ms, at, key: keys[i]!, other: keys[1 - i]!, first: i === 0 } satisfies AuditTurnsRun)));
      const cpuUs = cpuPer(stop(), nodes.reduce((a, n) => a + load(n).completed, 0));
      return { nodes, perSec: nodes.reduce((a, n) => a + load(n).perSec, 0), cpuUs };
    };
    const procRun = (ms: number, keys: readonly [string, string]) => both<AuditNodeResult>('run', ms, keys, (n) => n.load);
    const leanRun = (ms: number) => both<AuditLeanResult>('lean', ms, LEAN, (n) => n);
    const turnsRun = (ms: number) => both<AuditLeanResult>('turns', ms, TURNS, (n) => n);
    const SHARED = ['audit:procs', 'audit:procs'] as const;
    const OWN = ['audit:own0', 'audit:own1'] as const;
    const LEAN = ['audit:lean0', 'audit:lean1'] as const;
    const TURNS = ['audit:turns0', 'audit:turns1'] as const;
    await procRun(ctx.ms(0.5), SHARED); // warm-up
    ctx.log(`appendfsync always: XADD ${IN_FLIGHT} in flight / 2 processes × ${PROC_IN_FLIGHT} in flight on one chain / the same on a chain each / the lean writer / the lean writer taking turns, ${PROC_ROUNDS} rounds, order reversed every other, ${win} ms each`);
    const xAlways: Array<Awaited<ReturnType<typeof xaddAlways>>> = [];
    const pRuns: Array<Awaited<ReturnType<typeof procRun>>> = [];
    const oRuns: Array<Awaited<ReturnType<typeof procRun>>> = [];
    const lRuns: Array<Awaited<ReturnType<typeof leanRun>>> = [];
    const tRuns: Array<Awaited<ReturnType<typeof turnsRun>>> = [];
    for (let round = 0; round < PROC_ROUNDS; round++) {
      const steps = [
        async () => xAlways.push(await xaddAlways()),
        async () => pRuns.push(await procRun(win, SHARED)),
        async () => oRuns.push(await procRun(win, OWN)),
        async () => lRuns.push(await leanRun(win)),
        async () => tRuns.push(await turnsRun(win)),
      ];
      for (const step of round % 2 === 0 ? steps : steps.reverse()) await step();
    }
    const procVerified = await cardauth.auditVerify.verifyAuditChain({ redis: durableXadd, key: 'audit:procs' });
    const ownVerified = await Promise.all([...OWN, ...LEAN, ...TURNS].map((key) => cardauth.auditVerify.verifyAuditChain({ redis: durableXadd, key })));
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(xs.length, 1);
    const procRate = mean(pRuns.map((run) => run.perSec));
    const ownRate = mean(oRuns.map((run) => run.perSec));
    const leanRate = mean(lRuns.map((run) => run.perSec));
    const turnsRate = mean(tRuns.map((run) => run.perSec));
    const tCpu = mean(tRuns.map((x) => x.cpuUs));
    const lCpu = mean(lRuns.map((x) => x.cpuUs));
    const xAlwaysRate = mean(xAlways.map((x) => x.load.perSec));
    const xCpu = mean(xAlways.map((x) => x.cpuUs));
    const pCpu = mean(pRuns.map((x) => x.cpuUs));
    const oCpu = mean(oRuns.map((x) => x.cpuUs));
    const procAll = pRuns.flatMap((run) => run.nodes);
    const procSum = (k: 'batches' | 'records' | 'rounds' | 'calls') => procAll.reduce((a, n) => a + n[k], 0);
    const procErrors = [...procAll, ...oRuns.flatMap((run) => run.nodes)].reduce((a, n) => a + n.load.errors, 0);

    // What a record costs before it is written, whatever the protocol: validation, canonical members, the seal (SHA-256). One thread.
    const { parseAuditInput, canonicalMembers, sealRecordFields, GENESIS_PREV } = cardauth.auditRecord;
    const microUs = (f: () => unknown, n = 20000) => {
      for (let i = 0; i < 2000; i++) f();
      const t = performance.now();
      for (let i = 0; i < n; i++) f();
      return ((performance.now() - t) * 1000) / n;
    };
    const parsed = parseAuditInput(EVENT);
    const members = canonicalMembers(parsed);
    const validateUs = microUs(() => parseAuditInput(EVENT));
    const membersUs = microUs(() => canonicalMembers(parsed));
    const sealUs = microUs(() => sealRecordFields(parsed, { seq: 2, prev: GENESIS_PREV, ts: '2026-03-01T08:00:00.000Z' }, members));
    const beforeWriteUs = validateUs + membersUs + sealUs;

    const note = (a: { load: LoadResult; batches: number; records: number; rounds: number; maxRounds: number; tries: number; triesRefused: number; seals: number; sealsRefused: number; compares: number; comparesRefused: number }) =>
      `${fmt(a.records / Math.max(a.batches, 1), 1)} records/batch, head moved under the try ${pct(a.triesRefused, a.tries)}, sealed anew and refused ${pct(a.sealsRefused, a.seals)}, intake compares refused ${pct(a.comparesRefused, a.compares)}, ${fmt(a.rounds / Math.max(a.batches, 1), 2)} rounds/batch (max ${a.maxRounds}), p50 ${fmt(a.load.latencyMs.p50, 2)} ms`;
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
    rows.push(
      {
        metric: `audit append from 2 processes × ${PROC_IN_FLIGHT} in flight vs bare XADD ${IN_FLIGHT} in flight, appendfsync always`,
        value: procRate,
        unit: 'appends/s',
        baseline: { label: 'XADD', value: xAlwaysRate, unit: '/s' },
        ratio: procRate / xAlwaysRate,
        target: { op: '>=', value: 0.5, of: 'ratio' },
        note: `mean of ${PROC_ROUNDS} rounds; ${fmt(procSum('records') / Math.max(procSum('batches'), 1), 1)} records/batch, ${fmt(procSum('rounds') / Math.max(procSum('batches'), 1), 2)} compare rounds/batch (max ${Math.max(...procAll.map((n) => n.maxRounds))}), ${fmt(procSum('calls') / Math.max(procSum('batches'), 1), 2)} script calls/batch; CPU ${fmt(pCpu, 1)} µs/append (both nodes + redis) vs ${fmt(xCpu, 1)} µs/XADD (client + redis)`,
      },
      {
        metric: `the same 2 processes, each on a chain of its own (no coordination: every batch one call) vs bare XADD`,
        value: ownRate,
        unit: 'appends/s',
        baseline: { label: 'XADD', value: xAlwaysRate, unit: '/s' },
        ratio: ownRate / xAlwaysRate,
        note: `the ceiling of this append path with the coordination taken away; CPU ${fmt(oCpu, 1)} µs/append`,
      },
      {
        metric: `the least a chained append can do, 2 processes × ${PROC_IN_FLIGHT}: validate, seal, one script call per batch, a chain each vs bare XADD`,
        value: leanRate,
        unit: 'records/s',
        baseline: { label: 'XADD', value: xAlwaysRate, unit: '/s' },
        ratio: leanRate / xAlwaysRate,
        note: `no compare, no intake, no queue (workers/audit-append.ts lean): a bound for any protocol on one shared chain, which adds coordination to this; CPU ${fmt(lCpu, 1)} µs/record`,
      },
      {
        metric: `the lean writer taking turns, 2 processes × ${PROC_IN_FLIGHT}: each seals its batch only once the other's has landed vs bare XADD`,
        value: turnsRate,
        unit: 'records/s',
        baseline: { label: 'XADD', value: xAlwaysRate, unit: '/s' },
        ratio: turnsRate / xAlwaysRate,
        note: `one shared chain whose nodes coordinate only through Redis, at no cost (workers/audit-append.ts turns): the head another node wrote is known only from a reply, which leaves after the fsync; ${fmt(turnsRate / leanRate, 3)} of the lean writer; CPU ${fmt(tCpu, 1)} µs/record`,
      },
      {
        metric: 'CPU per record: bare XADD vs append on one chain / on a chain each (nodes + redis)',
        value: xCpu,
        unit: 'µs/XADD',
        baseline: { label: 'append, one chain', value: pCpu, unit: 'µs' },
        ratio: xCpu / pCpu,
        note: `a chain each: ${fmt(xCpu / oCpu, 3)} (${fmt(oCpu, 1)} µs); the throughput ratios above follow these: the runs share 2 cores`,
      },
      {
        metric: 'CPU to validate and seal one record (no write) vs a whole bare XADD',
        value: beforeWriteUs,
        unit: 'µs',
        baseline: { label: 'XADD, client + redis', value: xCpu, unit: 'µs' },
        ratio: beforeWriteUs / xCpu,
        note: `validation ${fmt(validateUs, 1)} + canonical members ${fmt(membersUs, 1)} + seal (SHA-256) ${fmt(sealUs, 1)} µs, one thread: the work any chained append does before writing`,
      },
    );
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
        `script calls (tries / refused, sealed anew / refused, intake compares / refused): one at a time ${a1.tries}/${a1.triesRefused}, ${a1.seals}/${a1.sealsRefused}, ${a1.compares}/${a1.comparesRefused}; 1 node ${a64.tries}/${a64.triesRefused}, ${a64.seals}/${a64.sealsRefused}, ${a64.compares}/${a64.comparesRefused}; ${NODES} nodes ${aN.tries}/${aN.triesRefused}, ${aN.seals}/${aN.sealsRefused}, ${aN.compares}/${aN.comparesRefused}; appends that failed: ${a1.load.errors + a64.load.errors + aN.load.errors}${aN.load.firstError ? ` (${aN.load.firstError})` : ''}`,
        chain('one at a time', a1.verified),
        chain('1 node', a64.verified),
        chain(`${NODES} nodes`, aN.verified),
        `2 processes, appendfsync always: one chain ${pRuns.map((run) => run.nodes.map((n) => fmt(n.load.perSec)).join(' + ')).join(', ')}; a chain each ${oRuns.map((run) => run.nodes.map((n) => fmt(n.load.perSec)).join(' + ')).join(', ')}; lean ${lRuns.map((run) => run.nodes.map((n) => fmt(n.perSec)).join(' + ')).join(', ')}; turns ${tRuns.map((run) => run.nodes.map((n) => fmt(n.perSec)).join(' + ')).join(', ')} appends/s per round vs XADD ${xAlways.map((x) => fmt(x.load.perSec)).join(', ')}/s; appends that failed: ${procErrors}${procAll.find((n) => n.load.firstError)?.load.firstError ?? ''}`,
        chain('2 processes', procVerified),
        ...[...OWN, ...LEAN, ...TURNS].map((key, i) => chain(key, ownVerified[i]!)),
      ],
    };
  },
};
