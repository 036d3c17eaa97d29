import { CARD_CSV_MAX_BYTES, parseCardCsv } from '../../src/admin/card-csv';

const csv = (text: string) => parseCardCsv(Buffer.from(text, 'utf8'));

describe('card import CSV', () => {
  it('reads a header and lines, comma or semicolon, quotes, BOM and CRLF; blank lines skipped', () => {
    expect(csv('login,uid,label\nivanova,04a22bb25c6180,ЕКП\n\npetrov,04:B3:C4:D5:E6:F7:01,\n')).toEqual([
      { line: 2, login: 'ivanova', uid: '04A22BB25C6180', label: 'ЕКП' },
      { line: 4, login: 'petrov', uid: '04B3C4D5E6F701', label: '' },
    ]);
    expect(csv('\ufeffUID;Login;Label\r\n04A22BB25C6180;ivanova;"ЕКП; запасная ""2"""\r\n')).toEqual([{ line: 2, login: 'ivanova', uid: '04A22BB25C6180', label: 'ЕКП; запасная "2"' }]);
    expect(csv('login,uid\nivanova,04A22BB25C6180')).toEqual([{ line: 2, login: 'ivanova', uid: '04A22BB25C6180', label: '' }]);
  });

  it('a bad line is a fate, never a throw: bad_line, bad_login, bad_uid, bad_label, duplicate_in_file', () => {
    const lines = csv(
      [
        'login;uid;label',
        'ivanova;04A22BB25C6180;ЕКП',
        'petrov;04B3C4D5E6F701',
        'a\u200bb;04B3C4D5E6F702;x',
        'petrov;08A1B2C3;x',
        'petrov;zz;x',
        'petrov;04B3C4D5E6F703;' + 'я'.repeat(65),
        'sidorov;04 a2 2b b2 5c 61 80;',
        '"multi\nline";04B3C4D5E6F704;x',
      ].join('\n'),
    );
    expect(lines.map((l) => ('problem' in l ? [l.line, l.problem] : [l.line, 'ok']))).toEqual([
      [2, 'ok'],
      [3, 'bad_line'],
      [4, 'bad_login'],
      [5, 'bad_uid'],
      [6, 'bad_uid'],
      [7, 'bad_label'],
      [8, 'duplicate_in_file'],
      [9, 'bad_login'],
    ]);
    expect(lines[3]).toMatchObject({ detail: expect.stringMatching(/^uid_random: /) });
    expect(lines[6]).toMatchObject({ uid: '04A22BB25C6180', detail: 'line 2 names this card too' });
  });

  it('refuses the whole file (bad_request) without a proper header, not UTF-8, an open quote, or too large', () => {
    for (const bytes of [
      Buffer.from('ivanova,04A22BB25C6180,ЕКП\n'),
      Buffer.from('login,uid,label,extra\n'),
      Buffer.from('login,login,uid\n'),
      Buffer.from(''),
      Buffer.from([0x6c, 0x6f, 0x67, 0x69, 0x6e, 0x3b, 0x75, 0x69, 0x64, 0x0a, 0xcf, 0xe5, 0xf2, 0xf0, 0xee, 0xe2]), // cp1251 «Петров»
      Buffer.from('login,uid\n"ivanova,04A22BB25C6180\n'),
      Buffer.alloc(CARD_CSV_MAX_BYTES + 1, 0x41),
    ]) {
      expect(() => parseCardCsv(bytes)).toThrow(expect.objectContaining({ code: 'bad_request' }));
    }
  });
});
