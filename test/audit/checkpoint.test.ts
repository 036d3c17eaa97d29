import type { JWK } from 'jose';
import { CHECKPOINTS_KEY, createCheckpointWriter, signCheckpoint } from '../../src/audit/checkpoint';
import { generateAuditKey, publicAuditJwks } from '../../src/audit/keys';
import { createAuditLog, type AuditLog } from '../../src/audit/log';
import { canonicalJson, parseAuditInput, sealRecord, toStreamFields } from '../../src/audit/record';
import { verifyAuditChain } from '../../src/audit/verify';
import { manualClock } from '../helpers/app';
import { suiteRedis } from '../helpers/redis';

// Each tamper kind made in Redis directly (XADD, XDEL, XTRIM, DEL) on a 10-record chain with
// signed checkpoints at seq 5 and 10, then judged by verifyAuditChain with the public keys.

type Entry = [id: string, fields: string[]];
const redis = suiteRedis();
let key: JWK;
let keys: JWK[];
let clock: ReturnType<typeof manualClock>;
let log: AuditLog;
/** The checkpoints' stream ids, in order (at seq 5, at seq 10). */
let cps: string[];

const entries = (): Promise<Entry[]> => redis().xrange('audit:log', '-', '+');
const verify = (opts: { keys?: JWK[]; batch?: number } = {}) => verifyAuditChain({ redis: redis(), checkpointKeys: opts.keys ?? keys, ...(opts.batch ? { batch: opts.batch } : {}) });
const append = (n: number, login = 'ivanova') =>
  (async () => {
    for (let i = 0; i < n; i++) {
      clock.advance(1000);
      await log.append({ type: 'password.checked', outcome: 'failure', reason: 'wrong_password', subject: { login } });
    }
  })();
/** Rewrites the stream whole with these entries, keeping their ids (a stream entry cannot be changed in place). */
async function rewrite(list: readonly Entry[]): Promise<void> {
  await redis().del('audit:log');
  for (const [id, fields] of list) await redis().xadd('audit:log', id, ...fields);
}
const bodyOf = (e: Entry) => JSON.parse(e[1][1] as string) as Record<string, unknown>;

beforeAll(async () => {
  key = await generateAuditKey();
  keys = publicAuditJwks({ keys: [key] }).keys;
});
beforeEach(async () => {
  clock = manualClock(Date.parse('2026-03-01T08:00:00.000Z'));
  log = createAuditLog({ redis: redis(), clock });
  const writer = createCheckpointWriter({ redis: redis(), clock, keys: [key] });
  await append(5);
  clock.advance(1000);
  await writer.write();
  await append(5);
  clock.advance(1000);
  await writer.write();
  cps = (await redis().xrange(CHECKPOINTS_KEY, '-', '+')).map(([id]) => id);
  expect(cps).toHaveLength(2);
});

describe('verifyAuditChain with checkpoints: success', () => {
  it('an intact chain: ok, both checkpoints verified, nothing unprotected; records after the last are counted unprotected', async () => {
    expect(await verify()).toMatchObject({ ok: true, count: 10, head: { seq: 10 }, checkpoints: { count: 2, last: { seq: 10, kid: key.kid, time: '2026-03-01T08:00:12.000Z' }, unprotected: 0 } });
    await append(2);
    expect(await verify()).toMatchObject({ ok: true, count: 12, checkpoints: { count: 2, last: { seq: 10 }, unprotected: 2 } });
  });

  it('without keys the checkpoints are not checked (no summary)', async () => {
    const r = await verifyAuditChain({ redis: redis() });
    expect(r).toEqual({ ok: true, count: 10, head: expect.objectContaining({ seq: 10 }) });
  });

  it('the checkpoints are checked across XRANGE batches too', async () => {
    expect(await verify({ batch: 3 })).toMatchObject({ ok: true, count: 10, checkpoints: { count: 2 } });
  });
});

