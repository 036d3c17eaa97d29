import { parseArgs } from 'node:util';
import { z } from 'zod';
import { CardauthError, isCardauthError } from '../errors';
import { normaliseUid, type Uid } from '../contract/uid';
import { normaliseLogin, ROLES, type Role } from '../store/accounts';
import { isAgentId } from '../store/agents';
import { REVOKE_REASONS, type RevokeReason } from '../store/cards';
import { printable } from '../store/script';
import { timeParam } from '../audit/query-params';

/**
 * Argument parsing for the CLI: `node:util` parseArgs splits the words, zod
 * checks the values. Every mistake is a {@link UsageError} whose message
 * names the command and the argument, printed as one line and exit code 2.
 */

/**
 * A bad command line: unknown command or option, a missing or malformed
 * value. The message names the argument; main prints it as
 * `cardauth: <message>` and exits 2.
 *
 * @example
 * throw new UsageError('card bind: --uid: required');
 */
export class UsageError extends CardauthError {
  constructor(message: string) {
    super('usage', message);
    this.name = 'UsageError';
  }
}

/** One option as parseArgs declares it. */
export interface OptionSpec {
  type: 'string' | 'boolean';
  multiple?: boolean;
  short?: string;
}
export type OptionSpecs = Readonly<Record<string, OptionSpec>>;

/** Options every command accepts, before or after its name. */
export const GLOBAL_OPTIONS = {
  config: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const satisfies OptionSpecs;

/** What parseArgs found, before the values are checked. */
export interface RawArgs {
  values: Record<string, string | boolean | string[] | boolean[] | undefined>;
  positionals: string[];
}

const quoted = (message: string) => /'([^']*)'/.exec(message)?.[1] ?? '';

/**
 * Splits a command's words with parseArgs (strict: unknown options, a
 * missing value or extra words are refused) and answers one-line usage
 * errors instead of parseArgs' own messages. An option given twice is
 * refused too (parseArgs would keep the last value: `--login a --login b`
 * would act on b), unless its spec says `multiple`; `--help` may repeat.
 *
 * @example
 * parseCommandArgs('card list', ['--login', 'ivanova', '--json'], { login: { type: 'string' }, json: { type: 'boolean' } }, 0);
 * // => { values: { login: 'ivanova', json: true }, positionals: [] }
 */
export function parseCommandArgs(command: string, argv: readonly string[], options: OptionSpecs, maxPositionals: number): RawArgs {
  const all: OptionSpecs = { ...GLOBAL_OPTIONS, ...options };
  let parsed: RawArgs & { tokens: NonNullable<ReturnType<typeof parseArgs>['tokens']> };
  try {
    parsed = parseArgs({ args: [...argv], options: all, strict: true, allowPositionals: true, tokens: true }) as typeof parsed;
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    const message = err instanceof Error ? err.message : String(err);
    if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') throw new UsageError(`${command}: unknown option ${quoted(message)}`);
    if (code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') {
      const flag = /'(-{1,2}[^' <]+)/.exec(message)?.[1] ?? '';
      const spec = all[flag.replace(/^-+/, '')] ?? Object.values(all).find((s) => s.short === flag.replace(/^-/, ''));
      if (spec?.type === 'boolean') throw new UsageError(`${command}: ${flag} takes no value`);
      const hint = message.includes('ambiguous') ? ` (for a value starting with "-", write ${flag}=VALUE)` : '';
      throw new UsageError(`${command}: ${flag} needs a value${hint}`);
    }
    throw new UsageError(`${command}: ${message.split('\n')[0]}`);
  }
  const seen = new Set<string>();
  for (const t of parsed.tokens) {
    if (t.kind !== 'option' || t.name === 'help' || all[t.name]?.multiple) continue;
    if (seen.has(t.name)) throw new UsageError(`${command}: --${t.name} given twice (give it once)`);
    seen.add(t.name);
  }
  if (parsed.positionals.length > maxPositionals) {
    throw new UsageError(`${command}: unexpected argument "${parsed.positionals[maxPositionals]}"`);
  }
  return { values: parsed.values, positionals: parsed.positionals };
}

