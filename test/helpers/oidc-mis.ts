import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { join } from 'node:path';
import type { ClientStore } from '../../src/oidc/clients';

const SERVER = join(__dirname, '..', '..', 'examples', 'oidc-mis', 'server.mjs');

/** examples/oidc-mis running as its README says (`node examples/oidc-mis/server.mjs`). */
export interface OidcMis {
  url: string;
  proc: ChildProcessWithoutNullStreams;
  /** Its output so far. */
  output(): string;
  /** Its JSON log lines so far, parsed. */
  events(): Record<string, unknown>[];
  /** Its log lines of `event` so far. */
  eventsOf(event: string): Record<string, unknown>[];
  /** Resolves with the first log line of `event` that `match` takes, from those so far, then those to come (its output may come a moment after its answers). */
  waitForEvent(event: string, match?: (e: Record<string, unknown>, index: number) => boolean, timeoutMs?: number): Promise<Record<string, unknown>>;
  stop(): Promise<void>;
}

/**
 * Registers the example as a confidential client of cardauth (its callback, back-channel logout
 * and post-logout URIs under `origin`), and answers the client secret.
 */
export async function registerOidcMis(clients: ClientStore, id: string, origin: string): Promise<string> {
  const { secret } = await clients.add(
    { id, name: 'МИС (пример)', redirectUris: [`${origin}/callback`], postLogoutRedirectUris: [`${origin}/logged-out`], backchannelLogoutUri: `${origin}/backchannel-logout`, public: false },
    Date.now(),
  );
  return secret!;
}

/** Starts the example with `env` (MIS_* keys) and resolves once it listens. */
export async function startOidcMis(env: Record<string, string>): Promise<OidcMis> {
  const proc = spawn(process.execPath, [SERVER], { env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  proc.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
  proc.stderr.setEncoding('utf8').on('data', (d: string) => (out += d));
  const events = () =>
    out
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
  const deadline = Date.now() + 15_000;
  let m: RegExpExecArray | null;
  while (!(m = /oidc-mis on (http:\/\/[^/ ]+)\//.exec(out))) {
    if (proc.exitCode !== null || Date.now() > deadline) throw new Error(`examples/oidc-mis did not start:\n${out}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  const eventsOf = (event: string) => events().filter((e) => e.event === event);
  return {
    url: m[1]!,
    proc,
    output: () => out,
    events,
    eventsOf,
    async waitForEvent(event, match = () => true, timeoutMs = 15_000) {
      const until = Date.now() + timeoutMs;
      for (;;) {
        const found = eventsOf(event).find(match);
        if (found) return found;
        if (Date.now() > until) throw new Error(`examples/oidc-mis logged no ${event}:\n${out}`);
        await new Promise((r) => setTimeout(r, 25));
      }
    },
    stop: () =>
      new Promise<void>((done) => {
        if (proc.exitCode !== null) return done();
        proc.once('exit', () => done());
        proc.kill('SIGTERM');
      }),
  };
}
