import { interpretStatusWord, statusWordError, STATUS_WORDS, swHex } from '../../src/card-agent/status-words';

describe('status-words table', () => {
  it('90 00 is ok', () => {
    expect(interpretStatusWord(0x90, 0x00)).toEqual({ action: 'ok' });
  });

  it('6C XX asks for a retry with Le = XX', () => {
    expect(interpretStatusWord(0x6c, 0x07)).toEqual({ action: 'retry', le: 7 });
    expect(interpretStatusWord(0x6c, 0x04)).toEqual({ action: 'retry', le: 4 });
    expect(interpretStatusWord(0x6c, 0xff)).toEqual({ action: 'retry', le: 255 });
  });

  it('6C 00 is not a retry (Le = 00 already means everything)', () => {
    expect(interpretStatusWord(0x6c, 0x00)).toMatchObject({ action: 'fail', code: 'card_status_unknown' });
  });

  it.each([
    [0x62, 0x82, 'card_end_of_data'],
    [0x63, 0x00, 'card_operation_failed'],
    [0x6a, 0x81, 'card_function_unsupported'],
    [0x6e, 0x00, 'card_class_unsupported'],
  ] as const)('%s %s maps to %s', (sw1, sw2, code) => {
    expect(interpretStatusWord(sw1, sw2)).toMatchObject({ action: 'fail', code });
    const err = statusWordError(sw1, sw2);
    expect(err.code).toBe(code);
    expect(err.message).toContain(swHex(sw1, sw2));
  });

  it.each([
    [0x6f, 0x00],
    [0x90, 0x01],
    [0x62, 0x83],
    [0x6a, 0x82],
    [0x6d, 0x00],
    [0x00, 0x00],
  ])('anything else (%s %s) is card_status_unknown with the SW in the message', (sw1, sw2) => {
    expect(interpretStatusWord(sw1, sw2)).toMatchObject({ action: 'fail', code: 'card_status_unknown' });
    expect(statusWordError(sw1, sw2).message).toContain(swHex(sw1, sw2));
  });

  it('statusWordError refuses a status word that is not a failure (caller misuse)', () => {
    expect(() => statusWordError(0x90, 0x00)).toThrow(TypeError);
    expect(() => statusWordError(0x6c, 0x07)).toThrow(TypeError);
  });

  it('the table has no overlapping rows and is frozen', () => {
    const keys = STATUS_WORDS.map((r) => `${r.sw1}:${r.sw2}`);
    expect(new Set(keys).size).toBe(keys.length);
    expect(Object.isFrozen(STATUS_WORDS)).toBe(true);
  });

  it('formats status words the way the spec writes them', () => {
    expect(swHex(0x6a, 0x81)).toBe('6A 81');
    expect(swHex(0x90, 0x00)).toBe('90 00');
  });
});
