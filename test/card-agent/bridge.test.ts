import { EventEmitter } from 'node:events';
import { request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeJwt, importJWK, jwtVerify, type CryptoKey } from 'jose';
import { createAgent, type CardSource } from '../../src/card-agent/agent';
import { loadOrCreateIdentity } from '../../src/card-agent/keystore';
import type { Tap } from '../../src/card-agent/tap-broker';
import { silentLogger } from '../../src/logger';

// The bridge over real loopback HTTP, fed by a plain event source (the PC/SC
// side and the whole chain are tested in agent.e2e with real pcscd).
class FakeSource extends EventEmitter implements CardSource {
  /** The card lying on the reader, as the reader watcher would report it. */
  present: Tap | undefined;
  status() {
    return { pcscUp: true, readers: [{ name: 'Virtual PCD 00 00', cardPresent: this.present !== undefined }] };
  }
  presentCard(): Tap | undefined {
    return this.present;
  }
}

const PAGE = 'http://127.0.0.1:8080';

describe('agent bridge', () => {
  let server: Server;
  let base: string;
  let source: FakeSource;
  let dir: string;
  const sent: string[] = [];
  let close: () => void;
  let agentKey: CryptoKey;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'cardauth-agent-'));
    const identity = { ...(await loadOrCreateIdentity(dir)), agentId: 'ag_00000000000000aa' };
    agentKey = (await importJWK(identity.publicJwk, 'EdDSA')) as CryptoKey;
    source = new FakeSource();
    const agent = createAgent({
      origins: [PAGE],
      waitMs: 300,
      contactReaders: [],
      identity,
      source,
      server: { status: async () => 'approved', sendEvent: async (s) => (sent.push(s), { locked: 1 }) },
      serverOrigin: PAGE,
      clock: { now: () => Date.now() },
      logger: silentLogger,
    });
    close = agent.close;
    server = await new Promise((resolve) => {
      const s = agent.bridge.listen(0, '127.0.0.1', () => resolve(s));
    });
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    close();
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
    rmSync(dir, { recursive: true, force: true });
  });

  const req = (path: string, init: RequestInit & { origin?: string | null } = {}) => {
    const headers: Record<string, string> = { ...(init.headers as Record<string, string>) };
    if (init.origin !== null) headers.origin = init.origin ?? PAGE;
    return fetch(base + path, { ...init, headers });
  };
  const ask = (nonce = 'n'.repeat(43), aud = PAGE, origin?: string) =>
    req('/v1/statement', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ nonce, aud }), ...(origin ? { origin } : {}) });

  it('keeps its private key 0600 and generates it only once', async () => {
    expect(statSync(join(dir, 'agent-key.json')).mode & 0o777).toBe(0o600);
    const again = await loadOrCreateIdentity(dir);
    expect(again.fingerprint).toBe((await loadOrCreateIdentity(dir)).fingerprint);
  });

  it('refuses a foreign Origin and a missing one with 403', async () => {
    expect((await req('/v1/status', { origin: 'https://evil.example' })).status).toBe(403);
    expect((await req('/v1/status', { origin: null })).status).toBe(403);
    expect((await ask(undefined, undefined, 'https://evil.example')).status).toBe(403);
  });

  it('refuses a Host that is not a loopback name (DNS rebinding), even with an allowed Origin', async () => {
    const status = await new Promise<number>((resolve, reject) => {
      const r = request(`${base}/v1/status`, { headers: { host: 'rebound.example:47800', origin: PAGE } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      r.on('error', reject);
      r.end();
    });
    expect(status).toBe(403);
    expect((await req('/v1/status')).status).toBe(200);
  });

  it('answers the CORS preflight with the Private Network Access header', async () => {
    const res = await req('/v1/statement', {
      method: 'OPTIONS',
      headers: { 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type', 'access-control-request-private-network': 'true' },
    });
    expect(res.status).toBe(204);
    expect(res.headers.get('access-control-allow-origin')).toBe(PAGE);
    expect(res.headers.get('access-control-allow-private-network')).toBe('true');
    expect(res.headers.get('access-control-allow-headers')).toContain('content-type');
  });

  it('status shows readers and approval, never a UID', async () => {
    const idle = await req('/v1/status');
    expect(await idle.json()).toEqual({ agentId: 'ag_00000000000000aa', approved: true, pcscUp: true, readers: [{ name: 'Virtual PCD 00 00', cardPresent: false }] });
    // A card is tapped (the agent now holds its UID as the active card) and stays on the reader.
    const uid = '04C0FFEE123456';
    const card = { uid, reader: 'Virtual PCD 00 00', at: Date.now() };
    const pending = ask('S'.repeat(43));
    setTimeout(() => {
      source.present = card;
      source.emit('card', card);
    }, 50);
    try {
      expect((await pending).status).toBe(200);
      const res = await req('/v1/status');
      const text = await res.text();
      expect(JSON.parse(text)).toEqual({ agentId: 'ag_00000000000000aa', approved: true, pcscUp: true, readers: [{ name: 'Virtual PCD 00 00', cardPresent: true }] });
      expect(text).not.toContain(uid);
    } finally {
      source.present = undefined;
    }
  });

  it('long-polls for a tap and answers a signed statement bound to the nonce', async () => {
    const pending = ask('N'.repeat(43));
    setTimeout(() => source.emit('card', { uid: '04A22BB25C6180', reader: 'Virtual PCD 00 00', at: Date.now() }), 50);
    const res = await pending;
    expect(res.status).toBe(200);
    const { statement } = (await res.json()) as { statement: string };
    // Signed by this agent's key (EdDSA only), for this page, by this agent.
    const { payload: claims, protectedHeader } = await jwtVerify(statement, agentKey, {
      algorithms: ['EdDSA'],
      issuer: 'ag_00000000000000aa',
      audience: PAGE,
      typ: 'cardauth-card+jwt',
      requiredClaims: ['iat', 'exp', 'jti', 'nonce', 'uid', 'reader'],
    });
    expect(protectedHeader).toMatchObject({ alg: 'EdDSA', kid: 'ag_00000000000000aa', typ: 'cardauth-card+jwt' });
    expect(claims).toMatchObject({ iss: 'ag_00000000000000aa', aud: PAGE, nonce: 'N'.repeat(43), uid: '04A22BB25C6180', reader: 'Virtual PCD 00 00' });
    expect((claims.exp as number) - (claims.iat as number)).toBeLessThanOrEqual(30);
  });

  it('answers 422 card_unreadable when the card on the reader could not be read', async () => {
    const pending = ask('U'.repeat(43));
    setTimeout(() => source.emit('read-error', { reader: 'Virtual PCD 00 00', code: 'card_operation_failed', message: 'SW 63 00', at: Date.now() }), 50);
    const res = await pending;
    expect(res.status).toBe(422);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('card_unreadable');
  });

  it('signs a random UID as read, so that the server can refuse and audit it', async () => {
    const pending = ask('R'.repeat(43));
    setTimeout(() => source.emit('read-error', { reader: 'Virtual PCD 00 00', code: 'uid_random', message: 'random', at: Date.now(), presentedUid: '08A1B2C3' }), 50);
    const res = await pending;
    expect(res.status).toBe(200);
    const { statement } = (await res.json()) as { statement: string };
    const { payload } = await jwtVerify(statement, agentKey, { algorithms: ['EdDSA'], audience: PAGE, typ: 'cardauth-card+jwt' });
    expect(payload).toMatchObject({ uid: '08A1B2C3', nonce: 'R'.repeat(43) });
  });

  it('answers 408 tap_timeout when no card comes', async () => {
    const res = await ask();
    expect(res.status).toBe(408);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('tap_timeout');
  });

  it('refuses an aud other than the asking page, and a malformed body', async () => {
    expect((await ask(undefined, 'https://other.example')).status).toBe(400);
    const bad = await req('/v1/statement', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"nonce":{"$ne":1}}' });
    expect(bad.status).toBe(400);
  });

  it('a desk read (purpose desk_read) gets the next card signed as a desk read (typ cardauth-desk+jwt, never a login), with no switch tap-out of the active card; another purpose is 400', async () => {
    const login = ask('D'.repeat(43));
    setTimeout(() => source.emit('card', { uid: '04222222222222', reader: 'R', at: Date.now() }), 20);
    expect((await login).status).toBe(200);
    const before = sent.length;
    const body = (purpose: string) => JSON.stringify({ nonce: 'E'.repeat(43), aud: PAGE, purpose });
    const desk = req('/v1/statement', { method: 'POST', headers: { 'content-type': 'application/json' }, body: body('desk_read') });
    setTimeout(() => source.emit('card', { uid: '04333333333333', reader: 'R', at: Date.now() }), 50);
    const res = await desk;
    expect(res.status).toBe(200);
    const { payload } = await jwtVerify(((await res.json()) as { statement: string }).statement, agentKey, { algorithms: ['EdDSA'], audience: PAGE, typ: 'cardauth-desk+jwt' });
    expect(payload).toMatchObject({ uid: '04333333333333', nonce: 'E'.repeat(43) });
    await new Promise((r) => setTimeout(r, 100));
    // Nothing about this test's cards (an earlier test's tap-out may still arrive late: not this one's).
    const about = sent.slice(before).map((jws) => (decodeJwt(jws) as { uid?: string }).uid);
    expect(about.filter((uid) => uid === '04222222222222' || uid === '04333333333333')).toEqual([]);
    expect((await req('/v1/statement', { method: 'POST', headers: { 'content-type': 'application/json' }, body: body('login') })).status).toBe(400);
  });

  it('sends a signed tap-out to the server when the active card is tapped again', async () => {
    const pending = ask('T'.repeat(43));
    setTimeout(() => source.emit('card', { uid: '04111111111111', reader: 'R', at: Date.now() }), 20);
    expect((await pending).status).toBe(200);
    // Earlier tests left another card active: its switch tap-out is sent first, whatever this one does.
    const taps = () => sent.filter((jws) => JSON.parse(Buffer.from(jws.split('.')[1]!, 'base64url').toString()).signal === 'tap');
    source.emit('card', { uid: '04111111111111', reader: 'R', at: Date.now() });
    for (let i = 0; i < 50 && taps().length === 0; i++) await new Promise((r) => setTimeout(r, 10));
    expect(taps()).toHaveLength(1);
    const { payload, protectedHeader } = await jwtVerify(taps()[0]!, agentKey, {
      algorithms: ['EdDSA'],
      issuer: 'ag_00000000000000aa',
      audience: PAGE,
      typ: 'cardauth-event+jwt',
      requiredClaims: ['iat', 'exp', 'jti', 'evt', 'uid', 'reader', 'signal'],
    });
    expect(protectedHeader).toMatchObject({ alg: 'EdDSA', kid: 'ag_00000000000000aa', typ: 'cardauth-event+jwt' });
    expect(payload).toMatchObject({ iss: 'ag_00000000000000aa', evt: 'card.tapout', uid: '04111111111111', reader: 'R', signal: 'tap', aud: PAGE });
    expect((payload.exp as number) - (payload.iat as number)).toBeLessThanOrEqual(30);
  });
  it('streams card events with no UID', async () => {
    const ctrl = new AbortController();
    const res = await req('/v1/events', { signal: ctrl.signal });
    expect(res.headers.get('content-type')).toContain('text/event-stream');
    const reader = res.body!.getReader();
    setTimeout(() => source.emit('card', { uid: '04FFEEDDCCBBAA', reader: 'Virtual PCD 00 00', at: Date.now() }), 50);
    let text = '';
    while (!text.includes('event: card')) text += new TextDecoder().decode((await reader.read()).value);
    ctrl.abort();
    expect(text).toContain('"reader":"Virtual PCD 00 00"');
    expect(text).not.toContain('04FFEEDDCCBBAA');
  });

});

describe('agent bridge, not enrolled yet', () => {
  it('refuses a statement request at once with 503 unavailable, and the tap that follows stays for the next request', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cardauth-agent-'));
    const source = new FakeSource();
    const identity = await loadOrCreateIdentity(dir); // no agentId: never enrolled
    const agent = createAgent({
      origins: [PAGE],
      waitMs: 2000,
      contactReaders: [],
      identity,
      source,
      server: { status: async () => 'pending', sendEvent: async () => ({ locked: 0 }) },
      serverOrigin: PAGE,
      clock: { now: () => Date.now() },
      logger: silentLogger,
    });
    const server: Server = await new Promise((resolve) => {
      const s = agent.bridge.listen(0, '127.0.0.1', () => resolve(s));
    });
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/statement`;
      const res = await fetch(url, { method: 'POST', headers: { origin: PAGE, 'content-type': 'application/json' }, body: JSON.stringify({ nonce: 'n'.repeat(43), aud: PAGE }) });
      expect(res.status).toBe(503);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe('unavailable');
      source.emit('card', { uid: '04A22BB25C6180', reader: 'Virtual PCD 00 00', at: Date.now() });
      await expect(agent.broker.nextTap(100)).resolves.toMatchObject({ uid: '04A22BB25C6180' });
    } finally {
      agent.close();
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
