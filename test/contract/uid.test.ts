import { normaliseUid, maskUid } from '../../src/contract/uid';
import { isCardauthError } from '../../src/errors';

const codeOf = (f: () => unknown) => {
  try {
    f();
  } catch (e) {
    return isCardauthError(e) ? e.code : 'not-typed';
  }
  return 'no-error';
};

describe('normaliseUid', () => {
  it('accepts 4, 7 and 10 byte UIDs and uppercases them', () => {
    expect(normaliseUid('04a22bb2')).toBe('04A22BB2');
    expect(normaliseUid('04:a2:2b:b2:5c:61:80')).toBe('04A22BB25C6180');
    expect(normaliseUid('04 A2 2B B2 5C 61 80 11 22 33')).toBe('04A22BB25C6180112233');
    expect(normaliseUid(Uint8Array.from([0x04, 0xa2, 0x2b, 0xb2]))).toBe('04A22BB2');
  });
  it('refuses a random ID (4 bytes starting 08) with uid_random', () => {
    expect(codeOf(() => normaliseUid('08123456'))).toBe('uid_random');
    // 08 leading a 7-byte UID is an ordinary manufacturer byte
    expect(normaliseUid('08123456789ABC')).toBe('08123456789ABC');
  });
  it('refuses other lengths with uid_length', () => {
    for (const u of ['0412', '0411223344', '04112233445566778899AABB']) expect(codeOf(() => normaliseUid(u))).toBe('uid_length');
  });
  it('refuses non-hex and odd digits with uid_malformed', () => {
    for (const u of ['', 'zz112233', '0411223', '04112233\u0000', 'x'.repeat(100)]) expect(codeOf(() => normaliseUid(u))).toBe('uid_malformed');
  });
  it('masks long UIDs for display', () => {
    expect(maskUid('04A22BB25C6180')).toBe('04A2…6180');
  });
});
