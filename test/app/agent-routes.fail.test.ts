import { exportJWK, generateKeyPair } from 'jose';
import { signTapout } from '../../src/card-agent/sign-statement';
import { auditRecords } from '../helpers/audit';
import { suiteServer, TestClient, type TestAgent, type TestServer } from '../helpers/app';

// Behind a trusted proxy, so each test client can stand for its own address (X-Forwarded-For).
const TRUSTED_PROXY = { CARDAUTH_TRUST_PROXY: 'loopback' };
const agentAt = (srv: TestServer, ip: string) => new TestClient(srv.url, null, { 'x-forwarded-for': ip });

describe('POST /agents/events: anyone can send junk, so refusals are rate-limited per IP and leave a bounded trail', () => {
  let srv: TestServer;
  let agent: TestAgent;
  suiteServer({ env: TRUSTED_PROXY }, (s, a) => {
    [srv, agent] = [s, a];
  });

  it('300 junk statements: 401 up to CARDAUTH_AGENT_EVENTS_PER_MIN (120), 429 beyond, and exactly 2 audit records, which count them all', async () => {
    const before = (await auditRecords(srv.redis)).length;
    const junk = agentAt(srv, '192.0.2.66');
    const statuses: number[] = [];
    for (let i = 0; i < 300; i++) statuses.push((await junk.post('/agents/events', { statement: `junk-${i}-${'x'.repeat(900)}` })).status);
    expect(statuses.slice(0, 120)).toEqual(Array(120).fill(401));
    expect(statuses.slice(120)).toEqual(Array(180).fill(429));

    const added = (await auditRecords(srv.redis)).slice(before);
    expect(added).toHaveLength(2);
    expect(added[0]).toMatchObject({ type: 'card.tapout', outcome: 'failure', reason: 'bad_statement', source: { ip: '192.0.2.66' } });
    expect(added[0]!.details).toBeUndefined();
    // The 119 refusals after the first, counted rather than each recorded, reach the trail with the limit's record.
    expect(added[1]).toMatchObject({ type: 'card.tapout', outcome: 'failure', reason: 'rate_limited', source: { ip: '192.0.2.66' }, details: { unrecordedRefusals: 119 } });

    // A real tap-out from the same address still works (and is recorded): the junk cannot hold it up.
    const tapout = await signTapout(agent.key, { aud: srv.config.CARDAUTH_PUBLIC_ORIGIN, uid: '04000000000A01', reader: 'R', signal: 'tap' }, srv.clock);
    expect((await agentAt(srv, '192.0.2.66').post('/agents/events', { statement: tapout })).json).toEqual({ locked: 0 });
    expect((await auditRecords(srv.redis)).slice(before + 2)).toEqual([expect.objectContaining({ type: 'card.tapout', outcome: 'success' })]);
  });

  it('verified events are limited per agent: the 121st in a minute is 429, and another agent is not held up', async () => {
    const tap = (who: TestAgent) => signTapout(who.key, { aud: srv.config.CARDAUTH_PUBLIC_ORIGIN, uid: '04000000000A02', reader: 'R', signal: 'tap' }, srv.clock);
    const flooder = await srv.agent({ name: 'РМ-flood' });
    await srv.services.agents.recordSeen(flooder.id, '127.0.0.1');
    const statuses: number[] = [];
    for (let i = 0; i < 121; i++) statuses.push((await agentAt(srv, '127.0.0.1').post('/agents/events', { statement: await tap(flooder) })).status);
    expect(statuses.slice(0, 120)).toEqual(Array(120).fill(200));
    expect(statuses[120]).toBe(429);
    expect((await agentAt(srv, '127.0.0.1').post('/agents/events', { statement: await tap(agent) })).status).toBe(200);
  });

  it('a body that is not a statement (not JSON, a form, the wrong fields) is 400 and neither recorded nor counted', async () => {
    const before = (await auditRecords(srv.redis)).length;
    const c = agentAt(srv, '192.0.2.67');
    for (let i = 0; i < 130; i++) {
      const res = i % 2 ? await c.post('/agents/events', `{"statement":"x${i}"}`, { 'content-type': 'text/plain' }) : await c.post('/agents/events', { nope: i });
      expect(res.status).toBe(400);
    }
    expect(await auditRecords(srv.redis)).toHaveLength(before);
    expect((await c.post('/agents/events', { statement: 'junk' })).status).toBe(401); // the limit is untouched
  });
});

describe('POST /agents/enroll: only a well-formed JSON enrollment takes from the per-IP quota', () => {
  let srv: TestServer;
  suiteServer({ env: TRUSTED_PROXY }, (s) => {
    srv = s;
  });
  const enroll = async (c: TestClient, name: string) => {
    const { publicKey } = await generateKeyPair('EdDSA', { extractable: true });
    return c.post('/agents/enroll', { name, publicJwk: await exportJWK(publicKey) });
  };

  it('20 cross-site text/plain or form POSTs and junk bodies get 400 and leave the quota whole: 10 real enrollments then pass, the 11th is 429', async () => {
    const ws = agentAt(srv, '192.0.2.80');
    const { publicKey } = await generateKeyPair('EdDSA', { extractable: true });
    const valid = JSON.stringify({ name: 'Кабинет 12', publicJwk: await exportJWK(publicKey) });
    const junk: Array<[unknown, Record<string, string>?]> = [
      [valid, { 'content-type': 'text/plain' }], // what a cross-site page can send without a preflight
      [`name=x&publicJwk=${encodeURIComponent(valid)}`, { 'content-type': 'application/x-www-form-urlencoded' }],
      [{}],
      [{ name: 'Кабинет 12' }],
      [{ name: '', publicJwk: {} }],
      [{ ...JSON.parse(valid), extra: 1 }],
      [{ name: 'x'.repeat(65), publicJwk: {} }],
      [{ name: 'Кабинет 12', publicJwk: 'not a key' }],
      ['not json at all', { 'content-type': 'text/plain' }],
      [valid, { 'content-type': 'multipart/form-data; boundary=x' }],
    ];
    for (let i = 0; i < 20; i++) {
      const [body, headers] = junk[i % junk.length]!;
      expect((await ws.post('/agents/enroll', body, headers)).status).toBe(400);
    }
    for (let i = 0; i < 10; i++) expect((await enroll(ws, `ws-${i}`)).status).toBe(201);
    const over = await enroll(ws, 'ws-10');
    expect(over.status).toBe(429);
    expect(over.json.error.code).toBe('rate_limited');
  });
});
