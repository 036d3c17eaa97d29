import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readlinkSync, renameSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createVirtualCard, VPCD_PORTS, type Responder, type VirtualCard } from '../../src/card-agent/vpcd-card';

/**
 * A real pcscd with the vsmartcard `vpcd` virtual reader driver, private to
 * one test file, and virtual cards to tap on it.
 *
 * How the plumbing works (domain.md §3):
 *
 * - pcscd runs under `unshare --mount --net`: a tmpfs over `/run` gives it its
 *   own `/run/pcscd/pcscd.comm` (the host's `/run` is untouched; the mount
 *   dies with the namespace), and a network namespace with only `lo` keeps
 *   vpcd's TCP ports 35963/35964 (which it opens on all interfaces) private.
 *   `setpriv --pdeathsig KILL` kills it if the test process dies.
 * - The PC/SC client stays outside: libpcsclite reads `PCSCLITE_CSOCK_NAME`
 *   **once per process, at the first call** (measured: later changes, and
 *   even a first failed call, are sticky). So every process gets one stable
 *   path — a symlink `$TMPDIR/cardauth-pcsc-<pid>.comm` — that is re-pointed
 *   at `/proc/<pcscd pid>/root/run/pcscd/pcscd.comm` on every (re)start.
 *   Under Jest `process.env` is a copy, so the variable is put into the real
 *   environment with `process.loadEnvFile` (which writes the real one).
 * - Virtual cards run in this process (so a test can pass a `respond`
 *   function). They reach vpcd through a relay: a tiny `node -e` process
 *   started with `nsenter -t <pcscd pid> -n`, listening on Unix sockets
 *   `slot0.sock`/`slot1.sock` in a temp dir (the filesystem is shared) and
 *   forwarding each connection to 127.0.0.1:35963/35964 inside the
 *   namespace. One connection = one card on the reader; closing it = removal.
 *
 * Several instances run at once in different processes (Jest workers); one
 * process may have one live instance at a time (the socket path is per
 * process). `stop()` leaves no process, mount, socket or temp file behind.
 */
export interface TestPcscd {
  /** What libpcsclite uses in this process (already set in its environment). */
  readonly socketPath: string;
  /** Reader names of slot 0 and slot 1. */
  readonly readers: readonly [string, string];
  /** pcscd's pid, or undefined while it is killed. */
  pid(): number | undefined;
  /** Puts a card with this UID on a slot's reader (default slot 0). */
  tap(uid: string, slot?: 0 | 1, respond?: Responder): Promise<VirtualCard>;
  /** Takes the card off a slot (no-op when none). */
  remove(slot?: 0 | 1): Promise<void>;
  /** Kills pcscd (and the relay); cards on it are gone. */
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** Starts pcscd again (killing it first if it runs) and re-points the socket; resolves when it is ready. */
  restart(): Promise<void>;
  /** pcscd's recent log (with `--info --apdu`), for failing tests. */
  log(): string;
  stop(): Promise<void>;
}

export const VPCD_READERS = ['Virtual PCD 00 00', 'Virtual PCD 00 01'] as const;

const NS_SCRIPT = [
  'set -e',
  'mount -t tmpfs -o mode=0755,size=1m tmpfs /run',
  'mkdir -p /run/pcscd',
  'ip link set lo up',
  'exec pcscd --foreground --info --apdu --config "$1"',
].join('\n');

// Runs inside pcscd's network namespace; plain JS on purpose (node -e).
const RELAY_SCRIPT = `
const net = require('net');
const dir = process.env.RELAY_DIR;
const ports = JSON.parse(process.env.RELAY_PORTS);
let listening = 0;
ports.forEach((port, slot) => {
  const server = net.createServer((client) => {
    const upstream = net.connect(port, '127.0.0.1');
    const both = () => { client.destroy(); upstream.destroy(); };
    client.on('error', both); upstream.on('error', both);
    client.on('close', both); upstream.on('close', both);
    client.pipe(upstream); upstream.pipe(client);
  });
  server.listen(dir + '/slot' + slot + '.sock', () => { if (++listening === ports.length) process.stdout.write('ready\\n'); });
});
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
`;

