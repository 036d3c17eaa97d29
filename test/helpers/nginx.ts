import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { dirname, join } from 'node:path';
import { spawnChild } from '../../dev/child-process';
import { freePort } from './redis';

export interface TestNginx {
  /** `http://127.0.0.1:<port>` */
  url: string;
  port: number;
  /** The prefix dir: nginx.conf, the pid file, logs, temp paths, and the `files` given. */
  dir: string;
  /** nginx's error log so far, for failing tests. */
  errorLog(): string;
  stop(): Promise<void>;
}

export interface NginxOptions {
  /** The loopback port to listen on, when it must be known before (an origin in another server's config); default a free one. */
  port?: number;
  /** What goes inside `http { }` (upstreams, servers), given the port nginx must listen on (127.0.0.1 only). */
  http: (port: number) => string;
  /** Files to write under the prefix dir first (e.g. `snippets/x.conf` for an `include`), path → content. */
  files?: Record<string, string>;
}

/**
 * Runs the system's nginx (Debian's, with auth_request) as a child, in the
 * foreground, on a free loopback port, with everything of its own under a
 * temp prefix dir: nginx.conf, pid file, error and access logs, and every
 * temp path, so it needs nothing of /etc/nginx but mime.types and touches
 * nothing of the system's nginx. Relative paths in the config (an
 * `include`) resolve against that dir. One master and one worker; as root
 * the worker stays root (`user`), or it could not read the temp dir.
 * Resolves once the worker has started (the listening socket is open then).
 *
 * @example
 * const nginx = await startNginx({ http: (port) => `server { listen 127.0.0.1:${port}; return 204; }` });
 * await fetch(nginx.url);
 * await nginx.stop();
 */
export async function startNginx(opts: NginxOptions): Promise<TestNginx> {
  const port = opts.port ?? (await freePort());
  const dir = mkdtempSync(join(tmpdir(), 'cardauth-nginx-'));
  const at = (p: string) => join(dir, p);
  for (const [path, content] of Object.entries(opts.files ?? {})) {
    mkdirSync(dirname(at(path)), { recursive: true });
    writeFileSync(at(path), content);
  }
  const temp = ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'];
  for (const t of temp) mkdirSync(at(`tmp/${t}`), { recursive: true });
  const conf = [
    'daemon off;',
    'master_process on;',
    'worker_processes 1;',
    // Only root may switch users; the worker would otherwise run as nobody.
    ...(process.getuid?.() === 0 ? [`user ${userInfo().username};`] : []),
    `pid ${at('nginx.pid')};`,
    `error_log ${at('error.log')} notice;`,
    // Also on stderr: "start worker process" is the readiness line.
    'error_log stderr notice;',
    'events { worker_connections 64; }',
    'http {',
    `  access_log ${at('access.log')};`,
    ...temp.map((t) => `  ${t}_temp_path ${at(`tmp/${t}`)};`),
    '  include /etc/nginx/mime.types;',
    '  default_type application/octet-stream;',
    opts.http(port),
    '}',
    '',
  ].join('\n');
  writeFileSync(at('nginx.conf'), conf);

  // -e: the log before the config is read (by default /var/log/nginx/error.log).
  const child = spawnChild({ name: 'nginx', command: 'nginx', args: ['-p', `${dir}/`, '-c', at('nginx.conf'), '-e', at('error.log')], deathSignal: 'SIGTERM' });
  const errorLog = () => {
    try {
      return readFileSync(at('error.log'), 'utf8');
    } catch {
      return '';
    }
  };
  const stop = async () => {
    await child.stop('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await child.waitForLine((l) => l.includes('start worker process'), 10_000);
  } catch (err) {
    const log = errorLog();
    await stop();
    throw new Error(`nginx did not start: ${(err as Error).message}\n${log}`);
  }
  return { url: `http://127.0.0.1:${port}`, port, dir, errorLog, stop };
}
