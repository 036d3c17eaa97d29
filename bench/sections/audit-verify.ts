import type { AuditEventInput } from '../../src/audit/record';
import { cardauth } from '../lib/cardauth';
import { startRedis } from '../lib/redis';
import { fmt, median } from '../lib/stats';
import type { Section } from '../lib/types';

const RECORDS = 200_000;
/** A checkpoint every this many records (CARDAUTH_AUDIT_CHECKPOINT_RECORDS' default). */
const EVERY = 1000;
/** XRANGE batch: the verifier's default. */
const BATCH = 1000;
const RUNS = 3;

/** A login's records, in turn (the same sizes as the audit section's). */
const EVENTS: AuditEventInput[] = [
  { type: 'card.presented', outcome: 'success', subject: { accountId: 'acc_0123456789abcdef0123', login: 'ivanova.m' }, source: { ip: '10.20.30.40', agentId: 'agt_0123456789abcdef0123', reader: 'ACS ACR122U PICC Interface 00 00', workstation: 'РМ-101 Кабинет 12' }, cardUid: '04A22BB25C6180' },
  { type: 'password.checked', outcome: 'success', subject: { accountId: 'acc_0123456789abcdef0123', login: 'ivanova.m' }, source: { ip: '10.20.30.40', agentId: 'agt_0123456789abcdef0123' }, cardUid: '04A22BB25C6180' },
  {
    type: 'session.created',
    outcome: 'success',
    subject: { accountId: 'acc_0123456789abcdef0123', login: 'ivanova.m' },
    source: { ip: '10.20.30.40', userAgent: 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36', agentId: 'agt_0123456789abcdef0123', workstation: 'РМ-101 Кабинет 12' },
    cardUid: '04A22BB25C6180',
    sessionId: 'pJx0s3b0cRk2bq2Jm1D7x2WqAqQbFz8e',
    details: { amr: 'sc pwd' },
  },
];

/**
 * `cardauth audit verify`'s walk (verifyAuditChain with the checkpoints' public keys) over a
 * 200,000-record chain with a signed checkpoint every 1000 records, vs a bare XRANGE read of the
 * same stream in the same batches (the floor: Redis and ioredis alone). Alternating runs, median.
 */
export const auditVerifySection: Section = {
  id: 'audit-verify',
  title: 'audit verify speed (chain + signed checkpoints) vs bare XRANGE of the same stream',
  async run(ctx) {
    const redis = await startRedis(ctx.cleanup);
    const client = redis.client();
    const { parseAuditInput, sealRecordFields, GENESIS_PREV } = cardauth.auditRecord;
    const { signCheckpoint, CHECKPOINTS_KEY } = cardauth.auditCheckpoint;
    const key = await cardauth.auditKeys.generateAuditKey();
    const { keys: publicKeys } = cardauth.auditKeys.publicAuditJwks({ keys: [key] });

    ctx.log(`writing ${RECORDS} records, a checkpoint every ${EVERY}`);
    const events = EVENTS.map(parseAuditInput);
    let prev = GENESIS_PREV;
    let t = Date.parse('2026-03-01T08:00:00.000Z');
    for (let seq = 1; seq <= RECORDS; seq += BATCH) {
      const pipe = client.pipeline();
      for (let s = seq; s < seq + BATCH && s <= RECORDS; s++) {
        const { record, fields } = sealRecordFields(events[s % events.length]!, { seq: s, prev, ts: new Date((t += 50)).toISOString() });
        pipe.xadd('audit:log', '*', ...fields);
        prev = record.hash;
        if (s % EVERY === 0) pipe.xadd(CHECKPOINTS_KEY, '*', 'jws', await signCheckpoint(key, { seq: s, headHash: record.hash, time: new Date(t + 1).toISOString() }));
      }
      await pipe.exec();
    }

    const bare = async () => {
      let start = '-';
      let n = 0;
      for (;;) {
        const entries = await client.xrange('audit:log', start, '+', 'COUNT', BATCH);
        n += entries.length;
        const last = entries[entries.length - 1];
        if (!last || entries.length < BATCH) return n;
        start = `(${last[0]}`;
      }
    };
    const verify = async (withKeys: boolean) => {
      const r = await cardauth.auditVerify.verifyAuditChain({ redis: client, batch: BATCH, ...(withKeys ? { checkpointKeys: publicKeys } : {}) });
      if (!r.ok) throw new Error(`the bench chain does not verify: ${JSON.stringify(r.firstBroken)}`);
      return r.count;
    };
    const timed = async (f: () => Promise<number>) => {
      const t0 = performance.now();
      const n = await f();
      return n / ((performance.now() - t0) / 1000);
    };

    const bareRates: number[] = [];
    const verifyRates: number[] = [];
    const chainOnlyRates: number[] = [];
    await verify(true); // warm-up: JIT, the key import
    for (let i = 0; i < RUNS; i++) {
      ctx.log(`run ${i + 1}/${RUNS}: bare XRANGE, verify, verify without checkpoints`);
      bareRates.push(await timed(bare));
      verifyRates.push(await timed(() => verify(true)));
      chainOnlyRates.push(await timed(() => verify(false)));
    }
    const v = median(verifyRates);
    const b = median(bareRates);
    const c = median(chainOnlyRates);
    return {
      rows: [
        {
          metric: `audit verify, ${RECORDS / 1000}k records + ${RECORDS / EVERY} checkpoints`,
          value: v,
          unit: 'records/s',
          baseline: { label: 'bare XRANGE', value: b, unit: 'records/s' },
          ratio: v / b,
          target: { op: '>=', value: 200_000, of: 'value' },
          note: `median of ${RUNS}`,
        },
      ],
      details: [
        `verify with checkpoints ${verifyRates.map((r) => fmt(r)).join(', ')} records/s; bare XRANGE ${bareRates.map((r) => fmt(r)).join(', ')}; chain only (no keys) ${chainOnlyRates.map((r) => fmt(r)).join(', ')}`,
        `chain only / with checkpoints: ${fmt(c / v, 2)}; XRANGE batch ${BATCH}`,
      ],
    };
  },
};
