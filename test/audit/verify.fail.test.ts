import type Redis from 'ioredis';
import { isCardauthError } from '../../src/errors';
import { createAuditLog } from '../../src/audit/log';
import { canonicalJson, parseAuditInput, recordHash, sealRecord, sha256Hex, toStreamFields } from '../../src/audit/record';
import { verifyAuditChain } from '../../src/audit/verify';
import { startRedis, type TestRedis } from '../helpers/redis';

type Entry = [id: string, fields: string[]];

let redis: TestRedis;
let client: Redis;
/** The intact 6-record chain every case copies and damages. */
let source: Entry[];

beforeAll(async () => {
  redis = await startRedis();
  client = redis.client();
  let now = Date.parse('2026-03-01T08:00:00.000Z');
  const log = createAuditLog({ redis: client, clock: { now: () => (now += 1000) }, key: 'audit:source' });
  await log.append({ type: 'card.presented', outcome: 'success', cardUid: '04A22BB25C6180' });
  await log.append({ type: 'password.checked', outcome: 'failure', reason: 'wrong_password', subject: { login: 'ivanova' } });
  await log.append({ type: 'password.checked', outcome: 'failure', reason: 'wrong_password', subject: { login: 'ivanova' } });
  await log.append({ type: 'password.checked', outcome: 'success', subject: { accountId: 'acc-1' } });
  await log.append({ type: 'session.created', outcome: 'success', subject: { accountId: 'acc-1' }, sessionId: 'sid-1' });
  await log.append({ type: 'session.logout', outcome: 'success', subject: { accountId: 'acc-1' }, sessionId: 'sid-1' });
  source = await client.xrange('audit:source', '-', '+');
});
afterAll(async () => {
  await redis.stop();
});

let copies = 0;
/** Writes `entries` (fields only; new ids) to a fresh stream and verifies it. */
async function verifyCopy(entries: readonly (readonly string[])[], batch?: number) {
  const key = `audit:copy${++copies}`;
  for (const fields of entries) await client.xadd(key, '*', ...fields);
  const ids = (await client.xrange(key, '-', '+')).map(([id]) => id);
  return { ids, result: await verifyAuditChain({ redis: client, key, ...(batch ? { batch } : {}) }) };
}
const fieldsOf = (i: number) => (source[i] as Entry)[1];
const bodyOf = (i: number) => JSON.parse(fieldsOf(i)[1] as string) as Record<string, unknown>;

