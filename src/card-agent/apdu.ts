import { CardauthError } from '../errors';
import { interpretStatusWord, statusWordError, swHex } from './status-words';

/**
 * GET DATA: the PC/SC pseudo-APDU that asks the reader for the UID of the card
 * in its field (PC/SC part 3 §3.2.2.1.3). The reader answers it itself; the
 * card never sees it, so it works on any contactless card, MIFARE or not.
 */

/** Largest UID answer: Le = 00 allows up to 256 data bytes, plus SW1 SW2. */
export const MAX_RESPONSE_LENGTH = 256 + 2;

/**
 * Builds `FF CA 00 00 Le`.
 *
 * @param le expected UID length; 0 (the default) asks for the whole UID,
 *   whatever its length. A reader that wants an exact length answers
 *   `6C XX`, and the caller asks again with `le = XX`.
 * @throws TypeError when `le` is not an integer 0..255.
 *
 * @example
 * getUidCommand()  // => <Buffer ff ca 00 00 00>
 * getUidCommand(7) // => <Buffer ff ca 00 00 07>
 */
export function getUidCommand(le = 0): Buffer {
  if (!Number.isInteger(le) || le < 0 || le > 0xff) throw new TypeError(`Le must be an integer 0..255, got ${String(le)}`);
  return Buffer.from([
    0xff, // CLA = FF: PC/SC pseudo-APDU class, handled by the reader, never sent to the card
    0xca, // INS = CA: GET DATA
    0x00, // P1  = 00: the UID (01 would ask for the ATS historical bytes)
    0x00, // P2  = 00: no qualifier
    le, //   Le  = 00: the whole UID; otherwise exactly that many bytes
  ]);
}

/** A response APDU split into data and status word. */
export interface ResponseApdu {
  /** The data field (a copy; never aliases the input). */
  readonly data: Buffer;
  readonly sw1: number;
  readonly sw2: number;
}

/**
 * Splits a response APDU into data and SW1 SW2.
 *
 * @throws CardauthError `card_response_malformed` when shorter than 2 bytes.
 *
 * @example
 * parseResponse(Buffer.from('04A22BB29000', 'hex')) // => { data: <04 a2 2b b2>, sw1: 0x90, sw2: 0x00 }
 */
export function parseResponse(response: Uint8Array): ResponseApdu {
  if (response.length < 2) {
    throw new CardauthError('card_response_malformed', `response of ${response.length} byte(s) has no status word`);
  }
  const n = response.length;
  return { data: Buffer.from(response.subarray(0, n - 2)), sw1: response[n - 2], sw2: response[n - 1] };
}

/** The outcome of one GET DATA exchange: the UID bytes, or ask again. */
export type GetUidResult = { readonly uid: Buffer } | { readonly retryLe: number };

/**
 * Interprets the answer to `FF CA 00 00 le`: splits it, looks the status word
 * up in the table, and checks the data length.
 *
 * - 90 00 with a non-empty data field (exactly `le` bytes when `le` > 0)
 *   → `{ uid }` (raw reader byte order, not yet normalised);
 * - 6C XX → `{ retryLe: XX }`;
 * - any other status word → its typed error (see `STATUS_WORDS`);
 * - shorter than 2 bytes, an empty UID, or a length other than the `le`
 *   asked for → `card_response_malformed`.
 *
 * @example
 * parseGetUidResponse(Buffer.from('04A22BB29000', 'hex'), 0) // => { uid: <04 a2 2b b2> }
 * parseGetUidResponse(Buffer.from('6C07', 'hex'), 0)         // => { retryLe: 7 }
 */
export function parseGetUidResponse(response: Uint8Array, le: number): GetUidResult {
  const { data, sw1, sw2 } = parseResponse(response);
  const verdict = interpretStatusWord(sw1, sw2);
  if (verdict.action === 'retry') return { retryLe: verdict.le };
  if (verdict.action === 'fail') throw statusWordError(sw1, sw2);
  if (data.length === 0) throw new CardauthError('card_response_malformed', `GET DATA answered ${swHex(sw1, sw2)} with no UID`);
  if (le !== 0 && data.length !== le) {
    throw new CardauthError('card_response_malformed', `GET DATA asked for ${le} byte(s) and got ${data.length}`);
  }
  return { uid: data };
}
