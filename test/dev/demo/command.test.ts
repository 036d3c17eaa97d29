import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TestClient } from '../../helpers/app';
import { Browser } from '../../helpers/oidc';
import { freePort } from '../../helpers/redis';
import { cliEnv, cliRunner, DEV_BIN, oneErrorLine } from '../../cli/support';

const { runCli, spawnCli } = cliRunner(DEV_BIN);

// The dev tools' `demo` for real: Redis, pcscd + vpcd, server, agent and the demo MIS as children,
// then a login through the agent bridge and a tap on the virtual reader, then the demo MIS signing
// that login in through OpenID Connect, then a clean stop. Runs the built dev tools' CLI (npm run
// build and npm run build:dev first), as root.

let varDir: string;
let ports: { port: number; redis: number; agent: number; mis: number };
let args: string[];

interface Running {
  proc: ChildProcessWithoutNullStreams;
  out: () => string;
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function startDemo(): Running {
  const proc = spawnCli(args, cliEnv());
  let out = '';
  proc.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
  proc.stderr.setEncoding('utf8').on('data', (d: string) => (out += d));
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((done) => proc.once('close', (code, signal) => done({ code, signal })));
  return { proc, out: () => out, exit };
}

async function ready(d: Running, timeoutMs = 30_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  while (!d.out().includes('\nReady. Open ')) {
    if (d.proc.exitCode !== null || Date.now() > deadline) throw new Error(`cardauth demo did not get ready:\n${d.out()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return d.out();
}

const pidsIn = (out: string) => [...out.matchAll(/pid (\d+)/g)].map((m) => Number(m[1]));
const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};
const portOpen = (port: number) =>
  new Promise<boolean>((done) => {
    const s = connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      done(true);
    });
    s.once('error', () => done(false));
  });

beforeAll(async () => {
  varDir = mkdtempSync(join(tmpdir(), 'cardauth-demo-'));
  ports = { port: await freePort(), redis: await freePort(), agent: await freePort(), mis: await freePort() };
  args = ['demo', '--var', varDir, '--port', String(ports.port), '--redis-port', String(ports.redis), '--agent-port', String(ports.agent), '--mis-port', String(ports.mis)];
});
afterAll(() => rmSync(varDir, { recursive: true, force: true }));

describe('cardauth demo', () => {
  it('starts everything, a demo login works through the agent and the virtual reader, and SIGTERM stops it all', async () => {
    const demo = startDemo();
    try {
      const out = await ready(demo);
      const origin = `http://127.0.0.1:${ports.port}`;
      const misOrigin = `http://127.0.0.1:${ports.mis}`;
      // The MIS first: the first thing to open.
      expect(out).toContain(`Ready. Open ${misOrigin}/patients`);
      expect(out).toContain(`cardauth's own pages: ${origin}/login`);
      expect(out).toContain(`The security officer's workbench: ${origin}/admin`);
      expect(out).toContain(`The auditor's pages: ${origin}/admin/audit (log in as auditor`);
      expect(out).toMatch(/auditor\s+Auditor-Demo-2026!\s+auditor\s+04F7A8B9CAD003/);
      expect(out).toMatch(/ivanova\s+Ivanova-Demo-2026!\s+clinician\s+04A22BB25C6180/);
      expect(out).toContain('npm run --silent dev -- card tap --uid 04A22BB25C6180');
      expect(out).toMatch(/demo data\s+created: account security.*, client demo-mis\n/);
      const pids = pidsIn(out);
      expect(pids).toHaveLength(4); // pcscd, server, agent, MIS
      expect(pids.every(alive)).toBe(true);

      const page = new TestClient(origin, origin);
      expect((await page.get('/login')).text).toContain('data-demo="true"');
      const { nonce } = (await page.post('/auth/nonce')).json;
      // What the login page does: ask the agent for a statement, and (demo) press a tap button.
      const statement = fetch(`http://127.0.0.1:${ports.agent}/v1/statement`, {
        method: 'POST',
        headers: { origin, 'content-type': 'application/json' },
        body: JSON.stringify({ nonce, aud: origin }),
      }).then((r) => r.json() as Promise<{ statement: string }>);
      await new Promise((r) => setTimeout(r, 200));
      expect((await page.post('/demo/tap', { uid: '04A22BB25C6180' })).status).toBe(202);
      const card = await page.post('/auth/card', { statement: (await statement).statement });
      expect(card.json).toEqual({ next: 'password', login: 'ivanova' });
      const login = await page.post('/auth/password', { login: 'ivanova', password: 'Ivanova-Demo-2026!' });
      expect(login.status).toBe(200);
      expect(login.json).toMatchObject({ login: 'ivanova', amr: ['sc', 'pwd'], workstation: 'Демо-станция' });

      // The demo MIS takes that login through OpenID Connect: its patients page → cardauth's
      // /oidc/auth (a registered client, the provider on) → silently back with a code → the clinician.
      const browser = new Browser(origin);
      const eq = page.cookie.indexOf('=');
      browser.cookies.set(page.cookie.slice(0, eq), page.cookie.slice(eq + 1));
      const toAuth = await browser.fetch(`${misOrigin}/patients`);
      expect(toAuth.headers.get('location')).toMatch(new RegExp(`^${origin}/oidc/auth\\?`));
      const trip = await browser.follow(toAuth.headers.get('location')!);
      expect(trip.callback).toMatch(new RegExp(`^${misOrigin}/callback\\?code=`));
      expect((await browser.fetch(trip.callback!)).headers.get('location')).toBe('/patients');
      expect(await (await browser.fetch(`${misOrigin}/patients`)).text()).toContain('Иванова Анна Петровна');

      // The auditor: its own demo card through the same virtual reader, then its pages.
      const auditor = new TestClient(origin, origin);
      const auditorNonce = (await auditor.post('/auth/nonce')).json.nonce as string;
      const auditorStatement = fetch(`http://127.0.0.1:${ports.agent}/v1/statement`, {
        method: 'POST',
        headers: { origin, 'content-type': 'application/json' },
        body: JSON.stringify({ nonce: auditorNonce, aud: origin }),
      }).then((r) => r.json() as Promise<{ statement: string }>);
      await new Promise((r) => setTimeout(r, 200));
      expect((await auditor.post('/demo/tap', { uid: '04F7A8B9CAD003' })).status).toBe(202);
      expect((await auditor.post('/auth/card', { statement: (await auditorStatement).statement })).json).toEqual({ next: 'password', login: 'auditor' });
      expect((await auditor.post('/auth/password', { login: 'auditor', password: 'Auditor-Demo-2026!' })).status).toBe(200);
      expect((await auditor.get('/admin')).headers.get('location')).toBe('/admin/audit');
      expect((await auditor.get('/admin/audit?who=ivanova')).text).toContain('session.created');
      // The demo signs audit checkpoints (its own audit key): the integrity panel shows a valid one.
      expect((await auditor.get('/admin/audit/integrity')).text).toContain('<dl id="checkpoint" data-valid="true">');

      demo.proc.kill('SIGTERM');
      const end = await demo.exit;
      expect(end).toEqual({ code: 0, signal: null });
      expect(demo.out()).toMatch(/stopping the MIS…\n\s+stopping the agent…\n\s+stopping the server…\n\s+stopping the virtual reader…\n\s+stopping Redis…\ncardauth demo: stopped\n$/);
      expect(pids.filter(alive)).toEqual([]);
      expect(await portOpen(ports.redis)).toBe(false);
      expect(readdirSync(join(varDir, 'demo')).sort()).toEqual(['agent', 'audit-keys.json', 'demo.log', 'mis-client-secret', 'oidc-jwks.json', 'session-secret']);
    } finally {
      demo.proc.kill('SIGKILL');
    }
  }, 60_000);

