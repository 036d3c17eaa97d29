import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Responder, VirtualCard } from '../../dev/vpcd-card';
import { startVirtualReader, VPCD_READERS as READERS } from '../../dev/virtual-reader';
import { pointPcscClient } from './pcsc-client';

/**
 * A real pcscd with the vsmartcard `vpcd` virtual reader driver, private to
 * one test file, and virtual cards to tap on it: a thin wrapper over
 * `dev/virtual-reader.ts` (the same plumbing `cardauth demo` runs; the
 * notes on how it works are there).
 *
 * What is test-specific here: the reader lives in a temp dir, and this Jest
 * worker's own PC/SC client is pointed at it through the process's one
 * client socket path (`pointPcscClient`, set for every test file by the Jest
 * setup file).
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

export const VPCD_READERS = READERS;

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
  const link = pointPcscClient();
  const dir = mkdtempSync(join(tmpdir(), 'cardauth-pcscd-'));
  let reader;
  try {
    reader = await startVirtualReader({ dir, clientSocket: link });
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  const r = reader;
  return {
    socketPath: link,
    readers: r.readers,
    pid: () => r.pid(),
    tap: (uid, slot, respond) => r.tap(uid, slot, respond),
    remove: (slot) => r.remove(slot),
    kill: (signal) => r.kill(signal),
    restart: () => r.restart(),
    log: () => r.log(),
    async stop() {
      await r.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
