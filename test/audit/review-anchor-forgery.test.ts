import type { JWK } from 'jose';
import { createCheckpointWriter } from '../../src/audit/checkpoint';
import { generateAuditKey } from '../../src/audit/keys';
import { createAuditLog } from '../../src/audit/log';
import { fromStreamFields, GENESIS_PREV, parseAuditInput, sealRecordFields } from '../../src/audit/record';
import { archiveName, signSeal } from '../../src/audit/retention-seal';
import { verifyAuditChain } from '../../src/audit/verify';
import { createRetention } from '../../src/audit/retention';
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type Redis from 'ioredis';
import { startAclRedis, type AclRedis } from '../helpers/redis-acl';

jest.setTimeout(60_000);

let redis: AclRedis;
let keys: JWK[];
beforeAll(async () => {
  redis = await startAclRedis();
  keys = [await generateAuditKey()];
});
afterAll(() => redis.stop());

// Review finding: the app user (docs/redis-acl.conf: XADD on ~audit:*) may append to audit:anchors,
// and the key that signs anchors is the servers' own CARDAUTH_AUDIT_KEYS_FILE. A compromised server
// signs an anchor over the hash of record 3, then trims records 1..3 with XADD … MINID (the app
// user's documented hole, formerly always shown as a trimmed start): audit verify passes.
it('the app user cannot hide a trimmed start behind an anchor it wrote itself', async () => {
  const now = Date.parse('2026-12-01T12:00:00.000Z');
  const clock = { now: () => now };
  const app = redis.clientAs('cardauth');
  const log = createAuditLog({ redis: app, clock });
  for (let i = 1; i <= 6; i++) await log.append({ type: 'session.created', outcome: 'success', subject: { login: `user${i}` } });
  await createCheckpointWriter({ redis: app, clock, keys }).write();

  const stored = await app.xrange('audit:log', '-', '+');
  const rec = (i: number) => fromStreamFields(stored[i - 1]![1], { canonical: false }) as { ok: true; hash: string; seq: number };
  const t = new Date(now).toISOString();
  const jws = await signSeal(keys[0]!, { archive: archiveName(1, 3), sha256: 'a'.repeat(64), fromSeq: 1, toSeq: 3, count: 3, prevHash: GENESIS_PREV, lastHash: rec(3).hash, cutoff: t, time: t });
  await app.xadd('audit:anchors', '*', 'jws', jws);
  const { fields } = sealRecordFields(parseAuditInput({ type: 'session.created', outcome: 'success', subject: { login: 'user7' } }), { seq: 7, prev: rec(6).hash, ts: t });
  await (app as unknown as { xadd: (...a: string[]) => Promise<string> }).xadd('audit:log', 'MINID', stored[3]![0], '*', ...fields);
  expect((await redis.client().xrange('audit:log', '-', '+')).length).toBe(4); // 1..3 gone

  const r = await verifyAuditChain({ redis: redis.client(), checkpointKeys: keys });
  expect(r.ok).toBe(false);
});

// Review finding: step 2 of a run ("finish a stopped run") trims up to the newest valid anchor
// without checking that its archive exists in the folder (or verifies): an anchor the app user
// appended makes the archivist itself trim records that no archive holds.
it('retention never trims records whose archive is not in its folder', async () => {
  await redis.client().flushall();
  const now = Date.parse('2026-12-01T12:00:00.000Z');
  const clock = { now: () => now };
  const app = redis.clientAs('cardauth');
  const log = createAuditLog({ redis: app, clock });
  for (let i = 1; i <= 6; i++) await log.append({ type: 'session.created', outcome: 'success', subject: { login: `user${i}` } });
  const stored = await app.xrange('audit:log', '-', '+');
  const h3 = (fromStreamFields(stored[2]![1], { canonical: false }) as { hash: string }).hash;
  const t = new Date(now).toISOString();
  await app.xadd('audit:anchors', '*', 'jws', await signSeal(keys[0]!, { archive: archiveName(1, 3), sha256: 'a'.repeat(64), fromSeq: 1, toSeq: 3, count: 3, prevHash: GENESIS_PREV, lastHash: h3, cutoff: t, time: t }));

  const dir = mkdtempSync(join(tmpdir(), 'review-retention-'));
  const archivist = redis.clientAs('cardauth-archivist');
  const alog = createAuditLog({ redis: archivist as Redis, clock });
  await createRetention({ redis: archivist, clock, keys, days: 10, dir, record: (e) => alog.append({ ...e, actor: 'os:test' }) })
    .run()
    .catch(() => undefined);
  expect(readdirSync(dir)).toEqual([]); // no archive of 1..3 anywhere
  expect((await redis.client().xrange('audit:log', '-', '+')).length).toBeGreaterThanOrEqual(6); // so nothing may be trimmed
});
