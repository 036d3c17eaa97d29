import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type Redis from 'ioredis';
import { loadOrCreateIdentity, type AgentIdentity } from '../../../src/card-agent/keystore';
import { systemClock } from '../../../src/clock';
import { loadServerConfigSubset, STORE_KEYS } from '../../../src/config';
import { DEMO_ACCOUNTS, DEMO_CARDS, DEMO_OFFICER } from '../../../dev/demo/fixtures';
import { seedDemo } from '../../../dev/demo/seed';
import { isCardauthError } from '../../../src/errors';
import { checkPassword } from '../../../src/policy/password-policy';
import { createStores } from '../../../src/services';
import { auditRecords } from '../../helpers/audit';
import { startRedis, type TestRedis } from '../../helpers/redis';

let redis: TestRedis;
let client: Redis;
let dir: string;
let identity: AgentIdentity;
let stores: ReturnType<typeof createStores>;

beforeAll(async () => {
  redis = await startRedis();
  client = redis.client();
  dir = mkdtempSync(join(tmpdir(), 'cardauth-seed-'));
  identity = await loadOrCreateIdentity(join(dir, 'agent'));
  // The cheapest argon2 the config allows: this test is about the data, not the cost.
  const config = loadServerConfigSubset(STORE_KEYS, { REDIS_URL: redis.url, CARDAUTH_ARGON2_MEMORY_KIB: '8192', CARDAUTH_ARGON2_TIME: '1' });
  stores = createStores({ redis: client, config, clock: systemClock });
});
afterAll(async () => {
  await redis?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const seed = (key: { agentId?: string } = {}) => seedDemo({ ...stores, actor: 'os:test' }, { ...identity, ...key });

/** The change an audit record stands for, in the words of {@link seedDemo}'s `changes`. */
function changeOf(r: Record<string, any>): string {
  switch (r.type) {
    case 'account.created':
      return `account ${r.subject?.login}`;
    case 'password.reset':
      return `password of ${r.subject?.login}`;
    case 'card.bound':
      return `card ${r.cardUid}`;
    case 'card.revoked':
      return `revocation of ${r.cardUid}`;
    case 'agent.registered':
      return `agent ${r.source?.agentId}`;
    case 'agent.approved':
      return `approval of ${r.source?.agentId}`;
    default:
      return `unexpected ${r.type}`;
  }
}

describe('seedDemo', () => {
  let agentId: string;
  let firstChanges: string[];

  it('creates the accounts, binds and revokes the cards, and approves the agent, as the security officer', async () => {
    const { changes, agent } = await seed();
    agentId = agent.id;
    firstChanges = changes;
    expect(changes).toEqual(expect.arrayContaining(['account ivanova', 'card 04A22BB25C6180', 'revocation of 04C1D2E3F40511', `agent ${agent.id}`, `approval of ${agent.id}`]));
    const officer = await stores.accounts.findByLogin('security');
    expect(officer?.roles).toEqual(['security_officer']);
    expect(agent).toMatchObject({ status: 'approved', approvedBy: officer!.id, fingerprint: identity.fingerprint });
    expect(await stores.agents.seenAt(agent.id, '127.0.0.1')).toBe(true); // where the demo's browser presents its statements from

    for (const a of DEMO_ACCOUNTS) {
      const account = await stores.accounts.findByLogin(a.login);
      expect(account).toMatchObject({ login: a.login, roles: a.roles, status: 'active' });
      expect(await stores.hasher.verify(account!.passwordHash, a.password)).toBe(true);
      expect(() => checkPassword(a.password, { minLength: 12, minAlphabet: 70 })).not.toThrow(); // the default ИАФ.3 profile
    }
    for (const c of DEMO_CARDS) {
      const binding = await stores.cards.get(c.uid);
      if (c.state === 'unknown') expect(binding).toBeNull();
      else expect(binding).toMatchObject({ status: c.state, accountId: (await stores.accounts.findByLogin(c.login!))!.id, boundBy: officer!.id });
    }
  });

  it('audits every change, with the officer as the actor after its own account', async () => {
    const records = await auditRecords(client); // a fresh Redis: only the first run's records
    for (const t of ['account.created', 'card.bound', 'card.revoked', 'agent.registered', 'agent.approved']) expect(records.map((r) => r.type)).toContain(t);
    // One record per change, in the order the changes were made.
    expect(firstChanges.length).toBeGreaterThan(0);
    expect(records).toHaveLength(firstChanges.length);
    expect(records.map(changeOf)).toEqual(firstChanges);
    // The officer's own account comes first, by the one who runs the seed; everything after it is by the officer.
    const officer = (await stores.accounts.findByLogin(DEMO_OFFICER))!;
    const own = records.findIndex((r) => r.type === 'account.created' && r.subject?.accountId === officer.id);
    expect(own).toBe(0);
    expect(records.map((r, i) => `${i} ${r.type} ${r.actor}`)).toEqual(records.map((r, i) => `${i} ${r.type} ${i <= own ? 'os:test' : officer.id}`));
  });

  it('is idempotent: a second run changes nothing', async () => {
    const before = await client.xlen('audit:log');
    const { changes, agent } = await seed({ agentId });
    expect(changes).toEqual([]);
    expect(agent.id).toBe(agentId);
    expect(await client.xlen('audit:log')).toBe(before);
  });

  it('puts a changed demo password back, so the printed one always works', async () => {
    const petrov = (await stores.accounts.findByLogin('petrov'))!;
    await stores.accounts.setPasswordHash(petrov.id, await stores.hasher.hash('something-else-entirely'));
    const { changes } = await seed({ agentId });
    expect(changes).toEqual(['password of petrov']);
    const after = (await stores.accounts.findByLogin('petrov'))!;
    expect(await stores.hasher.verify(after.passwordHash, 'Petrov-Demo-2026!')).toBe(true);
  });

  it('finds its agent by key fingerprint when the remembered id is gone', async () => {
    const { changes, agent } = await seed({ agentId: 'ag_0000000000000000' });
    expect(changes).toEqual([]);
    expect(agent.id).toBe(agentId);
  });

  it('refuses with agent_state when the demo agent was revoked', async () => {
    await stores.agents.revoke(agentId, 'os:test');
    const err = await seed({ agentId }).catch((e: unknown) => e);
    expect(isCardauthError(err, 'agent_state')).toBe(true);
  });
});
