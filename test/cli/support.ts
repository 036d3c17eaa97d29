import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync } from 'node:fs';
import { userInfo } from 'node:os';
import { join } from 'node:path';

/**
 * Runs the BUILT command line, `node bin/cardauth.js …`, as a child process,
 * the way an administrator does.
 *
 * Assumption: dist/ is fresh. The test command is `npm run build && jest`, so
 * these tests never build; run `npm run build` yourself before `npx jest
 * test/cli` after changing src/. The dev tools' command line (`DEV_BIN`, for
 * test/dev) is built by `npm run build:dev`.
 */

const ROOT = join(__dirname, '..', '..');
const BIN = join(ROOT, 'bin', 'cardauth.js');
/** The dev tools' command line (dev/cli.ts): demo, card tap, card remove. */
export const DEV_BIN = join(ROOT, 'dist-dev', 'dev', 'cli.js');

function assertBuilt(bin: string): void {
  if (bin === DEV_BIN && !existsSync(DEV_BIN)) throw new Error('dist-dev/dev/cli.js is missing: run `npm run build:dev` before the dev tools tests');
  if (!existsSync(join(ROOT, 'dist', 'cli', 'main.js'))) {
    throw new Error('dist/cli/main.js is missing: run `npm run build` before the CLI tests');
  }
}

/** The actor the CLI records for the user running the tests. */
export const OS_ACTOR = `os:${userInfo().username}`;

/**
 * A minimal environment for the child: no CARDAUTH_* or REDIS_URL leaks in
 * from the developer's shell, only what a test passes.
 */
export function cliEnv(extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const k of ['PATH', 'HOME', 'LANG', 'TMPDIR', 'SYSTEMROOT']) {
    const v = process.env[k];
    if (v !== undefined) env[k] = v;
  }
  return { ...env, ...extra };
}

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** stdout split into lines, without the final empty one. */
  lines: string[];
  ms: number;
}

/**
 * Runs `node BIN ARGS` to completion. `stdin` is written then closed (none:
 * closed at once). Kills the child after `timeoutMs`, so a CLI that fails to
 * exit shows up as a signal instead of a hung test.
 */
function runBin(bin: string, args: readonly string[], opts: { env?: Record<string, string>; stdin?: string; timeoutMs?: number } = {}): Promise<CliResult> {
  assertBuilt(bin);
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin, ...args], { cwd: ROOT, env: opts.env ?? cliEnv(), stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.stdin.on('error', () => undefined); // the CLI may close stdin before reading all of it
    child.stdin.end(opts.stdin ?? '');
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 15_000);
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, lines: stdout.split('\n').filter((l, i, all) => l !== '' || i < all.length - 1), ms: Date.now() - started });
    });
  });
}

/** Starts `node BIN ARGS` and leaves it running (for `serve`). */
function spawnBin(bin: string, args: readonly string[], env: Record<string, string>): ChildProcessWithoutNullStreams {
  assertBuilt(bin);
  return spawn(process.execPath, [bin, ...args], { cwd: ROOT, env, stdio: ['pipe', 'pipe', 'pipe'] });
}

/**
 * `runCli` and `spawnCli` for another built command line with the same contract.
 *
 * @example
 * const { runCli } = cliRunner(DEV_BIN);
 */
export const cliRunner = (bin: string) => ({
  runCli: (args: readonly string[], opts?: { env?: Record<string, string>; stdin?: string; timeoutMs?: number }) => runBin(bin, args, opts),
  spawnCli: (args: readonly string[], env: Record<string, string>) => spawnBin(bin, args, env),
});

/** `cardauth ARGS`: run to completion, or started and left running (for `serve`). */
export const { runCli, spawnCli } = cliRunner(BIN);

/**
 * The one-line error contract: exactly one line on stderr, `cardauth: …`,
 * and no stack trace.
 */
export function oneErrorLine(r: CliResult): string {
  const lines = r.stderr.split('\n').filter(Boolean);
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(/^cardauth: /);
  expect(r.stderr).not.toMatch(/\n\s+at /);
  return lines[0] as string;
}

/** The refusal of a change made while the audit trail is unusable: exit 1, one line saying nothing was changed. */
export function expectRefusedUnaudited(r: CliResult): void {
  expect(r.code).toBe(1);
  expect(oneErrorLine(r)).toMatch(/^cardauth: audit_unavailable: nothing was changed: the audit trail is not usable \(/);
  expect(r.stdout).toBe('');
}
