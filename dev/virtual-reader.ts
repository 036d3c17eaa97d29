import { existsSync, mkdirSync, readlinkSync, renameSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { CardauthError } from '../src/errors';
import { createVirtualCard, VPCD_PORTS, type Responder, type VirtualCard } from './vpcd-card';
import { createLineLog, spawnChild, type Child, type LineLog } from './child-process';

/**
 * A real pcscd with the vsmartcard `vpcd` virtual reader driver, private to
 * its owner (the demo, or one test file), and virtual cards to tap on it. No
 * hardware, no mocks: the agent reads cards through pcsclite exactly as on a
 * workstation.
 *
 * How the plumbing works (docs/testing.md):
 *
 * - pcscd runs under `unshare --mount --net`: a tmpfs over `/run` gives it its
 *   own `/run/pcscd/pcscd.comm` (the host's `/run` is untouched; the mount
 *   dies with the namespace), and a network namespace with only `lo` keeps
 *   vpcd's TCP ports 35963/35964 (which it opens on all interfaces) private.
 *   `setpriv --pdeathsig KILL` kills it if its owner dies. Needs root.
 * - The PC/SC client stays outside: libpcsclite reads `PCSCLITE_CSOCK_NAME`
 *   **once per process, at the first call** (measured: later changes, and
 *   even a first failed call, are sticky). So the client gets one stable path
 *   — a symlink, {@link VirtualReader.clientSocket} — that is re-pointed
 *   (atomically) at `/proc/<pcscd pid>/root/run/pcscd/pcscd.comm` on every
 *   (re)start. Give it to a client process in its environment before it loads
 *   pcsclite, e.g. `PCSCLITE_CSOCK_NAME=var/demo/pcscd.comm cardauth agent run`.
 * - Virtual cards reach vpcd through a relay: a tiny `python3 -c` process started
 *   with `nsenter -t <pcscd pid> -n`, listening on Unix sockets
 *   `vpcd-slot0.sock` / `vpcd-slot1.sock` in the reader's folder (the
 *   filesystem is shared) and forwarding each connection to
 *   127.0.0.1:35963/35964 inside the namespace. One connection = one card on
 *   the reader; closing it = removal. Anyone who can open those sockets can
 *   tap (`createVirtualCard({ path })`, `cardauth card tap`, POST /demo/tap).
 *
 * Several readers run at once as long as each has its own folder and client
 * socket. `stop()` leaves no process, mount, socket or symlink behind.
 */

/** Reader names of the two vpcd slots. */
export const VPCD_READERS = Object.freeze(['Virtual PCD 00 00', 'Virtual PCD 00 01'] as const);

export type VpcdSlot = 0 | 1;

/** Where vpcd's Debian package puts the driver. */
export const VPCD_DRIVER = '/usr/lib/pcsc/drivers/serial/libifdvpcd.so';

/**
 * The relay socket of a slot in a reader's folder: what `createVirtualCard({ path })` connects to.
 *
 * @example
 * relaySocketPath('var/demo', 0) // => 'var/demo/vpcd-slot0.sock'
 */
export function relaySocketPath(dir: string, slot: VpcdSlot = 0): string {
  return join(dir, `vpcd-slot${slot}.sock`);
}

export interface VirtualReaderOptions {
  /** Folder for the pcscd config, the relay sockets and (by default) the client socket. Created if missing. */
  dir: string;
  /** The stable path for `PCSCLITE_CSOCK_NAME`, a symlink. Default `<dir>/pcscd.comm`. */
  clientSocket?: string;
  /** Collects pcscd's and the relay's output (pcscd runs with `--info --apdu`). Default: the last 400 lines in memory. */
  log?: LineLog;
  /** How long to wait for pcscd and the relay. Default 5000 ms. */
  readyTimeoutMs?: number;
}

/** A running pcscd + vpcd; see {@link startVirtualReader}. */
export interface VirtualReader {
  /** Absolute path of the symlink to give libpcsclite as `PCSCLITE_CSOCK_NAME`. */
  readonly clientSocket: string;
  /** Absolute path of the reader's folder. */
  readonly dir: string;
  /** Reader names of slot 0 and slot 1. */
  readonly readers: readonly [string, string];
  /** The relay socket of a slot (default 0). */
  relaySocket(slot?: VpcdSlot): string;
  /** pcscd's pid, or undefined while it is killed. */
  pid(): number | undefined;
  /** Puts a card with this UID on a slot's reader (default slot 0). */
  tap(uid: string, slot?: VpcdSlot, respond?: Responder): Promise<VirtualCard>;
  /** Takes the card put there by `tap` off a slot (no-op when none). */
  remove(slot?: VpcdSlot): Promise<void>;
  /** Kills pcscd (and the relay); cards on it are gone. Default SIGKILL. */
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** Starts pcscd again (killing it first if it runs) and re-points the client socket; resolves when it is ready. */
  restart(): Promise<void>;
  /** Resolves when pcscd or the relay ends without kill/restart/stop asking (a crash). */
  readonly died: Promise<string>;
  /** pcscd's and the relay's recent output. */
  log(): string;
  /** Stops pcscd and the relay, and removes the relay sockets, the client symlink and the pcscd config. */
  stop(): Promise<void>;
}

const NS_SCRIPT = [
  'set -e',
  'mount -t tmpfs -o mode=0755,size=1m tmpfs /run',
  'mkdir -p /run/pcscd',
  'ip link set lo up',
  'exec pcscd --foreground --info --apdu --config "$1"',
].join('\n');

// Runs inside pcscd's network namespace (python3 -c). Python, not Node, for one socket
// option: vpcd writes each frame's 2-byte length and its payload in two send() calls, so
// with Nagle on its side and delayed ACK on ours every message waited ~40 ms. Re-arming
// TCP_QUICKACK around each recv() ACKs at once (measured: a GET DATA went from ~44 ms to
// ~1 ms). Node cannot set TCP_QUICKACK.
const RELAY_SCRIPT = `
import json, os, socket, sys, threading

def pump(src, dst, quick):
    try:
        while True:
            if quick:
                src.setsockopt(socket.IPPROTO_TCP, socket.TCP_QUICKACK, 1)
            data = src.recv(65536)
            if quick:
                src.setsockopt(socket.IPPROTO_TCP, socket.TCP_QUICKACK, 1)
            if not data:
                break
            dst.sendall(data)
    except OSError:
        pass
    for s in (src, dst):
        try:
            s.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

def serve(path, port, ready):
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    srv.bind(path)
    srv.listen(8)
    ready.release()
    while True:
        client, _ = srv.accept()
        try:
            up = socket.create_connection(('127.0.0.1', port))
        except OSError:
            client.close()
            continue
        up.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        threading.Thread(target=pump, args=(client, up, False), daemon=True).start()
        threading.Thread(target=pump, args=(up, client, True), daemon=True).start()

routes = json.loads(os.environ['RELAY_ROUTES'])
ready = threading.Semaphore(0)
for path, port in routes:
    threading.Thread(target=serve, args=(path, port, ready), daemon=True).start()
for _ in routes:
    ready.acquire()
sys.stdout.write('relay ready\\n')
sys.stdout.flush()
sys.stdin.read()
`;

/** sun_path holds 108 bytes including the final NUL. */
const MAX_SOCKET_PATH = 107;

function repoint(link: string, target: string): void {
  const tmp = `${link}.${process.pid}.${process.hrtime.bigint()}`;
  symlinkSync(target, tmp);
  renameSync(tmp, link); // atomic: a client never sees the link missing
}

/** The pid of the live pcscd the link points at, if any. */
function livePcscd(link: string): number | undefined {
  try {
    const target = readlinkSync(link);
    const m = /^\/proc\/(\d+)\/root\//.exec(target);
    return m && existsSync(target) ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

function removeLink(link: string): void {
  try {
    if (readlinkSync(link).startsWith('/proc/')) unlinkSync(link);
  } catch {
    // already gone, or not our symlink
  }
}

/**
 * Starts pcscd + vpcd in private namespaces, and the card relay; resolves
 * when both are ready and the client socket points at pcscd. Rejects with
 * `unavailable` (naming what failed) and leaves nothing running when a part
 * does not start, or when the client socket already leads to a live pcscd
 * (another reader on the same path).
 *
 * @example
 * const reader = await startVirtualReader({ dir: 'var/demo' });
 * // child processes get PCSCLITE_CSOCK_NAME=reader.clientSocket
 * const card = await reader.tap('04A22BB25C6180');
 * await card.remove();
 * await reader.stop();
 */
export async function startVirtualReader(options: VirtualReaderOptions): Promise<VirtualReader> {
  if (!options || typeof options.dir !== 'string' || options.dir === '') throw new TypeError('startVirtualReader needs { dir }');
  const dir = resolve(options.dir);
  const link = resolve(options.clientSocket ?? join(dir, 'pcscd.comm'));
  const log = options.log ?? createLineLog();
  const readyMs = options.readyTimeoutMs ?? 5000;
  const sockets = [relaySocketPath(dir, 0), relaySocketPath(dir, 1)] as const;

  for (const p of [...sockets, link]) {
    if (Buffer.byteLength(p) > MAX_SOCKET_PATH) throw new CardauthError('unavailable', `virtual reader: socket path too long for a Unix socket (${p}); use a shorter folder`);
  }
  if (!existsSync(VPCD_DRIVER)) throw new CardauthError('unavailable', `virtual reader: ${VPCD_DRIVER} is missing; install Debian's pcscd and vsmartcard-vpcd (scripts/install.sh)`);
  const other = livePcscd(link);
  if (other !== undefined) throw new CardauthError('unavailable', `virtual reader: ${link} already leads to a running pcscd (pid ${other}); stop that one first`);

  mkdirSync(dir, { recursive: true });
  const confDir = join(dir, 'reader.conf.d');
  mkdirSync(confDir, { recursive: true });
  writeFileSync(
    join(confDir, 'vpcd'),
    ['FRIENDLYNAME "Virtual PCD"', 'DEVICENAME   /dev/null:0x8C7B', `LIBPATH      ${VPCD_DRIVER}`, 'CHANNELID    0x8C7B', ''].join('\n'),
  );

  let daemon: Child | undefined;
  let relay: Child | undefined;
  let expectedEnd = false;
  let reportDeath: (what: string) => void = () => {};
  const died = new Promise<string>((r) => (reportDeath = r));
  const cards = new Map<VpcdSlot, VirtualCard>();
  const fail = (what: string, err: unknown): never => {
    const why = err instanceof Error ? err.message : String(err);
    throw new CardauthError('unavailable', `virtual reader: ${why} (${what}; pcscd needs root for its private namespaces)\n${log.tail()}`, { cause: err });
  };

  const launch = async () => {
    expectedEnd = false;
    const d = spawnChild({
      name: 'pcscd',
      command: 'unshare',
      args: ['--mount', '--net', '--propagation', 'private', '--', 'sh', '-c', NS_SCRIPT, 'pcscd-ns', confDir],
      log,
    });
    daemon = d;
    await d.waitForLine((l) => l.includes('daemon ready'), readyMs).catch((e) => fail('pcscd', e));
    const pid = d.proc.pid as number;
    const socket = `/proc/${pid}/root/run/pcscd/pcscd.comm`;
    // "daemon ready" can be logged a moment before the socket file appears.
    for (const deadline = Date.now() + 2000; !existsSync(socket); await new Promise((r) => setTimeout(r, 5))) {
      if (Date.now() > deadline || !d.running()) fail('pcscd', new Error(`pcscd logged ready but ${socket} did not appear`));
    }

    const r = spawnChild({
      name: 'vpcd-relay',
      command: 'nsenter',
      args: ['-t', String(pid), '-n', '--', '/usr/bin/python3', '-c', RELAY_SCRIPT], // Debian's python3 (install.sh)
      stdin: 'pipe', // closes when this process dies: the relay exits
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', RELAY_ROUTES: JSON.stringify(sockets.map((s, i) => [s, VPCD_PORTS[i]])) },
      log,
    });
    relay = r;
    await r.waitForLine((l) => l.includes('relay ready'), readyMs).catch((e) => fail('relay', e));
    repoint(link, socket);
    for (const c of [d, r]) {
      void c.exited.then((e) => {
        if (!expectedEnd && (c === daemon || c === relay)) reportDeath(`${c.name} ${e.signal ? `was killed by ${e.signal}` : `exited with code ${e.code}`}`);
      });
    }
  };

  const removeAll = async () => {
    const all = [...cards.values()];
    cards.clear();
    await Promise.all(all.map((c) => c.remove()));
  };

  const kill = async (signal: NodeJS.Signals = 'SIGKILL') => {
    expectedEnd = true;
    await removeAll();
    const [d, r] = [daemon, relay];
    daemon = undefined;
    relay = undefined;
    await Promise.all([r?.stop('SIGKILL'), d?.stop(signal)]);
  };

  const cleanFiles = () => {
    removeLink(link);
    for (const s of sockets) rmSync(s, { force: true });
    rmSync(confDir, { recursive: true, force: true });
  };

  try {
    await launch();
  } catch (err) {
    await kill();
    cleanFiles();
    throw err;
  }

  return {
    clientSocket: link,
    dir,
    readers: VPCD_READERS,
    relaySocket: (slot = 0) => sockets[slot],
    pid: () => daemon?.proc.pid,
    async tap(uid, slot = 0, respond) {
      if (!daemon) throw new CardauthError('unavailable', 'virtual reader: pcscd is not running');
      if (cards.has(slot)) throw new TypeError(`slot ${slot} already has a card; remove it first`);
      const card = await createVirtualCard({ path: sockets[slot], uid, ...(respond ? { respond } : {}) });
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
      try {
        await launch();
      } catch (err) {
        await kill();
        throw err;
      }
    },
    died,
    log: () => log.tail(400),
    async stop() {
      await kill('SIGTERM');
      cleanFiles();
    },
  };
}
