import { decodeJwt } from 'jose';
import { auditRecords, lastAudit } from '../helpers/audit';
import { VPCD_READERS, type TestPcscd } from '../helpers/pcscd';
import type { TestClient, TestServer } from '../helpers/app';
import type { TestAgentProcess } from '../helpers/agent';
import { suiteChain } from '../helpers/chain';

// The whole chain, really started: pcscd + vpcd (private namespaces), a virtual
// card, pcsclite, the agent (reader watcher, broker, bridge, signer), the server.
const IVANOVA = { login: 'ivanova', password: 'Пароль-Ивановой-2026', uid: '04A22BB25C6180' };
const PETROV = { login: 'petrov', password: 'Пароль-Петрова-2026', uid: '04B33CC46D7291' };
const [SLOT0, SLOT1] = VPCD_READERS;

let srv: TestServer;
let pcscd: TestPcscd;
let agent: TestAgentProcess;

suiteChain({ serverEnv: { CARDAUTH_IP_ATTEMPTS: '1000' }, agentEnv: { CARDAUTH_AGENT_CONTACT_READERS: SLOT1, CARDAUTH_AGENT_WAIT_SEC: '8' } }, async (c) => {
  ({ pcscd, srv, agent } = c);
  await srv.account(IVANOVA.login, IVANOVA.password, IVANOVA.uid);
  await srv.account(PETROV.login, PETROV.password, PETROV.uid);
  await waitFor(async () => (await status()).readers.length === 2, 'agent sees both readers');
});