const LOG_LINES = 400;

/** Per-process client socket path; see the notes above. */
function clientSocketPath(): string {
  return join(tmpdir(), `cardauth-pcsc-${process.pid}.comm`);
}

function pointClientAt(link: string, scratch: string): void {
  const current = process.env.PCSCLITE_CSOCK_NAME;
  if (current === link) return;
  if (current !== undefined) {
    throw new Error(`PCSCLITE_CSOCK_NAME is already "${current}" in this process; libpcsclite reads it once per process, so the test pcscd cannot use "${link}"`);
  }
  const file = join(scratch, 'pcsc.env');
  writeFileSync(file, `PCSCLITE_CSOCK_NAME=${link}\n`);
  process.loadEnvFile(file); // sets the real environment (Jest's process.env is only a copy)
  rmSync(file);
  process.env.PCSCLITE_CSOCK_NAME = link;
}

function repoint(link: string, target: string): void {
  const tmp = `${link}.${process.hrtime.bigint()}`;
  symlinkSync(target, tmp);
  renameSync(tmp, link); // atomic: a client never sees the link missing
}

function linkInUse(link: string): boolean {
  try {
    const m = /^\/proc\/(\d+)\/root\//.exec(readlinkSync(link));
    return m !== null && existsSync(`/proc/${m[1]}`);
  } catch {
    return false;
  }
}

/** Resolves when `proc` prints a line containing `marker`; rejects if it exits first or after `timeoutMs`. */
function waitForLine(proc: ChildProcess, lines: string[], marker: string, what: string, timeoutMs = 5000): Promise<void> {
  // Only this process's lines count (the log also holds earlier runs).
  const own = (l: string) => l.startsWith(`${proc.pid} `) && l.includes(marker);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => finish(new Error(`${what} not ready after ${timeoutMs} ms:\n${lines.slice(-30).join('\n')}`)), timeoutMs);
    const check = () => {
      if (lines.some(own)) finish();
    };
    const onExit = (code: number | null, signal: string | null) =>
      finish(new Error(`${what} exited (${code ?? signal}) before it was ready:\n${lines.slice(-30).join('\n')}`));
    const finish = (err?: Error) => {
      clearTimeout(timer);
      proc.stdout?.off('data', check);
      proc.stderr?.off('data', check);
      proc.off('exit', onExit);
      if (err) reject(err);
      else resolve();
    };
    proc.stdout?.on('data', check);
    proc.stderr?.on('data', check);
    proc.once('exit', onExit);
    check();
  });
}

/** Appends `proc`'s output to `lines`, each line prefixed with its pid and `label`. */
function collect(proc: ChildProcess, lines: string[], label: string): void {
  const prefix = `${proc.pid} ${label}`;
  let partial = '';
  const onData = (chunk: Buffer) => {
    const text = partial + chunk.toString('utf8');
    const parts = text.split('\n');
    partial = parts.pop() ?? '';
    for (const p of parts) lines.push(prefix + p);
    if (lines.length > LOG_LINES) lines.splice(0, lines.length - LOG_LINES);
  };
  // Listeners are added before waitForLine's, so lines are in place when it checks.
  proc.stdout?.prependListener('data', onData);
  proc.stderr?.prependListener('data', onData);
}

function killAndWait(proc: ChildProcess | undefined, signal: NodeJS.Signals): Promise<void> {
  if (!proc || proc.exitCode !== null || proc.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    proc.once('exit', () => resolve());
    proc.kill(signal);
  });
}

/**
 * Starts pcscd + vpcd in private namespaces and points this process's PC/SC
 * client at it.
 *
 * @example
 * const pcscd = await startPcscd();
 * const watcher = createReaderWatcher({ pcsc: () => pcsclite(), … });
 * const card = await pcscd.tap('04A22BB25C6180');
 * // …
 * await watcher.close();
 * await pcscd.stop();
 */
