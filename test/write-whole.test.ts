import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stageWhole, writeWhole } from '../src/write-whole';

describe('writing a file whole', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'cardauth-whole-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('a staged file shows at its path only on commit, whole, with its mode; nothing else is left', () => {
    const path = join(dir, 'export.jsonl');
    const file = stageWhole(path, { mode: 0o600, exclusive: true });
    const line = `${'Ж'.repeat(5000)}\n`;
    for (let i = 0; i < 200; i++) file.write(line);
    expect(readdirSync(dir).filter((n) => !n.endsWith('.tmp'))).toEqual([]);
    expect(file.commit()).toBe(true);
    file.discard();
    expect(readdirSync(dir)).toEqual(['export.jsonl']);
    expect(readFileSync(path, 'utf8')).toBe(line.repeat(200));
    expect(statSync(path).mode & 0o777).toBe(0o600);
  });

  it('exclusive never replaces a file that is there; discard leaves nothing behind', () => {
    const path = join(dir, 'kept.txt');
    writeFileSync(path, 'mine');
    const file = stageWhole(path, { exclusive: true });
    file.write('theirs');
    expect(file.commit()).toBe(false);
    file.discard();
    expect(readFileSync(path, 'utf8')).toBe('mine');
    expect(readdirSync(dir)).toEqual(['kept.txt']);

    const abandoned = stageWhole(join(dir, 'never.txt'));
    abandoned.write('half');
    abandoned.discard();
    abandoned.discard();
    expect(readdirSync(dir)).toEqual(['kept.txt']);
    expect(() => abandoned.write('more')).toThrow(/no longer open/);
  });

  it('writeWhole replaces a file in one step unless exclusive', () => {
    const path = join(dir, 'agent.json');
    expect(writeWhole(path, '{"a":1}')).toBe(true);
    expect(writeWhole(path, '{"a":2}')).toBe(true);
    expect(writeWhole(path, '{"a":3}', { exclusive: true })).toBe(false);
    expect(readFileSync(path, 'utf8')).toBe('{"a":2}');
    expect(readdirSync(dir)).toEqual(['agent.json']);
  });
});
