import { spawn, type ChildProcess } from 'node:child_process';
import { CardauthError } from '../src/errors';

/**
 * Supervised child processes for the demo, the test harness and the bench: redis-server,
 * pcscd, the vpcd relay, `cardauth serve` and `cardauth agent run`.
 *
 * - Every child runs under `setpriv --pdeathsig SIG`: if this process dies
 *   (even by SIGKILL) the kernel sends the child `SIG`, so nothing is left
 *   running.
 * - Every child gets its own process group (`detached`), so a Ctrl-C in the
 *   terminal reaches only this process, which then stops the children in
 *   order instead of all at once.
 * - Output is split into lines, handed to a {@link LineLog} with a label, and
 *   to whoever waits for a line (`waitForLine`).
 */

/** Recent output lines of one or more children, optionally copied to a sink (a log file). */
export interface LineLog {
  add(line: string): void;
  /** The last `n` lines (default 30), joined with newlines. */
  tail(n?: number): string;
}

/**
 * A ring of the last `max` lines; each line also goes to `sink` when given.
 *
 * @example
 * const log = createLineLog(400, (line) => file.write(`${line}\n`));
 */
export function createLineLog(max = 400, sink?: (line: string) => void): LineLog {
  const lines: string[] = [];
  return {
    add(line) {
      lines.push(line);
      if (lines.length > max) lines.splice(0, lines.length - max);
      sink?.(line);
    },
    tail(n = 30) {
      return lines.slice(-n).join('\n');
    },
  };
}

export interface ChildSpec {
  /** Short name for messages and the log prefix, e.g. `redis`. */
  name: string;
  command: string;
  args: readonly string[];
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** `pipe` gives the child a stdin that closes when this process dies. Default `ignore`. */
  stdin?: 'pipe' | 'ignore';
  /** Sent to the child when this process dies. Default `SIGKILL`. */
  deathSignal?: 'SIGKILL' | 'SIGTERM';
  log?: LineLog;
}

/** How a child ended. `error` is set when it could not be started at all. */
export interface ChildExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  error?: Error;
}

export interface Child {
  readonly name: string;
  readonly proc: ChildProcess;
  /** Resolves when the child has ended. */
  readonly exited: Promise<ChildExit>;
  /** True until the child has ended. */
  running(): boolean;
  /**
   * Resolves with the first output line (after now, or already seen with
   * `seen`) for which `match` is true; rejects with `unavailable` if the child
   * ends first or after `timeoutMs`.
   */
  waitForLine(match: (line: string) => boolean, timeoutMs: number): Promise<string>;
  /** Sends `signal` (default SIGTERM) to the child's process group, then SIGKILL after `graceMs` (default 5000); resolves once it has ended. */
  stop(signal?: NodeJS.Signals, graceMs?: number): Promise<ChildExit>;
}

/**
 * PATH with the sbin folders appended when missing: pcscd, ip and friends
 * live there, and a root shell reached through `su` or a minimal environment
 * may not have them.
 *
 * @example
 * withSbin('/usr/bin:/bin') // => '/usr/bin:/bin:/usr/local/sbin:/usr/sbin:/sbin'
 */
export function withSbin(path: string | undefined): string {
  const parts = (path ?? '/usr/local/bin:/usr/bin:/bin').split(':').filter(Boolean);
  for (const d of ['/usr/local/sbin', '/usr/sbin', '/sbin']) if (!parts.includes(d)) parts.push(d);
  return parts.join(':');
}

/**
 * How a child ended, for a one-line message.
 *
 * @example
 * describeExit({ code: 1, signal: null })        // => 'exited with code 1'
 * describeExit({ code: null, signal: 'SIGKILL' }) // => 'was killed by SIGKILL'
 */
export function describeExit(e: ChildExit): string {
  if (e.error) return `could not start (${(e.error as NodeJS.ErrnoException).code ?? e.error.message})`;
  return e.signal ? `was killed by ${e.signal}` : `exited with code ${e.code}`;
}

/**
 * Starts a supervised child; see the notes at the top of this file.
 *
 * @example
 * const redis = spawnChild({ name: 'redis', command: 'redis-server', args: ['--port', '6390'], log });
 * await redis.waitForLine((l) => l.includes('Ready to accept connections'), 5000);
 * // …
 * await redis.stop();
 */
export function spawnChild(spec: ChildSpec): Child {
  const env = spec.env ?? process.env;
  const proc = spawn('setpriv', ['--pdeathsig', (spec.deathSignal ?? 'SIGKILL').replace(/^SIG/, ''), '--', spec.command, ...spec.args], {
    stdio: [spec.stdin ?? 'ignore', 'pipe', 'pipe'],
    env: { ...env, PATH: withSbin(env.PATH) },
    ...(spec.cwd ? { cwd: spec.cwd } : {}),
    detached: true,
  });
  const listeners = new Set<(line: string) => void>();
  const prefix = `[${spec.name} ${proc.pid ?? '-'}] `;
  const seen: string[] = [];

  const onLine = (line: string) => {
    spec.log?.add(prefix + line);
    seen.push(line);
    if (seen.length > 200) seen.shift();
    for (const l of [...listeners]) l(line);
  };
  for (const stream of [proc.stdout, proc.stderr]) {
    let partial = '';
    stream?.on('data', (chunk: Buffer) => {
      const parts = (partial + chunk.toString('utf8')).split('\n');
      partial = parts.pop() ?? '';
      for (const p of parts) onLine(p);
    });
    stream?.on('end', () => {
      if (partial) onLine(partial);
      partial = '';
    });
  }

  let ended: ChildExit | undefined;
  const exited = new Promise<ChildExit>((resolve) => {
    const done = (e: ChildExit) => {
      if (ended) return;
      ended = e;
      resolve(e);
    };
    proc.once('exit', (code, signal) => done({ code, signal }));
    proc.once('error', (error) => done({ code: null, signal: null, error }));
  });
  // A child that closes a pipe early must not crash this process with EPIPE.
  proc.stdin?.on('error', () => {});

  const signalGroup = (signal: NodeJS.Signals) => {
    if (ended || proc.pid === undefined) return;
    try {
      process.kill(-proc.pid, signal); // its own group (detached): the child and anything it started
    } catch {
      try {
        proc.kill(signal);
      } catch {
        // already gone
      }
    }
  };

  return {
    name: spec.name,
    proc,
    exited,
    running: () => !ended,
    waitForLine(match, timeoutMs) {
      const already = seen.find(match);
      if (already !== undefined) return Promise.resolve(already);
      return new Promise<string>((resolve, reject) => {
        const finish = (err: Error | undefined, line = '') => {
          clearTimeout(timer);
          listeners.delete(onNew);
          if (err) reject(err);
          else resolve(line);
        };
        const onNew = (line: string) => {
          if (match(line)) finish(undefined, line);
        };
        const timer = setTimeout(() => finish(new CardauthError('unavailable', `${spec.name} was not ready after ${timeoutMs} ms`)), timeoutMs);
        listeners.add(onNew);
        void exited.then((e) => finish(new CardauthError('unavailable', `${spec.name} ${describeExit(e)} before it was ready`)));
      });
    },
    async stop(signal = 'SIGTERM', graceMs = 5000) {
      if (ended) return ended;
      signalGroup(signal);
      const timer = setTimeout(() => signalGroup('SIGKILL'), graceMs);
      const e = await exited;
      clearTimeout(timer);
      return e;
    },
  };
}
