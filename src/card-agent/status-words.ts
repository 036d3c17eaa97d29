import { CardauthError } from '../errors';

/**
 * What the agent does with each status word (SW1 SW2, the last two bytes of a
 * response APDU) to GET DATA `FF CA 00 00 Le` (PC/SC part 3 §3.2.2.1.3).
 * One explicit table, so a reader's odd answer maps to its own typed error
 * instead of collapsing into one "read failed".
 */

/** Error codes a card read can end in, before UID normalisation. */
export type StatusWordErrorCode =
  | 'card_end_of_data'
  | 'card_operation_failed'
  | 'card_function_unsupported'
  | 'card_class_unsupported'
  | 'card_status_unknown';

/** What to do with a response, decided from its status word alone. */
export type StatusWordVerdict =
  /** 90 00: the data field is the answer. */
  | { readonly action: 'ok' }
  /** 6C XX: ask again with Le = XX (the reader code retries once). */
  | { readonly action: 'retry'; readonly le: number }
  /** Anything else: a typed failure. */
  | { readonly action: 'fail'; readonly code: StatusWordErrorCode; readonly meaning: string };

interface StatusWordRule {
  /** First byte. */
  readonly sw1: number;
  /** Second byte, or `'any'` when SW2 is a parameter (6C XX). */
  readonly sw2: number | 'any';
  readonly meaning: string;
  readonly verdict: 'ok' | 'retry' | StatusWordErrorCode;
}

/**
 * The table. Order does not matter: every (sw1, sw2) matches at most one row.
 *
 * | SW    | meaning                              | verdict                     |
 * |-------|--------------------------------------|-----------------------------|
 * | 90 00 | OK                                   | ok                          |
 * | 6C XX | wrong length; XX is the right Le     | retry with Le = XX          |
 * | 62 82 | end of data reached before Le        | `card_end_of_data`          |
 * | 63 00 | operation failed                     | `card_operation_failed`     |
 * | 6A 81 | function not supported               | `card_function_unsupported` |
 * | 6E 00 | class not supported (some readers)   | `card_class_unsupported`    |
 * | other | —                                    | `card_status_unknown`       |
 */
export const STATUS_WORDS: readonly StatusWordRule[] = Object.freeze([
  { sw1: 0x90, sw2: 0x00, meaning: 'OK', verdict: 'ok' },
  { sw1: 0x6c, sw2: 'any', meaning: 'wrong length; SW2 is the right Le', verdict: 'retry' },
  { sw1: 0x62, sw2: 0x82, meaning: 'end of data reached before Le bytes', verdict: 'card_end_of_data' },
  { sw1: 0x63, sw2: 0x00, meaning: 'operation failed', verdict: 'card_operation_failed' },
  { sw1: 0x6a, sw2: 0x81, meaning: 'function not supported', verdict: 'card_function_unsupported' },
  { sw1: 0x6e, sw2: 0x00, meaning: 'class not supported', verdict: 'card_class_unsupported' },
] satisfies StatusWordRule[]);

/** `'6A 81'`: a status word as the spec writes it, for messages and logs. */
export function swHex(sw1: number, sw2: number): string {
  const h = (b: number) => b.toString(16).toUpperCase().padStart(2, '0');
  return `${h(sw1)} ${h(sw2)}`;
}

/**
 * Looks a status word up in {@link STATUS_WORDS}.
 *
 * `6C 00` is not a retry (Le = 00 already means "everything"): it maps to
 * `card_status_unknown`, so a confused reader cannot make us loop.
 *
 * @example
 * interpretStatusWord(0x90, 0x00) // => { action: 'ok' }
 * interpretStatusWord(0x6c, 0x07) // => { action: 'retry', le: 7 }
 * interpretStatusWord(0x6a, 0x81) // => { action: 'fail', code: 'card_function_unsupported', meaning: 'function not supported' }
 */
export function interpretStatusWord(sw1: number, sw2: number): StatusWordVerdict {
  const rule = STATUS_WORDS.find((r) => r.sw1 === sw1 && (r.sw2 === 'any' || r.sw2 === sw2));
  if (!rule) return { action: 'fail', code: 'card_status_unknown', meaning: `unknown status word ${swHex(sw1, sw2)}` };
  if (rule.verdict === 'ok') return { action: 'ok' };
  if (rule.verdict === 'retry') {
    if (sw2 === 0) return { action: 'fail', code: 'card_status_unknown', meaning: `status word ${swHex(sw1, sw2)} asks for Le = 00 again` };
    return { action: 'retry', le: sw2 };
  }
  return { action: 'fail', code: rule.verdict, meaning: rule.meaning };
}

/**
 * The typed error for a failing status word; the message carries the SW in hex.
 *
 * @example
 * statusWordError(0x63, 0x00).code // => 'card_operation_failed'
 */
export function statusWordError(sw1: number, sw2: number): CardauthError {
  const v = interpretStatusWord(sw1, sw2);
  if (v.action !== 'fail') throw new TypeError(`status word ${swHex(sw1, sw2)} is not a failure`);
  return new CardauthError(v.code, `GET DATA answered ${swHex(sw1, sw2)}: ${v.meaning}`);
}