  it('a second run reuses the data, refuses a parallel run on the same state, and stops on SIGINT', async () => {
    const demo = startDemo();
    try {
      const out = await ready(demo);
      expect(out).toMatch(/demo data\s+already there, reused/);

      const other = await runCli(['demo', '--var', varDir, '--port', String(await freePort()), '--redis-port', String(await freePort()), '--agent-port', String(await freePort()), '--mis-port', String(await freePort())], { env: cliEnv() });
      expect(other.code).toBe(1);
      expect(oneErrorLine(other)).toMatch(/^cardauth: unavailable: another cardauth demo \(pid \d+\) is running/);

      demo.proc.kill('SIGINT');
      expect(await demo.exit).toEqual({ code: 0, signal: null });
      expect(pidsIn(out).filter(alive)).toEqual([]);
      expect(existsSync(join(varDir, 'demo', 'vpcd-slot0.sock'))).toBe(false);
    } finally {
      demo.proc.kill('SIGKILL');
    }
  }, 60_000);

  it('says in one line which port is busy, and starts nothing', async () => {
    const busy = await runCli(['demo', '--var', varDir, '--port', String(ports.port), '--redis-port', String(ports.redis), '--agent-port', String(ports.redis)], { env: cliEnv() });
    expect(busy.code).toBe(1);
    expect(oneErrorLine(busy)).toBe('cardauth: unavailable: the Redis, server, agent and MIS ports must differ');

    const blocker = createServer().listen(ports.port, '127.0.0.1');
    await new Promise((r) => blocker.once('listening', r));
    try {
      const r = await runCli(args, { env: cliEnv() });
      expect(r.code).toBe(1);
      expect(oneErrorLine(r)).toBe(`cardauth: unavailable: server port (--port) 127.0.0.1:${ports.port} is already in use (is another demo running?)`);
      expect(existsSync(join(varDir, 'demo', 'demo.pid'))).toBe(false);
    } finally {
      blocker.close();
    }
  }, 30_000);
});
