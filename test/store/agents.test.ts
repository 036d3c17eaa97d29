import { generateKeyPairSync, createHash } from 'node:crypto';
import type Redis from 'ioredis';
import { startRedis, type TestRedis } from '../helpers/redis';
import { createAgentStore, SEEN_IP_MAX_AGE_MS, SEEN_IPS_KEPT, validatePublicJwk, type AgentStore } from '../../src/store/agents';
import { codeOf, frozenClock, outcomes, unreachableRedis } from './support';

const jwkOf = (type: 'ed25519' | 'p256' | 'p384' | 'secp256k1' | 'rsa' | 'x25519', part: 'public' | 'private' = 'public') => {
  const pair =
    type === 'ed25519' ? generateKeyPairSync('ed25519')
    : type === 'x25519' ? generateKeyPairSync('x25519')
    : type === 'rsa' ? generateKeyPairSync('rsa', { modulusLength: 2048 })
    : generateKeyPairSync('ec', { namedCurve: type === 'p256' ? 'P-256' : type === 'p384' ? 'P-384' : 'secp256k1' });
  return (part === 'public' ? pair.publicKey : pair.privateKey).export({ format: 'jwk' }) as Record<string, unknown>;
};

/** RFC 7638 thumbprint computed by hand, to check jose's. */
const thumbprint = (jwk: Record<string, unknown>) => {
  const members = jwk.kty === 'EC' ? { crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y } : { crv: jwk.crv, kty: jwk.kty, x: jwk.x };
  return createHash('sha256').update(JSON.stringify(members)).digest('base64url');
};

describe('validatePublicJwk', () => {
  it('accepts an Ed25519 public key as EdDSA, reduced to kty, crv and x', async () => {
    const jwk = jwkOf('ed25519');
    expect(await validatePublicJwk({ ...jwk, kid: 'ws-12', use: 'sig', alg: 'EdDSA', key_ops: ['verify'] })).toEqual({
      jwk: { kty: 'OKP', crv: 'Ed25519', x: jwk.x },
      alg: 'EdDSA',
    });
  });

  it('accepts a P-256 public key as ES256, reduced to kty, crv, x and y', async () => {
    const jwk = jwkOf('p256');
    expect(await validatePublicJwk({ ...jwk, alg: 'ES256' })).toEqual({ jwk: { kty: 'EC', crv: 'P-256', x: jwk.x, y: jwk.y }, alg: 'ES256' });
  });

  it('refuses private keys with bad_request', async () => {
    expect(await codeOf(validatePublicJwk(jwkOf('ed25519', 'private')))).toBe('bad_request');
    expect(await codeOf(validatePublicJwk(jwkOf('p256', 'private')))).toBe('bad_request');
    expect(await codeOf(validatePublicJwk(jwkOf('rsa', 'private')))).toBe('bad_request');
    expect(await codeOf(validatePublicJwk({ ...jwkOf('p256'), d: '' }))).toBe('bad_request');
  });

  it('refuses symmetric (oct) keys with bad_request', async () => {
    expect(await codeOf(validatePublicJwk({ kty: 'oct', k: 'c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0' }))).toBe('bad_request');
    expect(await codeOf(validatePublicJwk({ kty: 'oct' }))).toBe('bad_request');
  });

  it('refuses RSA, P-384, secp256k1 and X25519 keys with bad_request', async () => {
    for (const t of ['rsa', 'p384', 'secp256k1', 'x25519'] as const) expect(await codeOf(validatePublicJwk(jwkOf(t)))).toBe('bad_request');
  });

  it('refuses malformed keys and mismatched alg, use or key_ops with bad_request', async () => {
    const ed = jwkOf('ed25519');
    const ec = jwkOf('p256');
    const bad: unknown[] = [
      null, 'jwk', [ed], {}, { kty: 'OKP', crv: 'Ed25519' }, { ...ed, x: 'AAAA' }, { ...ed, x: 42 },
      { ...ec, y: undefined }, { ...ec, x: `${String(ec.x).slice(0, -1)}!` },
      { ...ed, alg: 'ES256' }, { ...ec, alg: 'EdDSA' }, { ...ec, alg: 'ES384' }, { ...ed, use: 'enc' }, { ...ed, key_ops: ['sign'] },
    ];
    for (const jwk of bad) expect(await codeOf(validatePublicJwk(jwk))).toBe('bad_request');
  });

  it('refuses a P-256 point that is not on the curve with bad_request', async () => {
    const ec = jwkOf('p256');
    const y = Buffer.from(String(ec.y), 'base64url');
    y[31] = (y[31] ?? 0) ^ 1;
    expect(await codeOf(validatePublicJwk({ ...ec, y: y.toString('base64url') }))).toBe('bad_request');
  });
});

