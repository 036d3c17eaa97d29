import { hostname, userInfo } from 'node:os';
import { appendAs, recordChange, type ChangedBy, type ChangeRecord } from '../admin/record-change';
import type { Clock } from '../clock';
import type { Env } from '../config';
import { CardauthError } from '../errors';
import { explain } from '../logger';
import type { OptionSpecs, RawArgs } from './args';
import type { In } from './input';
import type { Out } from './output';
import type { CliServices } from './services';

/** The process around the CLI, injected so main never reaches for globals. */
export interface CliIo {
  stdout: Out;
  stderr: Out;
  stdin: In;
  env: Env;
  /** Resolves with the first SIGTERM or SIGINT (used by `serve`). */
  stopSignal(): { signal: Promise<string>; cancel(): void };
}

/** What a command runs with. */
export interface CommandContext {
  io: CliIo;
  clock: Clock;
  /** `--config FILE`, when given. */
  configFile: string | undefined;
  /** Who is acting, for the audit: `os:<username>`. */
  actor: string;
  /** Loads the CLI config, connects to Redis, runs `fn`, and always disconnects. */
  withServices<T>(fn: (services: CliServices) => Promise<T>): Promise<T>;
  /**
   * {@link CommandContext.withServices} for a command that changes something:
   * runs `fn` only once requireAuditTrail (src/admin) has found the audit trail
   * usable, so that no change is made that could not be audited.
   */
  withChanges<T>(fn: (services: CliServices) => Promise<T>): Promise<T>;
}

/** One CLI command, e.g. `card bind`. */
export interface Command {
  /** The words after `cardauth`, e.g. `['card', 'bind']`. */
  path: readonly string[];
  /** The arguments part of the usage line, e.g. `--login L --uid HEX`. */
  usage: string;
  summary: string;
  /** Longer help: what each argument means. */
  details?: string;
  options: OptionSpecs;
  /** How many positional words it takes. Default 0. */
  positionals?: number;
  /** Runs the command; resolves to the exit code. Throws CardauthError for a refusal. */
  run(ctx: CommandContext, args: RawArgs): Promise<number>;
}

/** The command's name for messages, e.g. `card bind`. */
export const commandName = (c: Pick<Command, 'path'>) => c.path.join(' ');

/**
 * The actor the CLI acts as in the audit and in `boundBy`/`approvedBy`:
 * `os:` and the operating-system user name, or `os:uid:<n>` when the user has
 * no name (a container with an arbitrary uid).
 *
 * @example
 * osActor() // => 'os:ivanova'
 */
export function osActor(): string {
  try {
    const name = userInfo().username;
    if (name && name.length <= 100 && !/\p{C}/u.test(name)) return `os:${name}`;
  } catch {
    // no passwd entry for this uid
  }
  const uid = typeof process.getuid === 'function' ? process.getuid() : undefined;
  return uid === undefined ? 'os:unknown' : `os:uid:${uid}`;
}

/**
 * The command line as the one making a change: the OS user, via `cli` on this host, as the
 * `system` principal (src/admin/permissions.ts): whoever runs it on the server can read its
 * config and reach Redis, so the separation of duties binds the pages, not this.
 */
export const cliActor = (ctx: Pick<CommandContext, 'actor'>): ChangedBy => ({ actor: ctx.actor, via: { via: 'cli', host: hostname() }, principal: 'system' });

/**
 * Records a change the command made (see recordChange in src/admin), inside
 * {@link CommandContext.withChanges}, which checked the trail first.
 *
 * @example
 * await auditChange(ctx, s, { type: 'oidc.client_added', outcome: 'success', details }, `client ${id} was added`);
 */
export function auditChange(ctx: CommandContext, services: Pick<CliServices, 'audit'>, input: ChangeRecord, done: string): Promise<void> {
  return recordChange(services.audit, cliActor(ctx), input, done);
}

/**
 * Records that the audit trail is being read (`audit.viewed`,
 * `audit.exported`), before anything is shown or written: a read that cannot
 * be recorded fails with `audit_unavailable` and shows nothing.
 *
 * @example
 * await auditAccess(ctx, s, { type: 'audit.viewed', outcome: 'success', details: { count } });
 */
export async function auditAccess(ctx: CommandContext, services: Pick<CliServices, 'audit'>, input: ChangeRecord): Promise<void> {
  try {
    await appendAs(services.audit, cliActor(ctx), input);
  } catch (err) {
    throw new CardauthError('audit_unavailable', `nothing was shown or written: this read of the audit trail could not be recorded (${explain(err)})`);
  }
}
