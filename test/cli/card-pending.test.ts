import type Redis from 'ioredis';
import { createAccountStore } from '../../src/store/accounts';
import { createEnrollmentStore } from '../../src/store/card-enrollments';
import { auditRecords, lastAudit } from '../helpers/audit';
import { startRedis, type TestRedis } from '../helpers/redis';
import { PHC } from '../store/support';
import { cliEnv, OS_ACTOR, oneErrorLine, runCli } from './support';

// `card pending`, `card approve`, `card reject`: the same use cases as the admin API
// (test/app/admin-api.enrollments.test.ts), so the same bindings and records, as os:<user> via cli.
let redis: TestRedis;
let client: Redis;
let env: Record<string, string>;
const clock = { now: () => Date.now() };
let n = 0;

beforeAll(async () => {
  redis = await startRedis();
  client = redis.client();
  env = cliEnv({ REDIS_URL: redis.url });
});
afterAll(() => redis.stop());

/** A clinician with no card and a pending request for a fresh card, as a login makes it. */
async function requested() {
  const login = `kurochkina${++n}`;
  const account = await createAccountStore({ redis: client, clock }).create({ login, displayName: 'Курочкина А. А.', roles: ['clinician'], passwordHash: PHC });
  const uid = `04C${(0xc00000 + n).toString(16).toUpperCase().padStart(11, '0')}`;
  const made = await createEnrollmentStore({ redis: client, clock, pendingDays: 7, maxActivePerAccount: 2 }).request({ uid, accountId: account.id, agentId: 'ag_0123456789abcdef', workstation: 'РМ-7', reader: 'ACR122U' });
  expect('pending' in made).toBe(true);
  return { login, id: account.id, uid };
}

it('card pending lists the requests with login, name, UID and workstation', async () => {
  const a = await requested();
  const json = await runCli(['card', 'pending', '--json'], { env });
  expect(json.code).toBe(0);
  expect(JSON.parse(json.stdout)).toContainEqual(expect.objectContaining({ uid: a.uid, login: a.login, displayName: 'Курочкина А. А.', agentId: 'ag_0123456789abcdef', workstation: 'РМ-7' }));
  const table = await runCli(['card', 'pending'], { env });
  expect(table.stdout).toMatch(new RegExp(`${a.uid}\\s+${a.login}\\s+Курочкина`));
});

it('card approve binds the card to the account that asked, audited card.enrollment_approved as os:<user> via cli', async () => {
  const a = await requested();
  const r = await runCli(['card', 'approve', a.uid.toLowerCase(), '--label', 'ЕКП'], { env });
  expect(r.code).toBe(0);
  expect(r.stdout).toContain(`bound card ${a.uid} to ${a.login}`);
  expect(await client.hgetall(`card:${a.uid}`)).toMatchObject({ accountId: a.id, status: 'active', label: 'ЕКП', boundBy: OS_ACTOR });
  expect(await lastAudit(client, 'card.enrollment_approved')).toMatchObject({
    outcome: 'success',
    actor: OS_ACTOR,
    cardUid: a.uid,
    subject: { accountId: a.id, login: a.login },
    details: expect.objectContaining({ before: 'pending', after: 'active', label: 'ЕКП', via: 'cli' }),
  });
  const again = await runCli(['card', 'approve', a.uid], { env });
  expect(again.code).toBe(1);
  expect(oneErrorLine(again)).toMatch(/^cardauth: enrollment_not_found: /);
});

it('card reject drops the request with the reason; --reason is required', async () => {
  const a = await requested();
  const bare = await runCli(['card', 'reject', a.uid], { env });
  expect(bare.code).toBe(2);
  const r = await runCli(['card', 'reject', a.uid, '--reason', 'карта чужая'], { env });
  expect(r.code).toBe(0);
  expect(await client.exists(`card:pend:${a.uid}`, `card:${a.uid}`)).toBe(0);
  expect(await lastAudit(client, 'card.enrollment_rejected')).toMatchObject({ outcome: 'success', actor: OS_ACTOR, cardUid: a.uid, details: expect.objectContaining({ note: 'карта чужая', via: 'cli' }) });
  expect(JSON.stringify(await auditRecords(client))).not.toContain(PHC);
});
