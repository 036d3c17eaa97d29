import { csvCell, exportHeader, exportLine } from '../../src/audit/export-format';
import type { AuditEntry } from '../../src/audit/query';
import { canonicalJson, GENESIS_PREV, parseAuditInput, sealRecord, sha256Hex } from '../../src/audit/record';

const entry: AuditEntry = {
  id: '1764057600000-0',
  intact: true,
  record: {
    v: 1,
    seq: 7,
    ts: '2026-11-25T08:00:00.000Z',
    prev: '0'.repeat(64),
    hash: 'a'.repeat(64),
    type: 'password.checked',
    outcome: 'failure',
    reason: 'wrong_password',
    subject: { login: '=HYPERLINK("http://evil","Иванова")' },
    source: { ip: '10.0.0.7', userAgent: 'Mozilla/5.0, "quoted"', workstation: 'РМ-101' },
    cardUid: '04A22BB25C6180',
    details: { failures: 2 },
  },
};

describe('audit export formats', () => {
  it('CSV: a BOM and a header, then one CRLF row per record with every column in order, ; between cells', () => {
    const header = exportHeader('csv');
    expect(header.startsWith('\ufeffИдентификатор записи;Номер;Время (UTC);Событие;Итог;Причина;')).toBe(true);
    expect(header.endsWith(';Запись цела;Хеш записи\r\n')).toBe(true);
    const row = exportLine('csv', entry);
    expect(row).toBe(
      '1764057600000-0;7;2026-11-25T08:00:00.000Z;password.checked;failure;wrong_password;;' +
        `"'=HYPERLINK(""http://evil"",""Иванова"")";;04A22BB25C6180;;РМ-101;;10.0.0.7;"Mozilla/5.0, ""quoted""";;"{""failures"":2}";true;${'a'.repeat(64)}\r\n`,
    );
    expect(header.split(';')).toHaveLength(row.split(/;(?=(?:[^"]*"[^"]*")*[^"]*$)/).length);
  });

  it('CSV cells: formula starts are defused; a cell holding either separator is quoted, so no program splits it into a formula', () => {
    for (const s of ['+7 999', '-1', '@SUM(A1)', '\tx', '\rx']) expect(csvCell(s).replace(/^"/, '').startsWith("'")).toBe(true);
    expect(csvCell("x;=cmd|' /C calc'!A0;")).toBe(`"x;=cmd|' /C calc'!A0;"`);
    expect(csvCell('x,=1')).toBe('"x,=1"');
    expect(csvCell('a\nb')).toBe('"a\nb"');
    expect(csvCell('ivanova')).toBe('ivanova');
    expect(csvCell(undefined)).toBe('');
    expect(csvCell(12)).toBe('12');
  });

  it('JSON lines: the record exactly as stored, with its id and intact flag', () => {
    expect(exportHeader('jsonl')).toBe('');
    const line = exportLine('jsonl', entry);
    expect(line.endsWith('\n')).toBe(true);
    expect(JSON.parse(line)).toEqual({ id: entry.id, intact: true, record: entry.record });
  });
});

describe('audit export formats: invisible and bidi characters', () => {
  // A look-alike of ivanova, as a no_card_step failure records a claimed login: typed, only controls replaced.
  const planted = 'iva\u200bnova\u202e\u2066\u2067\u2068\u2069\ufeff\u{E0041}';
  const INVISIBLE = /[\p{Cf}\u2066-\u2069\ufeff]/u;
  const record = sealRecord(
    parseAuditInput({ type: 'password.checked', outcome: 'failure', reason: 'no_card_step', subject: { login: planted }, source: { userAgent: '=1\u202e', ip: '10.0.0.7' } }),
    { seq: 1, prev: GENESIS_PREV, ts: '2026-11-25T08:00:00.000Z' },
  );
  const planting: AuditEntry = { id: '1764057600000-0', intact: true, record };

  it('the record really holds them raw (control)', () => {
    expect(record.subject?.login).toBe(planted);
    expect(canonicalJson(record)).toMatch(INVISIBLE);
  });

  it('JSON lines: written as \\u escapes; the record parses back as stored and its hash checks out from the file', () => {
    const line = exportLine('jsonl', planting);
    expect(line).not.toMatch(INVISIBLE);
    expect(line).toContain('"login":"iva\\u200bnova\\u202e\\u2066\\u2067\\u2068\\u2069\\ufeff\\udb40\\udc41"');
    const parsed = JSON.parse(line) as { record: typeof record };
    expect(parsed.record).toEqual(record);
    const { hash, ...body } = parsed.record;
    expect(sha256Hex(canonicalJson(body))).toBe(hash);
  });

  it('CSV: written as \\u escapes, the BOM kept at the start, cells still split by ; and formulas still defused', () => {
    const text = exportHeader('csv') + exportLine('csv', planting);
    expect(text.startsWith('\ufeffИдентификатор записи;')).toBe(true);
    expect(text.slice(1)).not.toMatch(INVISIBLE);
    expect(text).toContain(';iva\\u200bnova\\u202e\\u2066\\u2067\\u2068\\u2069\\ufeff\\udb40\\udc41;');
    expect(text).toContain(";'=1\\u202e;");
    expect(csvCell('\u202e=cmd')).toBe('\\u202e=cmd');
    expect(csvCell('=\u200b1')).toBe("'=\\u200b1");
  });

  it('the look-alikes outside \\p{C} too: default-ignorables, Hangul fillers, blank Braille, spaces other than U+0020', () => {
    for (const c of ['\u034f', '\ufe0f', '\u115f', '\u3164', '\u2800', '\u00a0', '\u2007', '\u3000']) {
      const cell = csvCell(`ivanova${c}`);
      expect(cell).toBe(`ivanova\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
    }
    expect(csvCell('Д-р Иванова\tА. В.')).toBe('"Д-р Иванова\tА. В."'); // a plain space, Cyrillic and a TAB stay as they are
  });

  it('CSV: a login that holds the six characters \\u200b as typed reads otherwise than one holding U+200B', () => {
    const login = (l: string) => sealRecord(parseAuditInput({ type: 'password.checked', outcome: 'failure', reason: 'no_card_step', subject: { login: l } }), { seq: 1, prev: GENESIS_PREV, ts: '2026-11-25T08:00:00.000Z' });
    const cellOf = (l: string) => exportLine('csv', { id: '1-0', intact: true, record: login(l) }).split(';')[7];
    expect(cellOf('admin\u200b')).toBe('admin\\u200b');
    expect(cellOf('admin\\u200b')).toBe('admin\\\\u200b');
    expect(cellOf('admin\u200b')).not.toBe(cellOf('admin\\u200b'));
    // A backslash elsewhere stays single (a Windows user DOMAIN\user reads as it is).
    expect(csvCell('CLINIC\\ivanova')).toBe('CLINIC\\ivanova');
    // Every cell reads back to exactly its text: \\ is a backslash, \uXXXX a code unit, any other backslash itself.
    const read = (cell: string) => cell.replace(/\\\\|\\u([0-9a-f]{4})/g, (_m, hex?: string) => (hex ? String.fromCharCode(parseInt(hex, 16)) : '\\'));
    for (const text of ['admin\u200b', 'admin\\u200b', 'admin\\\u200b', 'a\\\\u200b', '\\', 'a\\', 'a\\\\', 'C:\\dir\\u', 'x\\u20', 'x\\U200B', '\\\u202e', 'a\\\\\u200bb']) {
      expect(read(csvCell(text))).toBe(text);
    }
    // JSON cells (details) already double their backslashes: unchanged.
    expect(csvCell({ note: 'a\\u200b' })).toBe('"{""note"":""a\\\\u200b""}"');
  });
});
