import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';

const BIN = join(__dirname, '..', '..', 'bin', 'cardauth.js');
const MIS = join(__dirname, '..', '..', 'examples', 'express-mis', 'server.js');

export interface ServeProcess {
  url: string;
  proc: ChildProcess;
  stop(): Promise<void>;
}

/**
 * Runs `cardauth serve` from the built dist/ (the test command builds first)
 * as its own process, and resolves once it logs that it listens.
 */
export function startServeProcess(env: Record<string, string>): Promise<ServeProcess> {
  return startNodeProcess('cardauth serve', [BIN, 'serve'], env, /"event":"listening","url":"([^"]+)"/);
}

/**
 * Runs examples/express-mis (a host app embedding cardauth's router, from dist/) on
 * CARDAUTH_PORT, and resolves once it listens.
 */
export function startEmbeddedProcess(env: Record<string, string>): Promise<ServeProcess> {
  return startNodeProcess('examples/express-mis', [MIS], { ...env, MIS_PORT: env.CARDAUTH_PORT ?? '0' }, /MIS on (http:\/\/[^/\s]+)/);
}

/** Runs node with `args`, and resolves once its output matches `listening` (whose group 1 is its URL). */
function startNodeProcess(name: string, args: string[], env: Record<string, string>, listening: RegExp): Promise<ServeProcess> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    const timer = setTimeout(() => reject(new Error(`${name} did not start:\n${out}`)), 15_000);
    proc.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = listening.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve({
          url: m[1]!,
          proc,
          stop: () =>
            new Promise<void>((done) => {
              if (proc.exitCode !== null) return done();
              proc.once('exit', () => done());
              proc.kill('SIGTERM');
            }),
        });
      }
    });
    proc.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    proc.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited ${code}:\n${out}`));
    });
  });
}
