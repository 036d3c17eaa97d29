import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';

/**
 * The tests log one account in many times over, which the default session limits (one session
 * per clinician) would refuse; the limits are tested with their own values (test/app/session-limit.test.ts).
 */
export const MANY_SESSIONS = 'clinician=100,security_officer=100,auditor=100,chief_admin=100';

const BIN = join(__dirname, '..', '..', 'bin', 'cardauth.js');
const MIS = join(__dirname, '..', '..', 'examples', 'express-mis', 'server.js');
const MOVABLE_CLOCK = join(__dirname, 'serve-clock.js');

export interface ServeProcess {
  url: string;
  proc: ChildProcess;
  /** With `movableClock` only: moves the server's clock by `ms` (negative: back). */
  advance(ms: number): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Runs `cardauth serve` from the built dist/ (the test command builds first)
 * as its own process, and resolves once it logs that it listens. With
 * `movableClock` it runs the same server with a clock the test moves
 * (test/helpers/serve-clock.js) instead.
 */
export function startServeProcess(env: Record<string, string>, opts: { movableClock?: boolean } = {}): Promise<ServeProcess> {
  const args = opts.movableClock ? [MOVABLE_CLOCK] : [BIN, 'serve'];
  return startNodeProcess('cardauth serve', args, env, /"event":"listening","url":"([^"]+)"/, opts.movableClock === true);
}

/**
 * Runs examples/express-mis (a host app embedding cardauth's router, from dist/) on
 * CARDAUTH_PORT, and resolves once it listens.
 */
export function startEmbeddedProcess(env: Record<string, string>): Promise<ServeProcess> {
  return startNodeProcess('examples/express-mis', [MIS], { ...env, MIS_PORT: env.CARDAUTH_PORT ?? '0' }, /MIS on (http:\/\/[^/\s]+)/, false);
}

/**
 * Runs node with `args`, and resolves once its output matches `listening` (whose group 1 is its
 * URL). `movable`: its standard input takes `advance <ms>` lines (serve-clock.js).
 */
function startNodeProcess(name: string, args: string[], env: Record<string, string>, listening: RegExp, movable: boolean): Promise<ServeProcess> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, args, { env: { ...process.env, CARDAUTH_SESSION_LIMITS: MANY_SESSIONS, ...env }, stdio: [movable ? 'pipe' : 'ignore', 'pipe', 'pipe'] });
    let out = '';
    let advanced: (() => void) | undefined;
    let answers = 0;
    const timer = setTimeout(() => reject(new Error(`${name} did not start:\n${out}`)), 15_000);
    let started = false;
    proc.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const n = out.split('"event":"advanced"').length - 1;
      if (n > answers) {
        answers = n;
        advanced?.();
      }
      const m = listening.exec(out);
      if (m && !started) {
        started = true;
        clearTimeout(timer);
        resolve({
          url: m[1]!,
          proc,
          advance: (ms) =>
            new Promise<void>((done) => {
              if (!proc.stdin) throw new TypeError('advance() needs startServeProcess(env, { movableClock: true })');
              advanced = done;
              proc.stdin.write(`advance ${Math.round(ms)}\n`);
            }),
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
