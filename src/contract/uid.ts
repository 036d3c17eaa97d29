import { CardauthError } from '../errors';

/**
 * A MIFARE UID as uppercase hex: 4 bytes (single size, NUID), 7 bytes (double
 * size) or 10 bytes (triple size).
 */
export type Uid = string & { readonly __brand: 'Uid' };

const UID_BYTES = new Set([4, 7, 10]);

/**
 * Normalises a UID given as hex (spaces, colons and dashes allowed) or bytes,
 * and refuses what cannot identify a card.
 *
 * - `uid_malformed`: not hex, or an odd number of digits;
 * - `uid_length`: not 4, 7 or 10 bytes;
 * - `uid_random`: a 4-byte UID starting with 0x08, a random ID that changes on
 *   every tap (ISO/IEC 14443-3 RID).
 *
 * @example
 * normaliseUid('04:a2:2b:b2:5c:61:80') // => '04A22BB25C6180'
 */
export function normaliseUid(input: string | Uint8Array): Uid {
  let hex: string;
  if (typeof input === 'string') {
    hex = input.replace(/[\s:-]/g, '').toUpperCase();
    if (hex.length === 0 || hex.length > 64 || !/^[0-9A-F]+$/.test(hex) || hex.length % 2 !== 0) {
      throw new CardauthError('uid_malformed', 'UID must be hex digits, two per byte');
    }
  } else {
    hex = Buffer.from(input).toString('hex').toUpperCase();
  }
  const bytes = hex.length / 2;
  if (!UID_BYTES.has(bytes)) {
    throw new CardauthError('uid_length', `UID must be 4, 7 or 10 bytes, got ${bytes}`);
  }
  if (bytes === 4 && hex.startsWith('08')) {
    throw new CardauthError('uid_random', 'a 4-byte UID starting with 08 is a random ID and cannot identify a card');
  }
  return hex as Uid;
}

/** Masks a UID for display where the whole value is not needed: `04A2…6180`. */
export function maskUid(uid: string): string {
  return uid.length <= 8 ? uid : `${uid.slice(0, 4)}…${uid.slice(-4)}`;
}
