import { systemClock, type Clock } from '../clock';
import { loadServerConfigSubset } from '../config';
import { CardauthError } from '../errors';
import { accountCommands } from './account';
import { accountBlockInactive } from './account-inactive';
import { agentCommands } from './agent';
import { agentEnroll, agentRun } from './agent-run';
import { parseCommandArgs, UsageError } from './args';
import { auditCommands } from './audit';
import { cardCommands } from './card';
import { cardPendingCommands } from './card-pending';
import { ipCommands } from './ip';
import { clientCommands } from './client';
import { skudCommands } from './skud';
import { requireAuditTrail } from '../admin/record-change';
import { commandName, osActor, type CliIo, type Command, type CommandContext } from './command';
import { configCommands } from './config';
import { oidcCommands } from './oidc';
import { policyCommands } from './policy';
import { explain } from '../logger';
import { serve } from './serve';
import { sessionCommands } from './session';

/**
 * The `cardauth` command line. Exit codes:
 * - 0: done;
 * - 1: refused or failed (a domain error such as `login_taken`, Redis
 *   unreachable, an audit record that could not be written, a broken chain);
 * - 2: bad usage or bad configuration (the line names the argument or key);
 * - 70: a bug (an unexpected error), still one line, never a stack trace.
 */

/** Every command, in help order. */
export const COMMANDS: readonly Command[] = [
  ...accountCommands,
  accountBlockInactive,
  ...cardCommands,
  ...cardPendingCommands,
  ...sessionCommands,
  ...agentCommands,
  agentEnroll,
  agentRun,
  ...auditCommands,
  ...clientCommands,
  ...skudCommands,
  ...oidcCommands,
  ...policyCommands,
  ...ipCommands,
  serve,
  ...configCommands,
];

const EXIT_OK = 0;
const EXIT_FAILED = 1;
const EXIT_USAGE = 2;
const EXIT_SOFTWARE = 70;

/** The real process. */
export const processIo: CliIo = {
  stdout: process.stdout,
  stderr: process.stderr,
  // A getter: touching process.stdin opens it, which only `account create` needs.
  get stdin() {
    return process.stdin;
  },
  env: process.env,
  stopSignal() {
    let cancel = () => {};
    const signal = new Promise<string>((resolve) => {
      const on = (sig: NodeJS.Signals) => {
        cancel(); // a second signal gets the default action: the process ends at once
        resolve(sig);
      };
      process.on('SIGTERM', on);
      process.on('SIGINT', on);
      cancel = () => {
        process.off('SIGTERM', on);
        process.off('SIGINT', on);
      };
    });
    return { signal, cancel: () => cancel() };
  },
};

function usageLine(c: Command): string {
  return `cardauth ${commandName(c)}${c.usage ? ` ${c.usage}` : ''}`;
}

function topHelp(commands: readonly Command[]): string {
  return [
    'cardauth: card + password login for the clinic MIS, and its administration',
    '',
    'Usage:',
    ...commands.map((c) => `  ${usageLine(c)}`),
    '',
    'Options for every command:',
    '  --config FILE   JSON config file (keys as the environment variables; the environment wins)',
    '  --help, -h      help for cardauth, a command group, or one command',
    '',
    'Changes are audited with actor os:<your user name>, and refused (nothing changed) while the audit trail is unusable.',
    'Exit codes: 0 done, 1 refused or failed, 2 bad usage or configuration.',
    '',
  ].join('\n');
}

function groupHelp(group: string, all: readonly Command[]): string {
  const commands = all.filter((c) => c.path[0] === group);
  return [`Usage:`, ...commands.map((c) => `  ${usageLine(c)}\n      ${c.summary}`), '', `cardauth ${group} COMMAND --help shows one command.`, ''].join('\n');
}

function commandHelp(c: Command): string {
  return [`Usage: ${usageLine(c)}`, '', c.summary, ...(c.details ? ['', c.details] : []), ''].join('\n');
}

/** Leading global options, before the command words. */
function leadingOptions(argv: readonly string[]): { rest: string[]; help: boolean; config: string | undefined } {
  let help = false;
  let config: string | undefined;
  let i = 0;
  for (; i < argv.length; i++) {
    const a = argv[i] as string;
    if (a === '--help' || a === '-h') help = true;
    else if ((a === '--config' || a.startsWith('--config=')) && config !== undefined) throw new UsageError('--config given twice (give it once)');
    else if (a === '--config') {
      config = argv[++i];
      if (config === undefined || config.startsWith('-')) throw new UsageError('--config needs a value (a JSON file)');
    } else if (a.startsWith('--config=')) {
      config = a.slice('--config='.length);
      if (config === '') throw new UsageError('--config needs a value (a JSON file)');
    } else if (a.startsWith('-')) throw new UsageError(`unknown option ${a.split('=')[0]} before the command (see cardauth --help)`);
    else break;
  }
  return { rest: argv.slice(i), help, config };
}

type Resolved = { help: string } | { command: Command; argv: string[]; config: string | undefined };