describe('verifyAuditChain finds the first broken record', () => {
  it('intact copy verifies (control)', async () => {
    const { result } = await verifyCopy(source.map(([, f]) => f));
    expect(result).toMatchObject({ ok: true, count: 6, head: { seq: 6 } });
  });

  it('an edited field: hash_mismatch at that record', async () => {
    const edited = source.map(([, f]) => [...f]);
    (edited[2] as string[])[1] = canonicalJson({ ...bodyOf(2), outcome: 'success' });
    const { ids, result } = await verifyCopy(edited);
    expect(result).toEqual({ ok: false, count: 2, firstBroken: { seq: 3, id: ids[2], reason: 'hash_mismatch', kind: 'record_edited' } });
  });

  // The same value in other text: JSON.parse reads each as the stored record, so only the text gives it away.
  it.each<[string, (json: string) => string]>([
    ['extra whitespace', (json) => json.replace(/,/g, ', ')],
    ['keys reordered', (json) => json.replace(/^\{("outcome":"failure"),(.*)\}$/, '{$2,$1}')],
    ['an escape for a plain letter', (json) => json.replace('"failure"', '"f\\u0061ilure"')],
    ['a duplicate key whose first copy says another thing', (json) => json.replace('{', '{"outcome":"success",')],
  ])('stored text rewritten to the same value (%s): hash_mismatch at that record', async (_name, rewrite) => {
    const json = fieldsOf(2)[1] as string;
    const rewritten = rewrite(json);
    expect(rewritten).not.toBe(json);
    expect(JSON.parse(rewritten)).toEqual(bodyOf(2));
    const edited = source.map(([, f], i) => (i === 2 ? ['r', rewritten, 'h', f[3] as string] : f));
    const { ids, result } = await verifyCopy(edited);
    expect(result).toEqual({ ok: false, count: 2, firstBroken: { seq: 3, id: ids[2], reason: 'hash_mismatch', kind: 'record_edited' } });
  });

  it('a number no canonical record can hold (1e999, Infinity once parsed): hash_mismatch, not a crash', async () => {
    const rewritten = (fieldsOf(2)[1] as string).replace('{', '{"x":1e999,');
    const edited = source.map(([, f], i) => (i === 2 ? ['r', rewritten, 'h', sha256Hex(rewritten)] : f));
    const { ids, result } = await verifyCopy(edited);
    expect(result).toEqual({ ok: false, count: 2, firstBroken: { seq: 3, id: ids[2], reason: 'hash_mismatch', kind: 'record_edited' } });
  });

  it('the head rewritten and re-hashed over its own text: hash_mismatch, though nothing links to it', async () => {
    const last = source.length - 1;
    const rewritten = (fieldsOf(last)[1] as string).replace(/,/g, ', ');
    const edited = source.map(([, f], i) => (i === last ? ['r', rewritten, 'h', sha256Hex(rewritten)] : f));
    const { ids, result } = await verifyCopy(edited);
    expect(result).toEqual({ ok: false, count: last, firstBroken: { seq: last + 1, id: ids[last], reason: 'hash_mismatch', kind: 'record_edited' } });
  });

  it('an edited and re-hashed record: prev_mismatch at the next one', async () => {
    const edited = source.map(([, f]) => [...f]);
    const body = { ...bodyOf(2), subject: { login: 'petrov' } };
    edited[2] = ['r', canonicalJson(body), 'h', recordHash(body)];
    const { ids, result } = await verifyCopy(edited, 2);
    expect(result).toEqual({ ok: false, count: 3, firstBroken: { seq: 4, id: ids[3], reason: 'prev_mismatch', kind: 'record_edited' } });
  });

  it('a deleted middle record (XDEL): seq_gap at the next one', async () => {
    await client.del('audit:xdel');
    for (const [, f] of source) await client.xadd('audit:xdel', '*', ...f);
    const ids = (await client.xrange('audit:xdel', '-', '+')).map(([id]) => id);
    expect(await client.xdel('audit:xdel', ids[2] as string)).toBe(1);
    expect(await verifyAuditChain({ redis: client, key: 'audit:xdel' })).toEqual({
      ok: false,
      count: 2,
      firstBroken: { seq: 4, id: ids[3], reason: 'seq_gap', kind: 'record_deleted' },
    });
  });

  it('two records swapped: seq_gap where the order breaks', async () => {
    const swapped = source.map(([, f]) => f);
    [swapped[2], swapped[3]] = [swapped[3] as string[], swapped[2] as string[]];
    const { ids, result } = await verifyCopy(swapped);
    expect(result).toEqual({ ok: false, count: 2, firstBroken: { seq: 4, id: ids[2], reason: 'seq_gap', kind: 'record_deleted' } });
  });

  it('a forged record injected in the middle: record_inserted (seq_repeated) naming the forgery', async () => {
    const prev = (fieldsOf(1)[3]) as string;
    const forged = sealRecord(parseAuditInput({ type: 'session.created', outcome: 'success', subject: { accountId: 'intruder' } }), {
      seq: 3,
      prev,
      ts: '2026-03-01T08:00:02.500Z',
    });
    const entries = source.map(([, f]) => f);
    entries.splice(2, 0, toStreamFields(forged));
    const { ids, result } = await verifyCopy(entries);
    // the forgery itself links correctly (the chain has no secret); the displaced record gives it away, and the next one links to it, not to the forgery
    expect(result).toEqual({ ok: false, count: 2, firstBroken: { seq: 3, id: ids[2], reason: 'seq_repeated', kind: 'record_inserted' } });
  });

  it('a record appended by hand with a made-up prev: prev_mismatch', async () => {
    const forged = sealRecord(parseAuditInput({ type: 'session.logout', outcome: 'success' }), { seq: 7, prev: 'f'.repeat(64), ts: '2026-03-01T08:01:00.000Z' });
    const { ids, result } = await verifyCopy([...source.map(([, f]) => f), toStreamFields(forged)]);
    expect(result).toEqual({ ok: false, count: 6, firstBroken: { seq: 7, id: ids[6], reason: 'prev_mismatch', kind: 'record_inserted' } });
  });

  const ZERO = '0'.repeat(64);
  it.each<[string, (fields: string[]) => string[], number | undefined]>([
    ['garbage JSON', () => ['r', '{not json', 'h', ZERO], undefined],
    ['JSON that is not a record', () => ['r', '[1,2,3]', 'h', ZERO], undefined],
    ['a record missing prev', () => ['r', '{"outcome":"success","seq":3,"ts":"x","type":"session.logout","v":1}', 'h', ZERO], 3],
    ['a hash that is not hex', (f) => [...f.slice(0, 3), 'Z'.repeat(64)], 3],
    ['a missing h field', (f) => f.slice(0, 2), undefined],
    ['an extra field', (f) => [...f, 'password', 'x'], undefined],
  ])('malformed: %s', async (_name, damage, seq) => {
    const entries = source.map(([, f], i) => (i === 2 ? damage(f) : f));
    const { ids, result } = await verifyCopy(entries);
    expect(result).toEqual({ ok: false, count: 2, firstBroken: { ...(seq ? { seq } : {}), id: ids[2], reason: 'malformed', kind: 'record_edited' } });
  });
});

describe('verifyAuditChain error', () => {
  it('rejects with audit_unavailable when the key is not a stream', async () => {
    await client.set('audit:string', 'x');
    const err = await verifyAuditChain({ redis: client, key: 'audit:string' }).catch((e: unknown) => e);
    expect(isCardauthError(err, 'audit_unavailable')).toBe(true);
  });
  it('throws TypeError for a bad batch size', async () => {
    await expect(verifyAuditChain({ redis: client, batch: 0 })).rejects.toBeInstanceOf(TypeError);
  });
});