describe('agent store', () => {
  let redis: TestRedis;
  let node1: Redis;
  let node2: Redis;
  const clock = frozenClock();
  let agents: AgentStore;
  let agents2: AgentStore;
  const officer = 'acc_00000000000000ff';

  beforeAll(async () => {
    redis = await startRedis();
    node1 = redis.client();
    node2 = redis.client();
    agents = createAgentStore({ redis: node1, clock });
    agents2 = createAgentStore({ redis: node2, clock });
  });
  afterAll(() => redis.stop());
  beforeEach(() => node1.flushall());

  it('register.success: a pending agent with its RFC 7638 fingerprint', async () => {
    const jwk = jwkOf('ed25519');
    const a = await agents.register({ name: ' Кабинет 12 ', publicJwk: { ...jwk, kid: 'local' } });
    expect(a).toEqual({
      id: expect.stringMatching(/^ag_[0-9a-f]{16}$/),
      name: 'Кабинет 12',
      publicJwk: { kty: 'OKP', crv: 'Ed25519', x: jwk.x },
      alg: 'EdDSA',
      fingerprint: thumbprint(jwk),
      status: 'pending',
      createdAt: clock.now(),
    });
    expect(await agents2.get(a.id)).toEqual(a);
  });

  it('register.success: a P-256 key registers as ES256', async () => {
    const jwk = jwkOf('p256');
    const a = await agents.register({ name: 'Регистратура', publicJwk: jwk });
    expect(a.alg).toBe('ES256');
    expect(a.fingerprint).toBe(thumbprint(jwk));
  });

  it('register.fail: agent_state naming the existing agent when the key is already registered', async () => {
    const jwk = jwkOf('ed25519');
    const first = await agents.register({ name: 'ws-1', publicJwk: jwk });
    const again = agents2.register({ name: 'ws-2', publicJwk: { ...jwk, kid: 'other', alg: 'EdDSA' } });
    expect(await codeOf(again)).toBe('agent_state');
    await expect(agents2.register({ name: 'ws-2', publicJwk: jwk })).rejects.toThrow(first.id);
    await agents.revoke(first.id, officer);
    expect(await codeOf(agents.register({ name: 'ws-1', publicJwk: jwk }))).toBe('agent_state');
    expect(await agents.list()).toHaveLength(1);
  });

  it('register.fail: bad_request for a bad name or key, storing nothing', async () => {
    const jwk = jwkOf('ed25519');
    for (const name of ['', '   ', 'x'.repeat(65), 'ws\u0000', 'ws\u200b1', 7]) {
      expect(await codeOf(agents.register({ name: name as string, publicJwk: jwk }))).toBe('bad_request');
    }
    expect(await codeOf(agents.register({ name: 'ws', publicJwk: jwkOf('ed25519', 'private') }))).toBe('bad_request');
    expect(await agents.list()).toEqual([]);
  });

  it('register.race: two nodes registering one key, exactly one wins (20 runs)', async () => {
    for (let i = 0; i < 20; i++) {
      const jwk = jwkOf('ed25519');
      const r = await outcomes([agents.register({ name: 'a', publicJwk: jwk }), agents2.register({ name: 'b', publicJwk: jwk })]);
      expect(r).toEqual({ won: 1, codes: ['agent_state'] });
    }
    expect(await agents.list()).toHaveLength(20);
  });

  it('register.success: a colliding random id is retried', async () => {
    const seq = [Buffer.alloc(8, 0xaa), Buffer.alloc(8, 0xaa), Buffer.alloc(8, 0xbb)];
    const store = createAgentStore({ redis: node1, clock, randomBytes: () => seq.shift() as Buffer });
    expect((await store.register({ name: 'a', publicJwk: jwkOf('ed25519') })).id).toBe('ag_aaaaaaaaaaaaaaaa');
    expect((await store.register({ name: 'b', publicJwk: jwkOf('ed25519') })).id).toBe('ag_bbbbbbbbbbbbbbbb');
  });

  it('approve.success: pending becomes approved, recording who and when', async () => {
    const a = await agents.register({ name: 'ws', publicJwk: jwkOf('ed25519') });
    clock.advance(60_000);
    const b = await agents2.approve(a.id, officer);
    expect(b).toEqual({ ...a, status: 'approved', approvedBy: officer, approvedAt: clock.now() });
    expect(await agents.get(a.id)).toEqual(b);
  });

  it('approve.fail: agent_state unless pending; agent_not_found for an unknown or malformed id', async () => {
    const a = await agents.register({ name: 'ws', publicJwk: jwkOf('ed25519') });
    await agents.approve(a.id, officer);
    expect(await codeOf(agents.approve(a.id, officer))).toBe('agent_state');
    await agents.revoke(a.id, officer);
    expect(await codeOf(agents.approve(a.id, officer))).toBe('agent_state');
    expect((await agents.get(a.id))?.status).toBe('revoked');
    expect(await codeOf(agents.approve('ag_0000000000000000', officer))).toBe('agent_not_found');
    expect(await codeOf(agents.approve('by-fp', officer))).toBe('agent_not_found');
    expect(await codeOf(agents.approve(a.id, ''))).toBe('bad_request');
  });

  it('revoke.success: a pending or approved agent becomes revoked, recording who and when', async () => {
    const p = await agents.register({ name: 'pending', publicJwk: jwkOf('ed25519') });
    const q = await agents.register({ name: 'approved', publicJwk: jwkOf('p256') });
    await agents.approve(q.id, officer);
    clock.advance(1000);
    expect(await agents2.revoke(p.id, officer)).toEqual({ ...p, status: 'revoked', revokedBy: officer, revokedAt: clock.now() });
    const r = await agents2.revoke(q.id, 'acc_0000000000000001');
    expect(r).toMatchObject({ status: 'revoked', approvedBy: officer, revokedBy: 'acc_0000000000000001', revokedAt: clock.now() });
  });

  it('revoke.fail: agent_state when already revoked; agent_not_found for an unknown id', async () => {
    const a = await agents.register({ name: 'ws', publicJwk: jwkOf('ed25519') });
    await agents.revoke(a.id, officer);
    expect(await codeOf(agents.revoke(a.id, officer))).toBe('agent_state');
    expect(await codeOf(agents.revoke('ag_0000000000000000', officer))).toBe('agent_not_found');
    expect(await agents.get('ag_0000000000000000')).toBeNull();
  });

  it('approve.race: two officers approving one agent, exactly one wins (20 runs)', async () => {
    for (let i = 0; i < 20; i++) {
      const a = await agents.register({ name: 'ws', publicJwk: jwkOf('ed25519') });
      const r = await outcomes([agents.approve(a.id, 'acc_0000000000000001'), agents2.approve(a.id, 'acc_0000000000000002')]);
      expect(r).toEqual({ won: 1, codes: ['agent_state'] });
    }
  });

  it('approve-vs-revoke.race: the agent always ends revoked, never approved after a revoke', async () => {
    for (let i = 0; i < 20; i++) {
      const a = await agents.register({ name: 'ws', publicJwk: jwkOf('ed25519') });
      const [approved, revoked] = await Promise.all([codeOf(agents.approve(a.id, officer)), codeOf(agents2.revoke(a.id, officer))]);
      expect(revoked).toBe('no-error');
      expect(['no-error', 'agent_state']).toContain(approved);
      expect((await agents.get(a.id))?.status).toBe('revoked');
    }
  });

  it('list.success: every agent, oldest first', async () => {
    const a = await agents.register({ name: 'first', publicJwk: jwkOf('ed25519') });
    clock.advance(1);
    const b = await agents.register({ name: 'second', publicJwk: jwkOf('p256') });
    await agents.approve(b.id, officer);
    expect((await agents2.list()).map((x) => [x.name, x.status])).toEqual([['first', 'pending'], ['second', 'approved']]);
    expect((await agents2.list())[0]).toEqual(a);
  });

  it('seen IPs: the enrollment IP, then each one recorded; a resumed enrollment adds none (the public key is no secret)', async () => {
    const jwk = jwkOf('ed25519');
    const a = await agents.register({ name: 'ws', publicJwk: jwk, ip: '192.0.2.10' });
    expect(await agents2.seenAt(a.id, '192.0.2.10')).toBe(true);
    expect(await agents2.seenAt(a.id, '192.0.2.11')).toBe(false);
    expect((await agents.register({ name: 'ws', publicJwk: jwk, resumePending: true, ip: '198.51.100.7' })).resumed).toBe(true);
    expect(await agents.seenAt(a.id, '198.51.100.7')).toBe(false);
    await agents2.recordSeen(a.id, '192.0.2.11');
    expect(await agents.seenAt(a.id, '192.0.2.11')).toBe(true);
    const b = await agents.register({ name: 'other', publicJwk: jwkOf('p256') });
    expect(await agents.seenAt(b.id, '192.0.2.10')).toBe(false); // per agent, and none without an ip
    // Where it enrolled from stays with it, for the officer who approves it (the workbench's agents page).
    expect(a.enrolledFrom).toBe('192.0.2.10');
    expect((await agents2.get(a.id))?.enrolledFrom).toBe('192.0.2.10');
    expect(Object.fromEntries((await agents2.list()).map((x) => [x.id, x.enrolledFrom]))).toEqual({ [a.id]: '192.0.2.10', [b.id]: undefined });
  });

  it('seen IPs: one not seen for 90 days no longer counts, until the workstation is seen at it again', async () => {
    const a = await agents.register({ name: 'ws', publicJwk: jwkOf('ed25519'), ip: '10.9.0.1' });
    clock.advance(SEEN_IP_MAX_AGE_MS);
    expect(await agents.seenAt(a.id, '10.9.0.1')).toBe(true);
    clock.advance(1);
    expect(await agents.seenAt(a.id, '10.9.0.1')).toBe(false);
    await agents.recordSeen(a.id, '10.9.0.1');
    expect(await agents.seenAt(a.id, '10.9.0.1')).toBe(true);
  });

  it(`seen IPs: only the ${SEEN_IPS_KEPT} most recently seen are kept, so an old DHCP lease ages out`, async () => {
    const a = await agents.register({ name: 'ws', publicJwk: jwkOf('ed25519'), ip: '10.0.0.0' });
    for (let i = 1; i <= SEEN_IPS_KEPT; i++) {
      clock.advance(1000);
      await agents.recordSeen(a.id, `10.0.0.${i}`);
      if (i === 8) {
        clock.advance(1000);
        await agents.recordSeen(a.id, '10.0.0.0'); // seen again: now among the recent
      }
    }
    expect(await agents.seenAt(a.id, '10.0.0.1')).toBe(false);
    for (const ip of ['10.0.0.0', '10.0.0.2', `10.0.0.${SEEN_IPS_KEPT}`]) expect(await agents.seenAt(a.id, ip)).toBe(true);
    expect(await node1.zcard(`agent:${a.id}:ips`)).toBe(SEEN_IPS_KEPT);
  });

  it('seen IPs: agent_not_found for an unknown agent, which gets no set; bad_request for a bad ip', async () => {
    expect(await codeOf(agents.recordSeen('ag_0000000000000000', '192.0.2.1'))).toBe('agent_not_found');
    expect(await codeOf(agents.recordSeen('nope', '192.0.2.1'))).toBe('agent_not_found');
    expect(await node1.exists('agent:ag_0000000000000000:ips')).toBe(0);
    expect(await agents.seenAt('nope', '192.0.2.1')).toBe(false);
    const a = await agents.register({ name: 'ws', publicJwk: jwkOf('ed25519') });
    expect(await codeOf(agents.recordSeen(a.id, ''))).toBe('bad_request');
  });

  it('error: unavailable when Redis cannot be reached', async () => {
    const dead = await unreachableRedis();
    const store = createAgentStore({ redis: dead, clock });
    expect(await codeOf(store.register({ name: 'ws', publicJwk: jwkOf('ed25519') }))).toBe('unavailable');
    expect(await codeOf(store.approve('ag_0000000000000000', officer))).toBe('unavailable');
    expect(await codeOf(store.list())).toBe('unavailable');
    expect(await codeOf(store.recordSeen('ag_0000000000000000', '192.0.2.1'))).toBe('unavailable');
    expect(await codeOf(store.seenAt('ag_0000000000000000', '192.0.2.1'))).toBe('unavailable');
    dead.disconnect();
  });
});
