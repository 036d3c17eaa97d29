import { printList, table, terminalSafeJson } from '../../src/cli/output';

describe('CLI output', () => {
  it('a table shows a stored value that is not text as JSON instead of failing, and control characters as ?', () => {
    const rows = [{ login: 42 as unknown as string }, { login: { a: 1 } as unknown as string }, { login: 'a\u009bb' }, { login: undefined }];
    expect(table(rows, [{ heading: 'LOGIN', cell: (r) => r.login }])).toBe('LOGIN\n42\n{"a":1}\na?b\n-\n');
  });

  it('--json output escapes what could drive a terminal or reorder text, and still parses to the same data', () => {
    const data = ['user agent \u202egnp.exe', 'csi \u009b31m', 'private \u{F0000}', 'Иванова Анна'];
    const json = terminalSafeJson(data);
    expect(json).not.toMatch(/[\u202e\u009b]|[\u{F0000}]/u);
    expect(json).toContain('\\u202e');
    expect(json).toContain('\\udb80\\udc00');
    expect(json).toContain('Иванова Анна');
    expect(JSON.parse(json)).toEqual(data);

    let written = '';
    printList({ write: (s: string) => (written += s) }, data, [], { json: true, empty: '' });
    expect(written).toBe(`${json}\n`);
  });
});
