import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { systemClock } from '../../../src/clock';
import { loadServerConfig } from '../../../src/config';
import { DEMO_CARDS } from '../../../dev/demo/fixtures';
import { demoRoutes } from '../../../dev/demo/routes';
import { startVirtualReader, type VirtualReader } from '../../../dev/virtual-reader';
import { silentLogger } from '../../../src/logger';
import { startServer, type RunningServer } from '../../../src/server';
import { TestClient, TEST_SECRET } from '../../helpers/app';
import { startRedis, type TestRedis } from '../../helpers/redis';
import { waitUntil } from '../../card-agent/watcher-events';

// The demo routes as the demo's server mounts them (`serve` of dev/cli.ts), tapping on a real pcscd + vpcd.
const ORIGIN = 'http://127.0.0.1:8080';
let redis: TestRedis;
let dir: string;
let reader: VirtualReader;
const servers: RunningServer[] = [];

async function serve(env: Record<string, string>, withDemo = true): Promise<TestClient> {
  const config = loadServerConfig({ REDIS_URL: redis.url, CARDAUTH_PORT: '0', CARDAUTH_PUBLIC_ORIGIN: ORIGIN, CARDAUTH_SESSION_SECRET: TEST_SECRET, ...env });
  const s = await startServer({ config, logger: silentLogger, clock: systemClock, shutdownGraceMs: 100, ...(withDemo ? { extraRoutes: demoRoutes(config, silentLogger) } : {}) });
  servers.push(s);
  return new TestClient(s.url, ORIGIN);
}

/** pcscd's own log lines about slot 0 since `from`. */
const slot0Events = (from: number) =>
  reader
    .log()
    .split('\n')
    .slice(from)
    .filter((l) => /Card (inserted into|Removed From) Virtual PCD 00 00/.test(l))
    .map((l) => (l.includes('inserted') ? 'inserted' : 'removed'));

beforeAll(async () => {
  redis = await startRedis();
  dir = mkdtempSync(join(tmpdir(), 'cardauth-demo-routes-'));
  reader = await startVirtualReader({ dir: join(dir, 'reader') });
});
afterAll(async () => {
  for (const s of servers) await s.close();
  await reader?.stop();
  await redis?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('demo routes with CARDAUTH_DEMO=true', () => {
  let client: TestClient;
  beforeAll(async () => {
    client = await serve({ CARDAUTH_DEMO: 'true', CARDAUTH_DEMO_VPCD_DIR: reader.dir });
  });

  it('GET /demo/cards lists every demo card with its label, no-store like every API answer', async () => {
    const r = await client.get('/demo/cards');
    expect(r.status).toBe(200);
    expect(r.headers.get('cache-control')).toBe('no-store');
    expect(r.json).toEqual({ cards: DEMO_CARDS.map((c) => ({ uid: c.uid, label: c.label })) });
    expect(r.json.cards).toContainEqual({ uid: '04A22BB25C6180', label: 'Иванова (ЕКП)' });
  });

  it('POST /demo/tap puts the card on the virtual reader for a moment (pcscd sees it arrive, then leave)', async () => {
    const from = reader.log().split('\n').length;
    const started = Date.now();
    const r = await client.post('/demo/tap', { uid: '04:a2:2b:b2:5c:61:80' });
    expect(r.status).toBe(202);
    expect(r.json).toEqual({ uid: '04A22BB25C6180' });
    await waitUntil(() => slot0Events(from).includes('removed'), 'pcscd to see the card come and go', 6000);
    expect(slot0Events(from)).toEqual(['inserted', 'removed']);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1000); // held ~1.2 s, like a hand
  });

  it.each<[string, Record<string, unknown> | string, Record<string, string>, number, string]>([
    ['a card that is not a demo card', { uid: '04112233445566' }, {}, 400, 'bad_request'],
    ['an unknown field', { uid: '04A22BB25C6180', slot: 1 }, {}, 400, 'bad_request'],
    ['a uid that is not a string', { uid: ['04A22BB25C6180'] }, {}, 400, 'bad_request'],
    ['no body', '', {}, 400, 'bad_request'],
    ['another Origin', { uid: '04A22BB25C6180' }, { origin: 'http://evil.example' }, 403, 'origin_forbidden'],
  ])('refuses %s without tapping', async (_what, body, headers, status, code) => {
    const from = reader.log().split('\n').length;
    const r = await client.post('/demo/tap', body, headers);
    expect(r.status).toBe(status);
    expect(r.json.error.code).toBe(code);
    await new Promise((done) => setTimeout(done, 600)); // a pcscd poll or so
    expect(slot0Events(from)).toEqual([]);
  });

  it('refuses a POST with no Origin at all', async () => {
    const bare = new TestClient(client.base, null);
    const r = await bare.post('/demo/tap', { uid: '04A22BB25C6180' });
    expect(r.status).toBe(403);
    expect(r.json.error.code).toBe('origin_forbidden');
  });

  it('the login page asks for the demo buttons', async () => {
    const r = await client.get('/login');
    expect(r.status).toBe(200);
    expect(r.text).toContain('data-demo="true"');
    expect(r.text).toContain('id="demo-cards"');
  });
});

describe('demo routes when the virtual reader is not running', () => {
  it('POST /demo/tap answers 503 unavailable', async () => {
    const empty = mkdtempSync(join(dir, 'no-reader-'));
    const client = await serve({ CARDAUTH_DEMO: 'true', CARDAUTH_DEMO_VPCD_DIR: empty });
    const r = await client.post('/demo/tap', { uid: '04A22BB25C6180' });
    expect(r.status).toBe(503);
    expect(r.json.error.code).toBe('unavailable');
  });
});

describe('without CARDAUTH_DEMO', () => {
  it('has no demo routes and no demo buttons', async () => {
    const client = await serve({ CARDAUTH_DEMO_VPCD_DIR: reader.dir });
    expect((await client.get('/demo/cards')).status).toBe(404);
    const r = await client.post('/demo/tap', { uid: '04A22BB25C6180' });
    expect(r.status).toBe(404);
    expect(r.json.error.code).toBe('not_found');
    expect((await client.get('/login')).text).toContain('data-demo="false"');
  });
});

describe('the shipped server (startServer with no extraRoutes, as `cardauth serve`)', () => {
  it('has no demo routes even with CARDAUTH_DEMO=true: only the demo\'s own server mounts them', async () => {
    const client = await serve({ CARDAUTH_DEMO: 'true', CARDAUTH_DEMO_VPCD_DIR: reader.dir }, false);
    expect((await client.get('/demo/cards')).status).toBe(404);
    const r = await client.post('/demo/tap', { uid: '04A22BB25C6180' });
    expect(r.status).toBe(404);
    expect(r.json.error.code).toBe('not_found');
  });
});
