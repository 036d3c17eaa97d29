import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';

const BIN = join(__dirname, '..', '..', 'bin', 'cardauth.js');
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
  return new Promise((resolve, reject) => {
    const args = opts.movableClock ? [MOVABLE_CLOCK] : [BIN, 'serve'];
    const proc = spawn(process.execPath, args, { env: { ...process.env, ...env }, stdio: [opts.movableClock ? 'pipe' : 'ignore', 'pipe', 'pipe'] });
    let out = '';
    let advanced: (() => void) | undefined;
    let answers = 0;
    const timer = setTimeout(() => reject(new Error(`cardauth serve did not start:\n${out}`)), 15_000);
    let listening = false;
    proc.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const n = out.split('"event":"advanced"').length - 1;
      if (n > answers) {
        answers = n;
        advanced?.();
      }
      const m = /"event":"listening","url":"([^"]+)"/.exec(out);
      if (m && !listening) {
        listening = true;
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
      reject(new Error(`cardauth serve exited ${code}:\n${out}`));
    });
  });
}
