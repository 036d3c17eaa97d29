import { parseCommandArgs, UsageError } from '../../src/cli/args';

const OPTIONS = { login: { type: 'string' }, role: { type: 'string', multiple: true }, json: { type: 'boolean' } } as const;

/** The UsageError parseCommandArgs refuses `argv` with (fails the test if it accepts it). */
function usageError(argv: string[]): UsageError {
  try {
    parseCommandArgs('account create', argv, OPTIONS, 0);
  } catch (e) {
    expect(e).toBeInstanceOf(UsageError);
    return e as UsageError;
  }
  throw new Error('the arguments were accepted');
}

describe('parseCommandArgs: an option given twice', () => {
  it.each<[string[], string]>([
    [['--login', 'ivanova', '--login', 'nobody'], '--login'],
    [['--login=ivanova', '--login=nobody'], '--login'],
    [['--login', 'ivanova', '--json', '--login', 'ivanova'], '--login'],
    [['--json', '--json'], '--json'],
    [['--config', 'a.json', '--config', 'b.json'], '--config'],
  ])('%j is refused naming %s, instead of keeping the last value', (argv, flag) => {
    const err = usageError(argv);
    expect(err.code).toBe('usage');
    expect(err.message).toBe(`account create: ${flag} given twice (give it once)`);
  });

  it('only a repeat is refused: a `multiple` option keeps every value, and --help/-h may repeat', () => {
    expect(usageError(['--role', 'clinician', '--login', 'a', '--role', 'auditor', '--login', 'b']).message).toBe('account create: --login given twice (give it once)');
    expect(parseCommandArgs('account create', ['--role', 'clinician', '--login', 'a', '--role', 'auditor', '-h', '--help'], OPTIONS, 0)).toEqual({
      values: { role: ['clinician', 'auditor'], login: 'a', help: true },
      positionals: [],
    });
  });
});
