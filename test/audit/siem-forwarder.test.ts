import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type Redis from 'ioredis';
import { systemClock } from '../../src/clock';
import { createAuditLog } from '../../src/audit/log';
import { createSiemForwarder } from '../../src/audit/siem-forwarder';
import { openSyslogConnection } from '../../src/audit/syslog-connection';
import { syslogFrame } from '../../src/audit/syslog-format';
import { connectRedis } from '../../src/redis';
import { silentLogger } from '../../src/logger';
import { startRedis, type TestRedis } from '../helpers/redis';
import { startRsyslog, type TestRsyslog } from '../helpers/rsyslog';
import { cliEnv, spawnCli } from '../cli/support';

jest.setTimeout(60_000);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function until(what: string, ok: () => boolean, timeoutMs = 20_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

/** The seq of each line rsyslog received, after checking that its message hashes to its `hash`. */
function receivedSeqs(rs: TestRsyslog): number[] {
  return rs.lines().map((line) => {
    const seq = Number(/ seq="(\d+)"/.exec(line)?.[1]);
    const hash = / hash="([0-9a-f]{64})"/.exec(line)?.[1];
    const json = line.slice(line.indexOf('] ') + 2).replace(/^\uFEFF/, '');
    expect(createHash('sha256').update(json).digest('hex')).toBe(hash);
    return seq;
  });
}
const distinct = (xs: number[]) => new Set(xs).size;
const oneTo = (n: number) => Array.from({ length: n }, (_, i) => i + 1);

describe('SIEM forwarding to a real rsyslog', () => {
  let redis: TestRedis;
  let rs: TestRsyslog;
  let client: Redis;
  let app: Redis;
  let ac: AbortController;
  let running: Promise<void> | undefined;
  beforeEach(async () => {
    redis = await startRedis();
    rs = await startRsyslog();
    client = redis.client();
    app = connectRedis(redis.url, silentLogger);
    ac = new AbortController();
  });
  afterEach(async () => {
    ac.abort();
    await running;
    running = undefined;
    app.disconnect();
    await rs.stop();
    await redis.stop();
  });

  /** The forwarder under test, on the server's kind of Redis client (it reconnects), until the test ends. */
  const forward = (connect = () => openSyslogConnection({ host: '127.0.0.1', port: rs.port, tls: false, connectTimeoutMs: 2000 })) => {
    running = createSiemForwarder({
      redis: app,
      connect,
      frame: (fields) => syslogFrame(fields, { hostname: 'test', appName: 'cardauth', procId: '1' }),
      clock: systemClock,
      logger: silentLogger,
      confirmMs: 1000,
      retryMs: 100,
    }).run(ac.signal);
  };

  /** Appends records one after another until stopped; answers how many were acknowledged. */
  function appender(log: ReturnType<typeof createAuditLog>) {
    let n = 0;
    let stop = false;
    const done = (async () => {
      while (!stop) {
        await log.append({ type: 'session.created', outcome: 'success', subject: { login: `user${n}` } });
        n++;
        await sleep(3);
      }
    })();
    return { count: () => n, stop: async () => ((stop = true), await done, n) };
  }

  it('resumes after the receiver is killed mid-stream: every record arrives, none missing', async () => {
    const log = createAuditLog({ redis: client, clock: systemClock });
    forward();
    const writing = appender(log);
    await until('the first records at rsyslog', () => rs.lines().length >= 50);
    // Mid-stream, the worst way: it stops reading while the kernel still takes (and acknowledges)
    // what is sent, then dies, and what it had not read is gone.
    rs.freeze();
    await sleep(300);
    await rs.kill('SIGKILL');
    const atKill = writing.count();
    await until('records written while rsyslog is down', () => writing.count() >= atKill + 100);
    await rs.start();
    await until('more records after the restart', () => rs.lines().length >= 100);
    const total = await writing.stop();
    await until('every record at rsyslog', () => distinct(receivedSeqs(rs)) === total);
    expect([...new Set(receivedSeqs(rs))].sort((a, b) => a - b)).toEqual(oneTo(total));
  });

  it('resumes after Redis restarts, from the cursor the consumer group kept', async () => {
    const log = createAuditLog({ redis: client, clock: systemClock });
    for (let i = 0; i < 30; i++) await log.append({ type: 'session.created', outcome: 'success' });
    forward();
    await until('the first 30', () => distinct(receivedSeqs(rs)) === 30);
    await sleep(1500); // confirmed by now
    await redis.kill('SIGTERM');
    await redis.start();
    const again = redis.client();
    const log2 = createAuditLog({ redis: again, clock: systemClock });
    for (let i = 0; i < 30; i++) await log2.append({ type: 'session.created', outcome: 'success' });
    await until('all 60', () => distinct(receivedSeqs(rs)) === 60);
    expect([...new Set(receivedSeqs(rs))].sort((a, b) => a - b)).toEqual(oneTo(60));
    // The first 30 were confirmed before Redis went down: not sent again.
    expect(receivedSeqs(rs).filter((s) => s <= 30)).toHaveLength(30);
  });

  it('`cardauth audit forward` sends the trail and stops on SIGTERM; a restart sends only what is new', async () => {
    const log = createAuditLog({ redis: client, clock: systemClock });
    for (let i = 0; i < 5; i++) await log.append({ type: 'session.created', outcome: 'success' });
    const env = cliEnv({ REDIS_URL: redis.url, CARDAUTH_SIEM_HOST: '127.0.0.1', CARDAUTH_SIEM_PORT: String(rs.port), CARDAUTH_SIEM_CONFIRM_MS: '200' });
    const run = async (expected: number) => {
      const child = spawnCli(['audit', 'forward'], env);
      let out = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      await until(`${expected} records`, () => distinct(receivedSeqs(rs)) === expected);
      await sleep(800); // past the confirmation time
      const code = await new Promise((r) => {
        child.once('close', r);
        child.kill('SIGTERM');
      });
      expect(code).toBe(0);
      expect(out).toContain('"siem_forwarding"');
    };
    await run(5);
    for (let i = 0; i < 3; i++) await log.append({ type: 'session.created', outcome: 'success' });
    await run(8);
    expect(receivedSeqs(rs)).toEqual(oneTo(8));
  });

  it('sends over TLS to rsyslog when the receiver\'s certificate verifies, and not to one signed by another CA', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cardauth-siem-tls-'));
    const cert = (name: string) => {
      execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', join(dir, `${name}-key.pem`), '-out', join(dir, `${name}.pem`)], { stdio: 'ignore' });
      return join(dir, `${name}.pem`);
    };
    const certFile = cert('server');
    const otherCa = cert('other');
    const tlsRs = await startRsyslog({ tls: { certFile, keyFile: join(dir, 'server-key.pem'), caFile: certFile } });
    try {
      const log = createAuditLog({ redis: client, clock: systemClock });
      for (let i = 0; i < 3; i++) await log.append({ type: 'session.created', outcome: 'success' });
      const target = (ca: string) => ({ host: '127.0.0.1', port: tlsRs.port, tls: { ca: readFileSync(ca, 'utf8') }, connectTimeoutMs: 2000 });
      await expect(openSyslogConnection(target(otherCa))).rejects.toThrow(/self-signed|certificate/i);
      forward(() => openSyslogConnection(target(certFile)));
      await until('3 records over TLS', () => distinct(receivedSeqs(tlsRs)) === 3);
      expect(receivedSeqs(tlsRs)).toEqual([1, 2, 3]);
    } finally {
      await tlsRs.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
