import { connect as netConnect, type Socket } from 'node:net';

/**
 * A virtual contactless card for vsmartcard's `vpcd` reader driver: it lets
 * pcscd, pcsclite and the agent run unchanged with no hardware (tests, demos,
 * `cardauth card tap --uid HEX`).
 *
 * The vpcd wire protocol, both directions: a 2-byte big-endian length, then
 * the payload. A 1-byte payload from the driver is a control code — 00 power
 * off, 01 power on, 02 reset, 04 get ATR; only 04 is answered (with the ATR,
 * framed). A longer payload is a command APDU, answered with a framed
 * response APDU. The card is present while its TCP connection is open.
 */

/** Default vpcd ports: slot 0 ("Virtual PCD 00 00") and slot 1 ("… 00 01"). */
export const VPCD_PORTS = Object.freeze([35963, 35964] as const);

/** ATR of a contactless storage card (PC/SC part 3): `3B 8F 80 01 80 4F 0C A0 00 00 03 06 03 00 01 00 00 00 00 6A`. */
export const CONTACTLESS_STORAGE_ATR = '3B8F8001804F0CA000000306030001000000006A';

const CONTROL = Object.freeze({ POWER_OFF: 0x00, POWER_ON: 0x01, RESET: 0x02, GET_ATR: 0x04 });

/**
 * Answers one command APDU. Return `undefined` to fall back to
 * {@link defaultResponse}; anything else is sent as is (even a 1-byte or
 * empty answer), which is how tests make a reader misbehave.
 *
 * @example
 * // answer every GET DATA with "function not supported"
 * const respond: Responder = (apdu) => (apdu[1] === 0xca ? Uint8Array.of(0x6a, 0x81) : undefined);
 */
export type Responder = (apdu: Buffer, uid: Buffer) => Uint8Array | undefined;

/**
 * How a contactless reader answers APDUs for a card with this UID:
 *
 * - GET DATA UID `FF CA 00 00 Le`: Le = 00 or the UID length → UID + `90 00`;
 *   Le smaller than the UID → `6C <length>`; Le larger → UID + `62 82`;
 * - GET DATA with another P1/P2 → `6A 81`; another pseudo-APDU → `6D 00`;
 * - any other class → `6E 00` (a storage card has no applications).
 *
 * @example
 * defaultResponse(Buffer.from('FFCA000000', 'hex'), Buffer.from('04A22BB2', 'hex')) // => <04 a2 2b b2 90 00>
 */
export function defaultResponse(apdu: Buffer, uid: Buffer): Buffer {
  if (apdu.length < 4 || apdu[0] !== 0xff) return Buffer.from([0x6e, 0x00]);
  if (apdu[1] !== 0xca) return Buffer.from([0x6d, 0x00]);
  if (apdu[2] !== 0x00 || apdu[3] !== 0x00) return Buffer.from([0x6a, 0x81]);
  const le = apdu.length >= 5 ? (apdu[4] as number) : 0;
  if (le === 0 || le === uid.length) return Buffer.concat([uid, Buffer.from([0x90, 0x00])]);
  if (le < uid.length) return Buffer.from([0x6c, uid.length]);
  return Buffer.concat([uid, Buffer.from([0x62, 0x82])]);
}

export interface VirtualCardOptions {
  /** vpcd's host, for a TCP connection. Default `127.0.0.1`. */
  host?: string;
  /** vpcd's port: 35963 for slot 0, 35964 for slot 1 (see {@link VPCD_PORTS}). */
  port?: number;
  /** Instead of host/port: a Unix socket that leads to vpcd (e.g. a relay into pcscd's network namespace). */
  path?: string;
  /** The UID the card reports, as hex (spaces and colons allowed) or bytes. Any length: misfits are the reader side's business. */
  uid: string | Uint8Array;
  /** The ATR. Default {@link CONTACTLESS_STORAGE_ATR}. */
  atr?: string | Uint8Array;
  /** Overrides answers to command APDUs; see {@link Responder}. */
  respond?: Responder;
}

