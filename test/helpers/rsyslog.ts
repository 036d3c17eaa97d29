import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnChild, type Child } from '../../dev/child-process';
import { freePort } from './redis';

export interface TestRsyslog {
  port: number;
  /** What it received from app-name `cardauth`, one line each: `MSGID STRUCTURED-DATA MSG`. */
  lines(): string[];
  /** Ends it (SIGKILL by default: what it had not read is lost), keeping what it wrote. */
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** Freezes it (SIGSTOP): it reads nothing more, while the kernel still takes what is sent. */
  freeze(): void;
  /** Starts it again on the same port, appending to the same file. */
  start(): Promise<void>;
  stop(): Promise<void>;
}

export interface RsyslogOptions {
  /** TLS (rsyslog-gnutls): PEM files of its certificate and key. */
  tls?: { certFile: string; keyFile: string; caFile: string };
}

const listening = (port: number) =>
  new Promise<boolean>((resolve) => {
    const s = connect({ host: '127.0.0.1', port }, () => {
      s.destroy();
      resolve(true);
    });
    s.on('error', () => resolve(false));
  });

/**
 * Debian's rsyslogd as a child in the foreground, on a free loopback port,
 * with everything of its own (config, pid file, work dir, output) in a temp
 * dir, no local log socket (imuxsock is not loaded), so it touches nothing
 * of the system's logging. It receives syslog over TCP (imtcp, or TLS with
 * `tls`) and writes each message from app-name `cardauth` as a line.
 *
 * @example
 * const rs = await startRsyslog();
 * // … send to 127.0.0.1:rs.port …
 * rs.lines(); // ['login.success [cardauth@32473 seq="1" …] {"v":1,…}']
 */
export async function startRsyslog(opts: RsyslogOptions = {}): Promise<TestRsyslog> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'cardauth-rsyslog-'));
  const out = join(dir, 'received.log');
  const tls = opts.tls;
  writeFileSync(
    join(dir, 'rsyslog.conf'),
    [
      `global(workDirectory="${dir}"${tls ? ` defaultNetstreamDriverCAFile="${tls.caFile}" defaultNetstreamDriverCertFile="${tls.certFile}" defaultNetstreamDriverKeyFile="${tls.keyFile}"` : ''})`,
      tls ? 'module(load="imtcp" streamDriver.name="gtls" streamDriver.mode="1" streamDriver.authMode="anon")' : 'module(load="imtcp")',
      `input(type="imtcp" address="127.0.0.1" port="${port}")`,
      'template(name="line" type="string" string="%msgid% %structured-data% %msg%\\n")',
      `if $app-name == "cardauth" then { action(type="omfile" file="${out}" template="line") }`,
      '',
    ].join('\n'),
  );
  let child: Child | undefined;
  const start = async () => {
    child = spawnChild({ name: 'rsyslog', command: 'rsyslogd', args: ['-n', '-f', join(dir, 'rsyslog.conf'), '-i', join(dir, 'rsyslogd.pid')], deathSignal: 'SIGTERM' });
    for (let i = 0; i < 100 && child.running(); i++) {
      if (await listening(port)) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`rsyslogd did not listen on ${port}`);
  };
  const kill = async (signal: NodeJS.Signals = 'SIGKILL') => {
    await child?.stop(signal);
    child = undefined;
  };
  await start();
  return {
    port,
    lines() {
      try {
        return readFileSync(out, 'utf8').split('\n').filter(Boolean);
      } catch {
        return [];
      }
    },
    kill,
    freeze() {
      if (child?.proc.pid) process.kill(child.proc.pid, 'SIGSTOP');
    },
    start,
    async stop() {
      await kill('SIGTERM');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