describe('verifyAuditChain with checkpoints: each tamper kind', () => {
  it('a record edited (its text changed): record_edited, hash_mismatch at that record', async () => {
    const list = await entries();
    const e = list[2] as Entry;
    list[2] = [e[0], ['r', canonicalJson({ ...bodyOf(e), outcome: 'success' }), 'h', e[1][3] as string]];
    await rewrite(list);
    expect(await verify()).toEqual({ ok: false, count: 2, firstBroken: { kind: 'record_edited', reason: 'hash_mismatch', seq: 3, id: e[0] } });
  });

  it('records edited and the chain re-hashed from there on (consistent, no key): record_edited at the first checkpoint, which only the signature shows', async () => {
    const list = await entries();
    let prev = (list[1] as Entry)[1][3] as string;
    const forged: Entry[] = list.map((e, i) => {
      if (i < 2) return e;
      const { hash: _h, ...body } = { ...bodyOf(e), prev, ...(i === 2 ? { subject: { login: 'petrov' } } : {}) } as Record<string, unknown>;
      const rec = sealRecord(parseAuditInput({ type: 'password.checked', outcome: 'failure', reason: 'wrong_password', subject: (body.subject as { login: string }) }), { seq: body.seq as number, prev, ts: body.ts as string });
      prev = rec.hash;
      return [e[0], toStreamFields(rec)];
    });
    await rewrite(forged);
    expect((await verifyAuditChain({ redis: redis() })).ok).toBe(true); // the chain alone cannot tell
    expect(await verify()).toEqual({ ok: false, count: 4, firstBroken: { kind: 'record_edited', reason: 'checkpoint_mismatch', seq: 5, id: (list[4] as Entry)[0], checkpointId: cps[0] } });
  });

  it('a record deleted (XDEL): record_deleted, seq_gap at the record after it', async () => {
    const list = await entries();
    expect(await redis().xdel('audit:log', (list[3] as Entry)[0])).toBe(1);
    expect(await verify()).toEqual({ ok: false, count: 3, firstBroken: { kind: 'record_deleted', reason: 'seq_gap', seq: 5, id: (list[4] as Entry)[0] } });
  });

  it('the oldest records trimmed (XTRIM MAXLEN): record_deleted at the first left', async () => {
    const list = await entries();
    expect(await redis().xtrim('audit:log', 'MAXLEN', 7)).toBe(3);
    expect(await verify()).toEqual({ ok: false, count: 0, firstBroken: { kind: 'record_deleted', reason: 'seq_gap', seq: 4, id: (list[3] as Entry)[0] } });
  });

  it('the tail truncated after a checkpoint (XDEL of the last 3): tail_truncated, head_before_checkpoint at the first missing seq', async () => {
    const list = await entries();
    expect(await redis().xdel('audit:log', ...list.slice(7).map(([id]) => id))).toBe(3);
    expect((await verifyAuditChain({ redis: redis() })).ok).toBe(true); // the chain alone cannot tell
    expect(await verify()).toEqual({ ok: false, count: 7, firstBroken: { kind: 'tail_truncated', reason: 'head_before_checkpoint', seq: 8, checkpointId: cps[1] } });
  });

  it('the whole stream deleted (DEL): tail_truncated at seq 1', async () => {
    await redis().del('audit:log');
    expect(await verify()).toEqual({ ok: false, count: 0, firstBroken: { kind: 'tail_truncated', reason: 'head_before_checkpoint', seq: 1, checkpointId: cps[0] } });
  });

  it('the tail truncated and written again (XDEL, then new records): tail_truncated, checkpoint_mismatch at the checkpoint seq', async () => {
    const list = await entries();
    await redis().xdel('audit:log', ...list.slice(7).map(([id]) => id));
    log = createAuditLog({ redis: redis(), clock });
    await append(3, 'petrov');
    const now = await entries();
    expect(await verify()).toEqual({ ok: false, count: 9, firstBroken: { kind: 'tail_truncated', reason: 'checkpoint_mismatch', seq: 10, id: (now[9] as Entry)[0], checkpointId: cps[1] } });
  });

  it('a record inserted at the end (XADD, made-up prev): record_inserted, prev_mismatch at it', async () => {
    const forged = sealRecord(parseAuditInput({ type: 'session.created', outcome: 'success', subject: { accountId: 'intruder' } }), { seq: 11, prev: 'f'.repeat(64), ts: '2026-03-01T09:00:00.000Z' });
    const id = (await redis().xadd('audit:log', '*', ...toStreamFields(forged))) as string;
    expect(await verify()).toEqual({ ok: false, count: 10, firstBroken: { kind: 'record_inserted', reason: 'prev_mismatch', seq: 11, id } });
  });

  it('a record inserted in the middle, linking correctly (XADD with an id between two): record_inserted, seq_repeated naming it', async () => {
    const list = await entries();
    const renumbered: Entry[] = list.map(([, f], i) => [`${i + 1}-0`, f]);
    const forged = sealRecord(parseAuditInput({ type: 'session.created', outcome: 'success', subject: { accountId: 'intruder' } }), { seq: 4, prev: (list[2] as Entry)[1][3] as string, ts: '2026-03-01T08:00:03.500Z' });
    renumbered.splice(3, 0, ['3-1', toStreamFields(forged)]);
    await rewrite(renumbered);
    expect(await verify()).toEqual({ ok: false, count: 3, firstBroken: { kind: 'record_inserted', reason: 'seq_repeated', seq: 4, id: '3-1' } });
  });

  it('a checkpoint forged: its payload changed (bad_signature)', async () => {
    const [[, [, jws]]] = (await redis().xrange(CHECKPOINTS_KEY, '-', '+')) as [Entry];
    const [h, , sig] = (jws as string).split('.');
    const payload = Buffer.from(JSON.stringify({ seq: 7, headHash: 'a'.repeat(64), time: '2026-03-01T08:00:20.000Z' })).toString('base64url');
    const id = (await redis().xadd(CHECKPOINTS_KEY, '*', 'jws', `${h}.${payload}.${sig}`)) as string;
    expect(await verify()).toEqual({ ok: false, count: 6, firstBroken: { kind: 'checkpoint_forged', reason: 'bad_signature', seq: 7, checkpointId: id } });
  });

  it('a checkpoint forged: signed with a key the verifier does not have (unknown_kid)', async () => {
    const head = (await entries())[9] as Entry;
    const jws = await signCheckpoint(await generateAuditKey(), { seq: 10, headHash: head[1][3] as string, time: '2026-03-01T08:00:20.000Z' });
    const id = (await redis().xadd(CHECKPOINTS_KEY, '*', 'jws', jws)) as string;
    expect(await verify()).toEqual({ ok: false, count: 9, firstBroken: { kind: 'checkpoint_forged', reason: 'unknown_kid', seq: 10, checkpointId: id } });
  });

  it('a checkpoint forged: validly signed over a head the chain does not have, while a later checkpoint agrees (head_not_in_chain)', async () => {
    const jws = await signCheckpoint(key, { seq: 3, headHash: 'b'.repeat(64), time: '2026-03-01T08:00:30.000Z' });
    const id = (await redis().xadd(CHECKPOINTS_KEY, '*', 'jws', jws)) as string;
    const list = await entries();
    expect(await verify()).toEqual({ ok: false, count: 2, firstBroken: { kind: 'checkpoint_forged', reason: 'head_not_in_chain', seq: 3, id: (list[2] as Entry)[0], checkpointId: id } });
  });

  it('a checkpoint entry that is not a JWS (checkpoint_malformed), named before the chain', async () => {
    const id = (await redis().xadd(CHECKPOINTS_KEY, '*', 'jws', 'not-a-jws')) as string;
    expect(await verify()).toEqual({ ok: false, count: 10, firstBroken: { kind: 'checkpoint_forged', reason: 'checkpoint_malformed', checkpointId: id } });
  });
});

describe('checkpoint keys: rotation', () => {
  it('checkpoints of an old key still verify once a new key signs; without the old public key they are refused (unknown_kid)', async () => {
    const next = await generateAuditKey();
    await append(1);
    await createCheckpointWriter({ redis: redis(), clock, keys: [next, key] }).write();
    const both = publicAuditJwks({ keys: [next, key] }).keys;
    expect(await verify({ keys: both })).toMatchObject({ ok: true, count: 11, checkpoints: { count: 3, last: { seq: 11, kid: next.kid }, unprotected: 0 } });
    expect(await verify({ keys: publicAuditJwks({ keys: [next] }).keys })).toMatchObject({ ok: false, firstBroken: { kind: 'checkpoint_forged', reason: 'unknown_kid', seq: 5, checkpointId: cps[0] } });
  });
});