async function waitFor(check: () => Promise<boolean> | boolean, what: string, timeoutMs = 8000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for: ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
const fromPage = (path: string, init: RequestInit = {}, origin = agent.origin) =>
  fetch(agent.url + path, { ...init, headers: { origin, 'content-type': 'application/json', ...(init.headers as Record<string, string>) } });
async function status() {
  return (await (await fromPage('/v1/status')).json()) as { agentId: string; approved: boolean; pcscUp: boolean; readers: Array<{ name: string; cardPresent: boolean }> };
}
/** What the login page does: a nonce from the server, then the agent's long poll while the card is tapped. */
async function statementByTap(c: TestClient, uid: string, slot: 0 | 1 = 0, hold = false): Promise<string> {
  const { nonce } = (await c.post('/auth/nonce')).json;
  const pending = fromPage('/v1/statement', { method: 'POST', body: JSON.stringify({ nonce, aud: agent.origin }) });
  await new Promise((r) => setTimeout(r, 100));
  await pcscd.tap(uid, slot);
  const res = await pending;
  if (!hold) await lift(slot);
  expect(res.status).toBe(200);
  return ((await res.json()) as { statement: string }).statement;
}
const present = async (slot: 0 | 1) => (await status()).readers.find((r) => r.name === VPCD_READERS[slot])?.cardPresent === true;
/** Takes the card off and waits until the agent has seen it go, so the next tap is a new one. */
async function lift(slot: 0 | 1 = 0) {
  await pcscd.remove(slot);
  await waitFor(async () => !(await present(slot)), 'card gone');
  await new Promise((r) => setTimeout(r, 250)); // past the 200 ms debounce
}
async function logIn(c: TestClient, who: typeof IVANOVA, slot: 0 | 1 = 0, hold = false) {
  const card = await c.post('/auth/card', { statement: await statementByTap(c, who.uid, slot, hold) });
  expect(card.json).toEqual({ next: 'password', login: who.login });
  const pw = await c.post('/auth/password', { login: who.login, password: who.password });
  expect(pw.status).toBe(200);
}
/** A tap nobody waits for: the card goes on and off the reader. */
async function bareTap(uid: string, slot: 0 | 1 = 0) {
  await pcscd.tap(uid, slot);
  await waitFor(() => present(slot), 'card seen');
  await new Promise((r) => setTimeout(r, 600)); // a tap lasts a moment: the agent reads it while it lies there
  await lift(slot);
}

describe('card agent end to end (real pcscd, vpcd, pcsclite, agent, server)', () => {
  it('status: both readers, approved, no UID even while a tapped card lies on the reader', async () => {
    const c = srv.client();
    await statementByTap(c, IVANOVA.uid, 0, true); // read and signed; the card stays on slot 0
    try {
      await waitFor(() => present(0), 'card seen on slot 0');
      const text = await (await fromPage('/v1/status')).text();
      const s = JSON.parse(text) as Awaited<ReturnType<typeof status>>;
      expect(s).toMatchObject({ agentId: agent.agentId, approved: true, pcscUp: true });
      expect(s.readers).toEqual([
        { name: SLOT0, cardPresent: true },
        { name: SLOT1, cardPresent: false },
      ]);
      expect(text).not.toContain(IVANOVA.uid);
    } finally {
      await lift(0);
    }
  });

  it('tap → signed statement → the card step passes', async () => {
    const c = srv.client();
    const statement = await statementByTap(c, IVANOVA.uid);
    expect(decodeJwt(statement)).toMatchObject({ iss: agent.agentId, aud: agent.origin, uid: IVANOVA.uid, reader: SLOT0 });
    const res = await c.post('/auth/card', { statement });
    expect(res.json).toEqual({ next: 'password', login: 'ivanova' });
  });

  it('a second tap of the same card locks the session (tap-out); card + password unlock it', async () => {
    const c = srv.client();
    await logIn(c, IVANOVA);
    await bareTap(IVANOVA.uid);
    await waitFor(async () => (await c.get('/auth/session')).status === 401, 'session locked by tap-out');
    expect((await c.get('/auth/session')).json.error.code).toBe('session_locked');
    expect(await lastAudit(srv.redis, 'card.tapout')).toMatchObject({ outcome: 'success', cardUid: IVANOVA.uid, details: { signal: 'tap' } });
    await logIn(c, IVANOVA);
    expect((await c.get('/auth/session')).json.login).toBe('ivanova');
    expect(await lastAudit(srv.redis, 'session.unlocked')).toMatchObject({ outcome: 'success' });
    // No session of hers left open here: the next test's tap of her card would be its tap-out.
    expect((await c.post('/auth/logout')).status).toBe(204);
  });

  it("another clinician's card locks the open session and starts their login", async () => {
    const c = srv.client();
    await logIn(c, IVANOVA);
    await bareTap(PETROV.uid); // nobody is waiting: the agent sends a switch tap-out and holds Petrov's tap
    await waitFor(async () => (await c.get('/auth/session')).status === 401, 'session locked by switch');
    expect(await lastAudit(srv.redis, 'session.locked')).toMatchObject({ reason: 'switch', cardUid: IVANOVA.uid });
    // the lock screen asks for a statement: the held tap answers at once, for Petrov
    const { nonce } = (await c.post('/auth/nonce')).json;
    const res = await fromPage('/v1/statement', { method: 'POST', body: JSON.stringify({ nonce, aud: agent.origin }) });
    const { statement } = (await res.json()) as { statement: string };
    expect((await c.post('/auth/card', { statement })).json.login).toBe('petrov');
    expect((await c.post('/auth/password', { login: PETROV.login, password: PETROV.password })).status).toBe(200);
    expect((await c.get('/auth/session')).json.login).toBe('petrov');
  });

  it('removing a card from a contact reader locks its session', async () => {
    const c = srv.client();
    await logIn(c, IVANOVA, 1, true);
    const { sessionIdHash } = (await lastAudit(srv.redis, 'session.created'))!;
    expect(sessionIdHash).toEqual(expect.any(String));
    const lockedBefore = (await auditRecords(srv.redis, 'session.locked')).length;
    await pcscd.remove(1);
    await waitFor(async () => (await c.get('/auth/session')).status === 401, 'session locked by removal');
    // Locked (card + password unlock it), not ended.
    expect((await c.get('/auth/session')).json.error.code).toBe('session_locked');
    expect(await lastAudit(srv.redis, 'card.tapout')).toMatchObject({ outcome: 'success', cardUid: IVANOVA.uid, details: { signal: 'removed' } });
    // A session.locked record for this very session, reason tapout, written by this removal.
    const lockedNow = (await auditRecords(srv.redis, 'session.locked')).slice(lockedBefore);
    expect(lockedNow).toContainEqual(expect.objectContaining({ outcome: 'success', reason: 'tapout', cardUid: IVANOVA.uid, sessionIdHash }));
    for (const r of lockedNow) expect(r).toMatchObject({ reason: 'tapout', cardUid: IVANOVA.uid });
  });

  it('a random UID is signed as read; the server refuses it and audits uid_random; the agent reads the next card', async () => {
    const c = srv.client();
    const statement = await statementByTap(c, '08A1B2C3');
    expect(decodeJwt(statement).uid).toBe('08A1B2C3');
    const res = await c.post('/auth/card', { statement });
    expect(res.status).toBe(401);
    expect(res.json.error.code).toBe('card_rejected');
    expect(await lastAudit(srv.redis, 'card.presented')).toMatchObject({ outcome: 'failure', reason: 'uid_random', cardUid: '08A1B2C3', source: { agentId: agent.agentId } });
    expect(decodeJwt(await statementByTap(srv.client(), IVANOVA.uid)).uid).toBe(IVANOVA.uid);
  });

  it('a card answering an error status word fails the waiting page with 422 card_unreadable, and the agent keeps reading', async () => {
    const c = srv.client();
    const { nonce } = (await c.post('/auth/nonce')).json;
    const pending = fromPage('/v1/statement', { method: 'POST', body: JSON.stringify({ nonce, aud: agent.origin }) });
    await new Promise((r) => setTimeout(r, 100));
    await pcscd.tap('04C0C0C0C0C0C0', 0, (apdu) => (apdu[1] === 0xca ? Uint8Array.of(0x6a, 0x81) : undefined));
    const res = await pending;
    await lift(0);
    expect(res.status).toBe(422);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('card_unreadable');
    expect(decodeJwt(await statementByTap(c, IVANOVA.uid)).uid).toBe(IVANOVA.uid);
  });

  it('one statement request waits at a time: a second one supersedes the first (409 superseded), and the tap goes to the second', async () => {
    // The first might be a program on this machine sending the allowed Origin ahead of the page.
    const ask = async (c: TestClient) => {
      const { nonce } = (await c.post('/auth/nonce')).json as { nonce: string };
      return { nonce, answer: fromPage('/v1/statement', { method: 'POST', body: JSON.stringify({ nonce, aud: agent.origin }) }) };
    };
    const hidden = await ask(srv.client());
    await new Promise((r) => setTimeout(r, 100)); // it waits at the agent
    const page = srv.client();
    const second = await ask(page);
    const first = await hidden.answer;
    expect(first.status).toBe(409);
    expect(((await first.json()) as { error: { code: string } }).error.code).toBe('superseded');
    await pcscd.tap(PETROV.uid);
    const res = await second.answer;
    await lift(0);
    expect(res.status).toBe(200);
    const { statement } = (await res.json()) as { statement: string };
    expect(decodeJwt(statement)).toMatchObject({ nonce: second.nonce, uid: PETROV.uid });
    expect((await page.post('/auth/card', { statement })).json).toEqual({ next: 'password', login: 'petrov' });
  });

  it('the active card tapped again while a request waits is still a tap-out: its session locks, and the request gets the next card, not that one', async () => {
    const c = srv.client();
    await logIn(c, IVANOVA);
    // A second login tab left open: its request waits.
    const { nonce } = (await srv.client().post('/auth/nonce')).json as { nonce: string };
    const stale = fromPage('/v1/statement', { method: 'POST', body: JSON.stringify({ nonce, aud: agent.origin }) });
    await new Promise((r) => setTimeout(r, 100));
    await bareTap(IVANOVA.uid);
    await waitFor(async () => (await c.get('/auth/session')).status === 401, 'session locked by tap-out');
    expect((await c.get('/auth/session')).json.error.code).toBe('session_locked');
    expect(await lastAudit(srv.redis, 'card.tapout')).toMatchObject({ cardUid: IVANOVA.uid, details: { signal: 'tap', sessionsLocked: 1 } });
    await pcscd.tap(PETROV.uid);
    const res = await stale;
    await lift(0);
    expect(res.status).toBe(200);
    expect(decodeJwt(((await res.json()) as { statement: string }).statement)).toMatchObject({ nonce, uid: PETROV.uid });
  });

  // Recovery only: how fast is for the benchmarks, not for a test. The agent's
  // own long poll (CARDAUTH_AGENT_WAIT_SEC, 8 s) is the failure deadline.
  it('pcscd killed and restarted: the agent recovers, and the next tap is read and works end to end', async () => {
    await pcscd.kill();
    await waitFor(async () => (await status()).pcscUp === false, 'agent notices pcscd is gone');
    await pcscd.restart();
    const c = srv.client();
    const { nonce } = (await c.post('/auth/nonce')).json;
    const pending = fromPage('/v1/statement', { method: 'POST', body: JSON.stringify({ nonce, aud: agent.origin }) });
    await pcscd.tap(IVANOVA.uid);
    const res = await pending;
    await lift(0);
    expect(res.status).toBe(200);
    expect((await status()).pcscUp).toBe(true);
    const { statement } = (await res.json()) as { statement: string };
    expect((await c.post('/auth/card', { statement })).json).toEqual({ next: 'password', login: 'ivanova' });
  });

  it('the bridge refuses a foreign Origin and answers the Private Network Access preflight', async () => {
    expect((await fromPage('/v1/status', {}, 'https://evil.example')).status).toBe(403);
    const pre = await fetch(agent.url + '/v1/statement', {
      method: 'OPTIONS',
      headers: { origin: agent.origin, 'access-control-request-method': 'POST', 'access-control-request-private-network': 'true' },
    });
    expect(pre.status).toBe(204);
    expect(pre.headers.get('access-control-allow-private-network')).toBe('true');
  });

  it('every step left an audit trail', async () => {
    const types = new Set((await auditRecords(srv.redis)).map((r) => r.type));
    for (const t of ['agent.enrolled', 'card.presented', 'password.checked', 'session.created', 'card.tapout', 'session.locked', 'session.unlocked']) expect(types).toContain(t);
  });
});