/**
 * Checks parsed option values with a zod object schema whose keys are the
 * option names. The first problem becomes a UsageError naming `--option`.
 *
 * @example
 * const args = checkValues('card list', z.object({ login: loginArg, json: flag }), raw.values);
 */
export function checkValues<S extends z.ZodType>(command: string, schema: S, values: RawArgs['values']): z.output<S> {
  const r = schema.safeParse(values);
  if (r.success) return r.data;
  const issue = r.error.issues[0];
  const name = issue?.path[0];
  const where = typeof name === 'string' ? `--${name}: ` : '';
  throw new UsageError(`${command}: ${where}${issue?.message ?? 'invalid'}`);
}

/** `required` for a missing value, otherwise zod's own message. */
const required = (iss: { input: unknown }) => (iss.input === undefined ? 'required' : undefined);

/** Runs a checker from the stores; its CardauthError becomes a zod issue (`code: message`). */
function via<T>(check: (v: string) => T, withCode: boolean) {
  return (v: string, ctx: z.RefinementCtx): T => {
    try {
      return check(v);
    } catch (err) {
      if (!isCardauthError(err)) throw err;
      ctx.addIssue({ code: 'custom', message: withCode ? `${err.code}: ${err.message}` : err.message });
      return z.NEVER;
    }
  };
}

/** A string option that must be given: `required` when it is missing, zod's own message otherwise. */
export const requiredString = () => z.string({ error: required });

/** A boolean switch such as `--json`. */
export const flag = z.boolean().default(false);

/** A login as the account store accepts it (checked, not normalised: the store keeps it as entered). */
export const loginArg = z.string({ error: required }).transform(
  via((v) => {
    normaliseLogin(v);
    return v.trim();
  }, false),
);

/** Short printable text such as a display name or label. */
export const textArg = (field: string, max: number, opts: { allowEmpty?: boolean } = {}) =>
  z.string({ error: required }).transform(via((v) => printable(v, field, max, opts), false));

/** A card UID in hex; bad ones are refused with their uid_* code. */
export const uidArg = z.string({ error: required }).transform(via((v): Uid => normaliseUid(v), true));

/** One or more roles; `--role a --role b` or `--role a,b`. */
export const rolesArg = z
  .array(z.string(), { error: required })
  .transform((list) => list.flatMap((r) => r.split(',')).map((r) => r.trim()).filter(Boolean))
  .pipe(
    z
      .array(z.enum(ROLES as [Role, ...Role[]], { error: (iss) => `"${String(iss.input)}" is not a role (one of ${ROLES.join(', ')})` }))
      .min(1, 'required'),
  );

/** A date (UTC midnight) or a date and time with its offset (`audit list --since`, `card bind --expires`); answers ms since epoch. */
export const timeArg = timeParam;

/** A card revoke reason. */
export const revokeReasonArg = z.enum(REVOKE_REASONS as [RevokeReason, ...RevokeReason[]], {
  error: (iss) => (iss.input === undefined ? 'required' : `"${String(iss.input)}" is not a reason (one of ${REVOKE_REASONS.join(', ')})`),
});

/**
 * The single agent id positional of `agent approve ID` / `agent revoke ID`.
 *
 * @example
 * agentIdPositional('agent approve', ['ag_0123456789abcdef']) // => 'ag_0123456789abcdef'
 */
export function agentIdPositional(command: string, positionals: readonly string[]): string {
  const id = positionals[0];
  if (id === undefined) throw new UsageError(`${command}: ID: required (the id printed by agent register, ag_…)`);
  if (!isAgentId(id)) throw new UsageError(`${command}: ID: "${String(id).slice(0, 40)}" is not an agent id (ag_ and 16 hex digits)`);
  return id;
}
