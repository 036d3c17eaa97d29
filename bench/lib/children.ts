import { fork, type ChildProcess } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startProfile, type CpuProfile } from './profile';
import type { Cleanup } from './cleanup';
import { sleep } from './stats';

/**
 * A tiny RPC over the IPC channel between the runner and a child it forks
 * (a server under test, or a worker that measures in a clean process).
 */

type Handler = (arg: unknown) => Promise<unknown> | unknown;
interface Request {
  id: number;
  cmd: string;
  arg: unknown;
}
interface Reply {
  id: number;
  result?: unknown;
  error?: string;
}

/**
 * Child side: answers commands until `stop` (always available: runs
 * `onStop`, answers, exits). `profileStart` / `profileStop` (V8 CPU profile
 * of the child's JS thread, written to a temp file whose path is answered)
 * are always available too. The child also exits when the runner goes away
 * (its IPC channel closes), so no server outlives an aborted run.
 */
export function serveRpc(handlers: Record<string, Handler>, ready: unknown, onStop: () => Promise<unknown> = async () => undefined): void {
  const send = (m: unknown) => process.send?.(m);
  let stopProfile: ((file: string) => Promise<void>) | undefined;
  const builtIn: Record<string, Handler> = {
    async profileStart() {
      stopProfile = await startProfile();
    },
    async profileStop() {
      if (!stopProfile) throw new Error('profiler not started');
      const file = join(tmpdir(), `cardauth-bench-${process.pid}-${Date.now()}.cpuprofile`);
      await stopProfile(file);
      stopProfile = undefined;
      return file;
    },
  };
  process.on('disconnect', () => process.exit(0));
  process.on('message', (m: Request) => {
    void (async () => {
      try {
        if (m.cmd === 'stop') {
          const result = await onStop();
          send({ id: m.id, result });
          process.disconnect();
          setTimeout(() => process.exit(0), 50).unref();
          return;
        }
        const h = handlers[m.cmd] ?? builtIn[m.cmd];
        if (!h) throw new Error(`unknown command ${m.cmd}`);
        send({ id: m.id, result: await h(m.arg) });
      } catch (err) {
        send({ id: m.id, error: err instanceof Error ? (err.stack ?? err.message) : String(err) });
      }
    })();
  });
  send({ ready });
}

export interface Child<R> {
  pid: number;
  ready: R;
  call<T>(cmd: string, arg?: unknown): Promise<T>;
  /** Asks the child to stop and waits for it to exit; resolves with what its stop handler returned. */
  stop<T>(): Promise<T | undefined>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export const BENCH_DIST = join(__dirname, '..');

/**
 * Forks `script` (a path relative to dist-bench/bench) with `arg` as JSON in
 * argv[2] and waits for its ready message. Registered with `cleanup`.
 */
export async function forkChild<R>(cleanup: Cleanup, script: string, arg: unknown, opts: { execArgv?: string[]; env?: NodeJS.ProcessEnv; readyTimeoutMs?: number } = {}): Promise<Child<R>> {
  const proc: ChildProcess = fork(join(BENCH_DIST, script), [JSON.stringify(arg)], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    execArgv: opts.execArgv ?? [],
    env: { ...process.env, ...opts.env },
    serialization: 'advanced',
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => proc.once('exit', (code, signal) => resolve({ code, signal })));
  let nextId = 1;
  const pending = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();
  const failAll = (why: string) => {
    for (const p of pending.values()) p.reject(new Error(why));
    pending.clear();
  };
  void exited.then(({ code, signal }) => failAll(`${script} exited (code ${code}, signal ${signal})`));

  const ready = await new Promise<R>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${script}: not ready in time`)), opts.readyTimeoutMs ?? 15000);
    proc.on('message', (m: { ready?: R } & Reply) => {
      if ('ready' in m) {
        clearTimeout(timer);
        resolve(m.ready as R);
        return;
      }
      const p = pending.get(m.id);
      if (!p) return;
      pending.delete(m.id);
      if (m.error !== undefined) p.reject(new Error(`${script}: ${m.error}`));
      else p.resolve(m.result);
    });
    void exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`${script} exited before ready (code ${code}, signal ${signal})`));
    });
  });

  const call = <T>(cmd: string, a?: unknown) =>
    new Promise<T>((resolve, reject) => {
      if (proc.exitCode !== null || proc.signalCode !== null) return reject(new Error(`${script} is not running`));
      const id = nextId++;
      pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      proc.send({ id, cmd, arg: a } satisfies Request);
    });

  let stopped: Promise<unknown> | undefined;
  const stop = async <T>(): Promise<T | undefined> => {
    stopped ??= (async () => {
      let result: unknown;
      if (proc.exitCode === null && proc.signalCode === null && proc.connected) {
        result = await Promise.race([call('stop').catch(() => undefined), sleep(5000)]);
      }
      await Promise.race([exited, sleep(5000)]);
      if (proc.exitCode === null && proc.signalCode === null) {
        proc.kill('SIGKILL');
        await exited;
      }
      return result;
    })();
    return (await stopped) as T | undefined;
  };
  cleanup.add(`${script} pid ${proc.pid}`, async () => {
    await stop();
  });
  return { pid: proc.pid!, ready, call, stop, exited };
}

/** Runs `during` with the child's V8 profiler on; answers its result and the profile. */
export async function profileChild<R, T>(child: Child<R>, during: () => Promise<T>): Promise<{ result: T; profile: CpuProfile }> {
  await child.call('profileStart');
  const result = await during();
  const file = await child.call<string>('profileStop');
  try {
    return { result, profile: JSON.parse(readFileSync(file, 'utf8')) as CpuProfile };
  } finally {
    rmSync(file, { force: true });
  }
}
