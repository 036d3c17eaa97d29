import { CardauthError, isCardauthError } from '../errors';
import { normaliseUid, type Uid } from '../contract/uid';
import { MAX_RESPONSE_LENGTH, getUidCommand, parseGetUidResponse } from './apdu';
import { isCardGone, type PcscReader } from './pcsc';

/** The most UID bytes passed on as read when they are not admissible; more is not a UID at all. */
const MAX_PRESENTED_BYTES = 32;

/**
 * A UID was read but cannot identify a card (`uid_random`, `uid_length`).
 * It keeps the bytes as read, uppercase hex, so that the presentation can
 * still be signed and audited by the server, which refuses it.
 */
export class InadmissibleUidError extends CardauthError {
  constructor(
    cause: CardauthError,
    readonly presentedUid: string,
  ) {
    super(cause.code, cause.message, { cause });
  }
}

/** Options for {@link readUid}. */
export interface ReadUidOptions {
  /**
   * The reader reports UID bytes in reverse order (some readers do, and some
   * can be reconfigured to): reverse them before normalising, so one badge
   * has one UID whatever reader it is tapped on.
   */
  reversed?: boolean;
}

/**
 * Reads the UID of the card on `reader`: connects in shared mode, sends
 * GET DATA `FF CA 00 00 00`, retries once with the length a `6C XX` asks for,
 * disconnects leaving the card as it was, and normalises the UID.
 *
 * Rejects with a `CardauthError`:
 * - a status-word code (`card_end_of_data`, `card_operation_failed`,
 *   `card_function_unsupported`, `card_class_unsupported`,
 *   `card_status_unknown`) or `card_response_malformed`;
 * - `uid_random`, `uid_length` from {@link normaliseUid}, as an
 *   {@link InadmissibleUidError} carrying the bytes read (up to 32);
 * - `card_absent` when the card left before it could be read;
 * - `card_io_failed` for any other PC/SC failure (message carries the code).
 *
 * @example
 * const uid = await readUid(reader);                   // '04A22BB25C6180'
 * const uid = await readUid(reader, { reversed: true }); // bytes reversed first
 */
export async function readUid(reader: PcscReader, options: ReadUidOptions = {}): Promise<Uid> {
  let raw: Buffer;
  try {
    raw = await exchange(reader);
  } catch (e) {
    if (isCardauthError(e)) throw e;
    if (isCardGone(e)) throw new CardauthError('card_absent', 'the card left the reader before it could be read', { cause: e });
    throw new CardauthError('card_io_failed', `PC/SC: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
  }
  if (options.reversed) raw.reverse();
  try {
    return normaliseUid(raw);
  } catch (e) {
    if (isCardauthError(e) && raw.length <= MAX_PRESENTED_BYTES) throw new InadmissibleUidError(e, raw.toString('hex').toUpperCase());
    throw e;
  }
}

async function exchange(reader: PcscReader): Promise<Buffer> {
  if (reader.connected) await disconnect(reader).catch(() => undefined);
  const protocol = await connect(reader);
  try {
    let le = 0;
    for (let attempt = 0; attempt < 2; attempt++) {
      const result = parseGetUidResponse(await transmit(reader, getUidCommand(le), protocol), le);
      if ('uid' in result) return result.uid;
      le = result.retryLe;
    }
    throw new CardauthError('card_response_malformed', `GET DATA answered 6C ${le.toString(16).toUpperCase().padStart(2, '0')} again after a retry with that length`);
  } finally {
    await disconnect(reader).catch(() => undefined);
  }
}

function connect(reader: PcscReader): Promise<number> {
  return new Promise((resolve, reject) => {
    const options = { share_mode: reader.SCARD_SHARE_SHARED, protocol: reader.SCARD_PROTOCOL_T0 | reader.SCARD_PROTOCOL_T1 };
    try {
      reader.connect(options, (err, protocol) => {
        if (err) return reject(err);
        // pcsclite calls back with no protocol when it believes it is already connected
        if (typeof protocol !== 'number') return reject(new Error('reader handle already in use (no protocol from connect)'));
        resolve(protocol);
      });
    } catch (e) {
      reject(e);
    }
  });
}

function transmit(reader: PcscReader, command: Buffer, protocol: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    try {
      reader.transmit(command, MAX_RESPONSE_LENGTH, protocol, (err, response) => (err ? reject(err) : resolve(response)));
    } catch (e) {
      reject(e); // the binding throws synchronously on bad arguments
    }
  });
}

function disconnect(reader: PcscReader): Promise<void> {
  return new Promise((resolve, reject) => {
    reader.disconnect(reader.SCARD_LEAVE_CARD, (err) => (err ? reject(err) : resolve()));
  });
}
