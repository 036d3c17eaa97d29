/**
 * The slice of the `pcsclite` npm package (1.0.1) the agent uses, as narrow
 * interfaces. The real module satisfies them structurally, so only the agent's
 * main needs `import pcsclite = require('pcsclite')`; everything else takes a
 * `() => PcscLite` factory.
 *
 * Behaviour of pcsclite 1.0.1 that the code relies on (read from its source
 * and checked against pcscd 1.9.9):
 *
 * - `pcsclite()` throws synchronously when pcscd is not there
 *   (`SCardEstablishContext error: Service not available.(0x8010001d)`).
 * - Each `PcscReader` runs its own `SCardGetStatusChange` thread; an error on
 *   it is emitted as `'error'` (and crashes the process without a listener),
 *   then the thread ends and `'end'` follows. The reader is then dead: there
 *   is no call to restart it short of a new `pcsclite()` context.
 * - `'status'` is emitted **before** `reader.state` is updated, so inside the
 *   listener `reader.state` is the previous state (undefined the first time).
 * - `PcscLite.close()` does not close the readers; each needs `close()` or
 *   its thread keeps the event loop alive. After `close()` the context still
 *   emits one `'error'` (`Command cancelled 0x80100002`): keep the listener.
 * - `connect()` defaults to SCARD_SHARE_EXCLUSIVE, and when the reader is
 *   already connected it calls back with no protocol.
 * - Errors are plain `Error`s whose message ends in `(0x8010xxxx)`.
 */

/** What `'status'` carries. */
export interface PcscStatus {
  /** dwEventState: SCARD_STATE_* bits; the high 16 bits count card events. */
  state: number;
  atr?: Buffer;
}

/** A reader as pcsclite exposes it (a subset). */
export interface PcscReader {
  readonly name: string;
  /** The previous status while a `'status'` listener runs. */
  state?: number;
  connected: boolean;
  readonly SCARD_SHARE_SHARED: number;
  readonly SCARD_PROTOCOL_T0: number;
  readonly SCARD_PROTOCOL_T1: number;
  readonly SCARD_STATE_PRESENT: number;
  readonly SCARD_LEAVE_CARD: number;
  on(event: 'error', listener: (err: Error) => void): this;
  on(event: 'status', listener: (status: PcscStatus) => void): this;
  on(event: 'end', listener: () => void): this;
  connect(options: { share_mode?: number; protocol?: number }, cb: (err: Error | null | undefined, protocol: number) => void): void;
  transmit(data: Buffer, resLen: number, protocol: number, cb: (err: Error | null | undefined, response: Buffer) => void): void;
  disconnect(disposition: number, cb: (err: Error | null | undefined) => void): void;
  close(): void;
}

/** A PC/SC context as pcsclite exposes it (a subset). */
export interface PcscLite {
  on(event: 'error', listener: (err: Error) => void): this;
  on(event: 'reader', listener: (reader: PcscReader) => void): this;
  close(): void;
}

/** PC/SC return codes the agent tells apart (winscard `SCARD_*`). */
export const PCSC_CODE = Object.freeze({
  /** Command cancelled: our own close(). */
  CANCELLED: 0x80100002,
  /** No smart card in the reader. */
  NO_SMARTCARD: 0x8010000c,
  /** RPC transport error: pcscd went away under a live context. */
  COMM_ERROR: 0x80100013,
  /** Service not available: pcscd is not running (or not at this socket). */
  NO_SERVICE: 0x8010001d,
  /** Service stopped. */
  SERVICE_STOPPED: 0x8010001e,
  /** The card was removed. */
  REMOVED_CARD: 0x80100069,
  /** The card was reset by another application. */
  RESET_CARD: 0x80100068,
  /** The card does not answer. */
  UNRESPONSIVE_CARD: 0x80100066,
});

/**
 * The PC/SC return code at the end of a pcsclite error message, if any.
 *
 * @example
 * pcscCode(new Error('SCardConnect error: Card was removed.(0x80100069)')) // => 0x80100069
 */
export function pcscCode(err: unknown): number | undefined {
  const m = err instanceof Error ? /\(0x([0-9a-f]{8})\)\s*$/i.exec(err.message) : null;
  return m ? Number.parseInt(m[1] as string, 16) : undefined;
}

/** True when the error means pcscd itself is gone (stopped, restarting, never started). */
export function isServiceGone(err: unknown): boolean {
  const c = pcscCode(err);
  return c === PCSC_CODE.NO_SERVICE || c === PCSC_CODE.COMM_ERROR || c === PCSC_CODE.SERVICE_STOPPED;
}

/** True when the error means the card left the reader (mid-read). */
export function isCardGone(err: unknown): boolean {
  const c = pcscCode(err);
  return c === PCSC_CODE.REMOVED_CARD || c === PCSC_CODE.NO_SMARTCARD;
}
