import { getUidCommand, MAX_RESPONSE_LENGTH, parseGetUidResponse, parseResponse } from '../../src/card-agent/apdu';
import { isCardauthError } from '../../src/errors';

const hex = (s: string) => Buffer.from(s.replace(/\s/g, ''), 'hex');
const codeOf = (f: () => unknown) => {
  try {
    f();
  } catch (e) {
    return isCardauthError(e) ? e.code : e instanceof TypeError ? 'TypeError' : 'not-typed';
  }
  return 'no-error';
};

describe('GET DATA command builder', () => {
  it('builds FF CA 00 00 00 by default', () => {
    expect(getUidCommand()).toEqual(hex('FF CA 00 00 00'));
  });
  it('puts the given Le last', () => {
    expect(getUidCommand(7)).toEqual(hex('FF CA 00 00 07'));
    expect(getUidCommand(255)).toEqual(hex('FF CA 00 00 FF'));
  });
  it('returns a fresh buffer each time', () => {
    const a = getUidCommand();
    a[0] = 0;
    expect(getUidCommand()[0]).toBe(0xff);
  });
  it('refuses an Le that is not a byte (TypeError: caller misuse)', () => {
    for (const le of [-1, 256, 1.5, Number.NaN]) expect(codeOf(() => getUidCommand(le))).toBe('TypeError');
  });
  it('leaves room for 256 data bytes and the status word', () => {
    expect(MAX_RESPONSE_LENGTH).toBe(258);
  });
});

describe('response parser', () => {
  it('splits data and status word, copying the data', () => {
    const raw = hex('04A22BB2 9000');
    const r = parseResponse(raw);
    expect(r).toEqual({ data: hex('04A22BB2'), sw1: 0x90, sw2: 0x00 });
    raw[0] = 0xff;
    expect(r.data[0]).toBe(0x04);
  });
  it('a status word alone has empty data', () => {
    expect(parseResponse(hex('6A81'))).toEqual({ data: Buffer.alloc(0), sw1: 0x6a, sw2: 0x81 });
  });
  it('shorter than 2 bytes is card_response_malformed', () => {
    expect(codeOf(() => parseResponse(hex('90')))).toBe('card_response_malformed');
    expect(codeOf(() => parseResponse(Buffer.alloc(0)))).toBe('card_response_malformed');
  });
});

describe('GET DATA response', () => {
  it('90 00 gives the UID bytes as the reader sent them', () => {
    expect(parseGetUidResponse(hex('04A22BB25C6180 9000'), 0)).toEqual({ uid: hex('04A22BB25C6180') });
  });
  it('90 00 with exactly the Le asked for is fine', () => {
    expect(parseGetUidResponse(hex('04A22BB25C6180 9000'), 7)).toEqual({ uid: hex('04A22BB25C6180') });
  });
  it('6C XX asks to retry with Le = XX', () => {
    expect(parseGetUidResponse(hex('6C07'), 0)).toEqual({ retryLe: 7 });
  });
  it.each([
    ['6282', 'card_end_of_data'],
    ['04A22BB2 6282', 'card_end_of_data'],
    ['6300', 'card_operation_failed'],
    ['6A81', 'card_function_unsupported'],
    ['6E00', 'card_class_unsupported'],
    ['6F00', 'card_status_unknown'],
    ['90', 'card_response_malformed'],
    ['', 'card_response_malformed'],
    ['9000', 'card_response_malformed'],
  ])('%s is %s', (response, code) => {
    expect(codeOf(() => parseGetUidResponse(hex(response), 0))).toBe(code);
  });
  it('data of another length than the Le asked for is card_response_malformed', () => {
    expect(codeOf(() => parseGetUidResponse(hex('04A22BB2 9000'), 7))).toBe('card_response_malformed');
  });
});