export async function startPcscd(): Promise<TestPcscd> {
  const link = clientSocketPath();
  if (linkInUse(link)) throw new Error(`another test pcscd is live in this process (${link}); stop() it first`);
  const dir = mkdtempSync(join(tmpdir(), 'cardauth-pcscd-'));
  const confDir = join(dir, 'reader.conf.d');
  mkdirSync(confDir);
  writeFileSync(
    join(confDir, 'vpcd'),
    ['FRIENDLYNAME "Virtual PCD"', 'DEVICENAME   /dev/null:0x8C7B', 'LIBPATH      /usr/lib/pcsc/drivers/serial/libifdvpcd.so', 'CHANNELID    0x8C7B', ''].join('\n'),
  );
  pointClientAt(link, dir);

  const lines: string[] = [];
  let daemon: ChildProcess | undefined;
  let relay: ChildProcess | undefined;
  const cards = new Map<0 | 1, VirtualCard>();

  const launch = async () => {
    const proc = spawn('setpriv', ['--pdeathsig', 'KILL', '--', 'unshare', '--mount', '--net', '--propagation', 'private', '--', 'sh', '-c', NS_SCRIPT, 'pcscd-ns', confDir], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    daemon = proc;
    collect(proc, lines, '[pcscd] ');
    await waitForLine(proc, lines, 'daemon ready', 'pcscd');
    const pid = proc.pid as number;
    const socket = `/proc/${pid}/root/run/pcscd/pcscd.comm`;
    // "daemon ready" can be logged a moment before the socket file appears.
    for (const deadline = Date.now() + 2000; !existsSync(socket); await new Promise((r) => setTimeout(r, 5))) {
      if (Date.now() > deadline || proc.exitCode !== null || proc.signalCode !== null) {
        throw new Error(`pcscd logged ready but ${socket} did not appear:\n${lines.slice(-30).join('\n')}`);
      }
    }

    for (const slot of [0, 1]) rmSync(join(dir, `slot${slot}.sock`), { force: true });
    const r = spawn('setpriv', ['--pdeathsig', 'KILL', '--', 'nsenter', '-t', String(pid), '-n', '--', process.execPath, '-e', RELAY_SCRIPT], {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', RELAY_DIR: dir, RELAY_PORTS: JSON.stringify(VPCD_PORTS) },
    });
    relay = r;
    collect(r, lines, '[relay] ');
    await waitForLine(r, lines, '[relay] ready', 'vpcd relay');
    repoint(link, socket);
  };

  const removeAll = async () => {
    const all = [...cards.values()];
    cards.clear();
    await Promise.all(all.map((c) => c.remove()));
  };

  const kill = async (signal: NodeJS.Signals = 'SIGKILL') => {
    await removeAll();
    const [d, r] = [daemon, relay];
    daemon = undefined;
    relay = undefined;
    await Promise.all([killAndWait(r, 'SIGKILL'), killAndWait(d, signal)]);
  };

  try {
    await launch();
  } catch (err) {
    await kill();
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }

  return {
    socketPath: link,
    readers: VPCD_READERS,
    pid: () => daemon?.pid,
    async tap(uid, slot = 0, respond) {
      if (!daemon) throw new Error('pcscd is not running');
      if (cards.has(slot)) throw new Error(`slot ${slot} already has a card; remove it first`);
      const card = await createVirtualCard({ path: join(dir, `slot${slot}.sock`), uid, ...(respond ? { respond } : {}) });
      cards.set(slot, card);
      void card.gone.then(() => {
        if (cards.get(slot) === card) cards.delete(slot);
      });
      return card;
    },
    async remove(slot = 0) {
      const card = cards.get(slot);
      cards.delete(slot);
      await card?.remove();
    },
    kill,
    async restart() {
      await kill('SIGTERM');
      await launch();
    },
    log: () => lines.join('\n'),
    async stop() {
      await kill('SIGTERM');
      try {
        if (readlinkSync(link).startsWith('/proc/')) unlinkSync(link);
      } catch {
        // already gone
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