function resolve(argv: readonly string[], commands: readonly Command[]): Resolved {
  const lead = leadingOptions(argv);
  const [group, sub, ...more] = lead.rest;
  if (group === undefined) {
    if (lead.help) return { help: topHelp(commands) };
    throw new UsageError('missing command (see cardauth --help)');
  }
  if (!commands.some((c) => c.path[0] === group)) throw new UsageError(`unknown command "${group}" (see cardauth --help)`);
  const single = commands.find((c) => c.path.length === 1 && c.path[0] === group);
  if (single) return { command: single, argv: lead.help ? ['--help', ...lead.rest.slice(1)] : lead.rest.slice(1), config: lead.config };
  const wantsHelp = lead.help || more.includes('--help') || more.includes('-h');
  if (sub === undefined || sub.startsWith('-')) {
    if (wantsHelp || sub === '--help' || sub === '-h') return { help: groupHelp(group, commands) };
    const names = commands.filter((c) => c.path[0] === group).map((c) => c.path.slice(1).join(' '));
    throw new UsageError(`${group}: missing command, one of ${names.join(', ')} (see cardauth ${group} --help)`);
  }
  // A three-word command (`oidc keys init`) takes its third word too.
  const command = commands.find((c) => c.path[0] === group && c.path[1] === sub && (c.path.length === 2 || c.path[2] === more[0]));
  if (!command) throw new UsageError(`${group}: unknown command "${[sub, ...more.slice(0, 1)].join(' ')}" (see cardauth ${group} --help)`);
  const args = more.slice(command.path.length - 2);
  return { command, argv: lead.help ? ['--help', ...args] : args, config: lead.config };
}

/** The lines for an error, with its exit code: one line, or one per bad key of a config. */
function describe(err: unknown): { lines: string[]; code: number } {
  const first = (text: string) => text.split('\n')[0] ?? '';
  // A usage error, the command line's own (UsageError) or one a use case finds (e.g. another run holds a lock): exit 2.
  if (err instanceof CardauthError && err.code === 'usage') return { lines: [first(err.message)], code: EXIT_USAGE };
  if (err instanceof CardauthError) {
    if (err.code === 'config_invalid') return { lines: err.message.split('\n').map((l) => `${err.code}: ${l}`), code: EXIT_USAGE };
    // Infrastructure errors say why (the Redis error); domain errors are their message alone.
    return { lines: [`${err.code}: ${first(err.status >= 500 ? explain(err) : err.message)}`], code: EXIT_FAILED };
  }
  return { lines: [`internal error: ${first(explain(err))}`], code: EXIT_SOFTWARE };
}

/**
 * Runs one `cardauth` command line and resolves to the process exit code.
 * Results go to stdout; a problem is one `cardauth: …` line on stderr (a bad config: one per bad key). It
 * never throws and always closes what it opened (its Redis connection), so
 * the process exits promptly; `serve` resolves when the server has stopped.
 * `commands` defaults to every `cardauth` command (the dev tools, dev/cli.ts,
 * pass their own).
 *
 * @example
 * // bin/cardauth.js
 * require('../dist/cli/main.js').main(process.argv.slice(2)).then((code) => { process.exitCode = code; });
 */
export async function main(argv: string[], io: CliIo = processIo, clock: Clock = systemClock, commands: readonly Command[] = COMMANDS): Promise<number> {
  try {
    const resolved = resolve(argv, commands);
    if ('help' in resolved) {
      io.stdout.write(resolved.help);
      return EXIT_OK;
    }
    const { command } = resolved;
    const name = commandName(command);
    const raw = parseCommandArgs(name, resolved.argv, command.options, command.positionals ?? 0);
    if (raw.values.help === true) {
      io.stdout.write(commandHelp(command));
      return EXIT_OK;
    }
    if (raw.values.config === '') throw new UsageError(`${name}: --config needs a value (a JSON file)`);
    if (typeof raw.values.config === 'string' && resolved.config !== undefined) throw new UsageError(`${name}: --config given twice (give it once)`);
    const configFile = typeof raw.values.config === 'string' ? raw.values.config : resolved.config;
    const ctx: CommandContext = {
      io,
      clock,
      configFile,
      actor: osActor(),
      async withServices(fn) {
        // Loaded on use: `agent run` on a workstation never needs Redis, argon2 or the stores.
        const { connectCliRedis } = require('./redis') as typeof import('./redis');
        const { createCliServices, CLI_KEYS } = require('./services') as typeof import('./services');
        const config = loadServerConfigSubset(CLI_KEYS, io.env, configFile);
        const redis = await connectCliRedis(config.REDIS_URL);
        try {
          return await fn(createCliServices({ redis, config, clock }));
        } finally {
          redis.disconnect();
        }
      },
      withChanges(fn) {
        return ctx.withServices(async (services) => {
          await requireAuditTrail(services.audit);
          return fn(services);
        });
      },
    };
    return await command.run(ctx, raw);
  } catch (err) {
    const { lines, code } = describe(err);
    io.stderr.write(lines.map((l) => `cardauth: ${l}\n`).join(''));
    return code;
  }
}
