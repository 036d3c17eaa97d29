import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { auditEventsTable } from '../../src/audit/events';
import { configTable } from '../../src/config';

const readme = readFileSync(join(__dirname, '..', '..', 'README.md'), 'utf8');
const between = (start: string, end: string) => {
  const a = readme.indexOf(start);
  const b = readme.indexOf(end);
  expect(a).toBeGreaterThan(-1);
  expect(b).toBeGreaterThan(a);
  return readme.slice(readme.indexOf('\n', a) + 1, b).trim();
};

describe('README', () => {
  it('opens with exactly two commands: the demo and the test suite', () => {
    const first = /```sh\n([\s\S]*?)```/.exec(readme)!;
    expect(readme.indexOf(first[0])).toBeLessThan(readme.indexOf('\n\n', readme.indexOf('# cardauth')) + 3);
    const commands = first[1]!.trim().split('\n');
    expect(commands).toHaveLength(2);
    expect(commands[0]).toMatch(/^bash scripts\/demo\.sh\s/);
    expect(commands[1]).toMatch(/^bash scripts\/test\.sh\s/);
  });

  it('has the table of every config key with its default, equal to the code', () => {
    expect(between('<!-- config-table:start', '<!-- config-table:end')).toBe(configTable());
  });

  it('has the table of audit events, equal to the code', () => {
    expect(between('<!-- audit-table:start', '<!-- audit-table:end')).toBe(auditEventsTable());
  });

  it('.ci/run calls the README test command', () => {
    expect(readFileSync(join(__dirname, '..', '..', '.ci', 'run'), 'utf8')).toContain('scripts/test.sh');
  });
});
