import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startVirtualReader, type VirtualReader } from '../../dev/virtual-reader';
import { cliEnv, cliRunner, DEV_BIN, oneErrorLine, type CliResult } from '../cli/support';

const ROOT = join(__dirname, '..', '..');
const BIN = DEV_BIN;
const { runCli, spawnCli } = cliRunner(DEV_BIN);

let root: string;
let n = 0;
beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'cardauth-card-tap-'));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** A state dir whose slot-0 pid file holds `text`. */
function stateDir(text?: string): string {
  const dir = join(root, `state${++n}`);
  mkdirSync(dir);
  if (text !== undefined) writeFileSync(join(dir, 'card-slot0.pid'), text);
  return dir;
}

/**
 * `card remove` in its own session and process group (like `setsid -w`): if
 * it signalled its own group (kill(0)), only it dies, and the test sees it.
 */
function removeDetached(dir: string): Promise<CliResult> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, 'card', 'remove', '--state-dir', dir], { cwd: ROOT, env: cliEnv(), detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.once('error', reject);
    child.once('close', (code, signal) => resolve({ code, signal, stdout, stderr, lines: stdout.split('\n').filter(Boolean), ms: Date.now() - started }));
  });
}

const noCardHeld = (r: CliResult) => {
  expect(r.signal).toBeNull();
  expect(r.code).toBe(1);
  expect(r.stdout).toBe('');
  return oneErrorLine(r);
};

const exited = (child: ChildProcess) => new Promise<void>((r) => (child.exitCode !== null || child.signalCode !== null ? r() : child.once('exit', () => r())));

describe('card remove with a pid file that is not a pid', () => {
  it.each([
    ['empty (read while `card tap --hold` writes it)', ''],
    ['0 (would signal its own process group)', '0'],
    ['not a number', 'abc'],
    ['a number with junk', '12x'],
  ])('%s: card_not_found, nothing signalled, the stale file removed', async (_what, text) => {
    const dir = stateDir(text);
    const r = await removeDetached(dir);
    expect(noCardHeld(r)).toBe(`cardauth: card_not_found: no card held on slot 0: the pid file holds no valid pid; removed the stale pid file ${join(dir, 'card-slot0.pid')}`);
    expect(existsSync(join(dir, 'card-slot0.pid'))).toBe(false);
  });

  // -1 signals every process the user can reach, 1 is init: only ever tried in
  // a private PID namespace, where init (a shell) and a witness are all there is.
  const unshare = spawnSync('unshare', ['--pid', '--fork', '--mount-proc', '--kill-child', 'true']).status === 0;
  (unshare ? it.each : it.skip.each)([['-1'], ['1']])('%s: refused without signalling anyone (in a private PID namespace)', (text) => {
    const dir = stateDir(text);
    const script = [
      'trap "echo init-signalled" TERM',
      'sleep 30 & witness=$!',
      `"${process.execPath}" "${BIN}" card remove --state-dir "${dir}"`,
      'echo "rc=$?"',
      'kill -0 $witness 2>/dev/null && echo witness-alive',
      'kill $witness',
    ].join('\n');
    const r = spawnSync('unshare', ['--pid', '--fork', '--mount-proc', '--kill-child', 'sh', '-c', script], { cwd: ROOT, env: cliEnv(), encoding: 'utf8', timeout: 15_000 });
    expect(r.stdout.split('\n').filter(Boolean)).toEqual(['rc=1', 'witness-alive']);
    expect(r.stderr).toBe(`cardauth: card_not_found: no card held on slot 0: the pid file holds no valid pid; removed the stale pid file ${join(dir, 'card-slot0.pid')}\n`);
  });
});

describe('card remove with the pid of a process that is not `card tap` (pid reused)', () => {
  it('leaves that process alone, removes the stale file and answers card_not_found', async () => {
    const other = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 30000)'], { stdio: 'ignore' });
    try {
      const dir = stateDir(String(other.pid));
      const r = await runCli(['card', 'remove', '--state-dir', dir]);
      expect(noCardHeld(r)).toBe(`cardauth: card_not_found: no card held on slot 0: process ${other.pid} is not \`cardauth card tap\`; removed the stale pid file ${join(dir, 'card-slot0.pid')}`);
      expect(existsSync(join(dir, 'card-slot0.pid'))).toBe(false);
      await new Promise((r) => setTimeout(r, 200));
      expect(other.exitCode).toBeNull();
      expect(other.signalCode).toBeNull();
    } finally {
      other.kill('SIGKILL');
      await exited(other);
    }
  });
});

// A guard for the checks above: a real `card tap --hold` is still taken off.
describe('card tap --hold, then card remove (real pcscd + vpcd)', () => {
  let reader: VirtualReader;
  let dir: string;
  beforeAll(async () => {
    dir = join(root, 'reader');
    reader = await startVirtualReader({ dir });
  });
  afterAll(async () => {
    await reader?.stop();
  });

  it('signals the holder, which takes the card off and leaves no pid or temp file', async () => {
    const tap = spawnCli(['card', 'tap', '--uid', '04A22BB25C6180', '--hold', '--state-dir', dir], cliEnv());
    let out = '';
    tap.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    try {
      const pidFile = join(dir, 'card-slot0.pid');
      for (let i = 0; i < 150 && !existsSync(pidFile); i++) await new Promise((r) => setTimeout(r, 100));
      expect(existsSync(pidFile)).toBe(true);
      const r = await runCli(['card', 'remove', '--state-dir', dir]);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      expect(r.stdout).toBe('removing the card on slot 0\n');
      const code = await new Promise((res) => (tap.exitCode !== null ? res(tap.exitCode) : tap.once('exit', res)));
      expect(code).toBe(0);
      expect(out).toBe('card 04A22BB25C6180 on slot 0\ncard 04A22BB25C6180 removed\n');
      expect(readdirSync(dir).filter((f) => /\.pid|\.tmp/.test(f))).toEqual([]);
    } finally {
      tap.kill('SIGKILL');
      await exited(tap);
    }
  });
});