/** A card lying on a virtual reader. */
export interface VirtualCard {
  /** The UID as uppercase hex. */
  readonly uid: string;
  /** Command APDUs received so far, as uppercase hex (control codes excluded). */
  readonly apdus: readonly string[];
  /** Resolves when the connection is gone (removed, or vpcd went away). */
  readonly gone: Promise<void>;
  /** Takes the card off the reader (closes the connection). */
  remove(): Promise<void>;
}

const toBytes = (v: string | Uint8Array, what: string): Buffer => {
  if (typeof v !== 'string') return Buffer.from(v);
  const hex = v.replace(/[\s:-]/g, '');
  if (!/^(?:[0-9a-fA-F]{2})*$/.test(hex)) throw new TypeError(`${what} must be hex digits, two per byte`);
  return Buffer.from(hex, 'hex');
};

const frame = (payload: Uint8Array): Buffer => {
  const header = Buffer.alloc(2);
  header.writeUInt16BE(payload.length);
  return Buffer.concat([header, payload]);
};

/**
 * Puts a virtual card on a vpcd reader: resolves once connected (the reader
 * reports the card present about half a second later, at pcscd's next poll).
 *
 * @throws TypeError for a non-hex `uid`/`atr` or neither `port` nor `path`.
 *
 * @example
 * const card = await createVirtualCard({ host: '127.0.0.1', port: 35963, uid: '04A22BB25C6180' });
 * // … the agent reads 04A22BB25C6180 …
 * await card.remove();
 */
export function createVirtualCard(options: VirtualCardOptions): Promise<VirtualCard> {
  const uid = toBytes(options.uid, 'uid');
  if (uid.length === 0 || uid.length > 0xff) throw new TypeError('uid must be 1..255 bytes');
  const atr = toBytes(options.atr ?? CONTACTLESS_STORAGE_ATR, 'atr');
  const respond = options.respond;
  if (options.path === undefined && options.port === undefined) throw new TypeError('createVirtualCard needs a `port` or a `path`');

  return new Promise((resolve, reject) => {
    const socket: Socket =
      options.path !== undefined ? netConnect({ path: options.path }) : netConnect({ host: options.host ?? '127.0.0.1', port: options.port as number });
    socket.setNoDelay(true);
    const apdus: string[] = [];
    let pending: Buffer = Buffer.alloc(0);
    let connected = false;
    const gone = new Promise<void>((done) => socket.once('close', () => done()));

    const send = (payload: Uint8Array) => {
      if (!socket.destroyed && socket.writable) socket.write(frame(payload));
    };

    const onMessage = (msg: Buffer) => {
      if (msg.length === 1) {
        if (msg[0] === CONTROL.GET_ATR) send(atr);
        // POWER_OFF, POWER_ON, RESET: nothing to answer; a storage card has no state to reset.
        return;
      }
      apdus.push(msg.toString('hex').toUpperCase());
      send(respond?.(Buffer.from(msg), Buffer.from(uid)) ?? defaultResponse(msg, uid));
    };

    socket.on('data', (chunk: Buffer) => {
      pending = pending.length ? Buffer.concat([pending, chunk]) : chunk;
      while (pending.length >= 2) {
        const length = pending.readUInt16BE(0);
        if (pending.length < 2 + length) break;
        const msg = pending.subarray(2, 2 + length);
        pending = pending.subarray(2 + length);
        onMessage(msg);
      }
    });
    socket.on('error', (err) => {
      if (!connected) reject(err);
      // After connecting, an error only means the card is gone: 'close' follows.
    });
    socket.once('connect', () => {
      connected = true;
      resolve({
        uid: uid.toString('hex').toUpperCase(),
        apdus,
        gone,
        remove() {
          socket.destroy();
          return gone;
        },
      });
    });
  });
}
