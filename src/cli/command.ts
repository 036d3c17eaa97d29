import { hostname, userInfo } from 'node:os';
import type { AuditLog } from '../audit/log';
import type { AuditEventInput } from '../audit/record';
import type { Clock } from '../clock';
import type { Env } from '../config';
import { CardauthError } from '../errors';
import type { OptionSpecs, RawArgs } from './args';
import type { In } from './input';
import { explain, type Out } from './output';
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
   * runs `fn` only once {@link requireAuditTrail} has found the audit trail
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
 * Fails closed before a change (or an audited read, which passes `nothing`
 * as 'nothing was shown'): reads the audit trail's head, and when that
 * fails (`audit:log` not a stream, an unreadable last record, the connection
 * lost since it was made) refuses with `audit_unavailable` and a message that
 * starts with `nothing` (by default 'nothing was changed'). Redis unreachable never gets this far: the CLI's
 * connect (`connectCliRedis` in ./redis) fails first, with `unavailable: cannot
 * reach Redis at …`, before anything is read or changed. A trail that passes
 * can still fail the append after the change (see {@link auditChange}); this
 * only narrows that window to the change itself.
 *
 * @example
 * await requireAuditTrail(services.audit); // then change, then auditChange(…)
 */
export async function requireAuditTrail(audit: Pick<AuditLog, 'head'>, nothing = 'nothing was changed'): Promise<void> {
  try {
    await audit.head();
  } catch (err) {
    throw new CardauthError('audit_unavailable', `${nothing}: the audit trail is not usable (${explain(err)})`, { cause: err });
  }
}

/**
 * Records an administrative change in the audit log, after the change was
 * made (`done` says what was done, e.g. "card X was revoked"), inside
 * {@link CommandContext.withChanges}, which checked the trail first. If the record
 * cannot be written the change stands, and the command fails with
 * `audit_unavailable` and a message that says both, so the operator can
 * record it by hand.
 *
 * @example
 * await auditChange(ctx, s, { type: 'card.revoked', outcome: 'success', reason: 'lost', cardUid }, `card ${cardUid} was revoked`);
 */
export async function auditChange(ctx: CommandContext, services: Pick<CliServices, 'audit'>, input: Omit<AuditEventInput, 'actor'>, done: string): Promise<void> {
  try {
    await appendAsCli(ctx, services, input);
  } catch (err) {
    // The message carries the cause; main prints the message alone.
    throw new CardauthError('audit_unavailable', `${done}, but its audit record (${input.type}) could not be written: ${explain(err)}; record it by hand`);
  }
}

/**
 * Records that the audit trail is being read (`audit.viewed`,
 * `audit.exported`), before anything is shown or written: a read that cannot
 * be recorded fails with `audit_unavailable` and shows nothing.
 *
 * @example
 * await auditAccess(ctx, s, { type: 'audit.viewed', outcome: 'success', details: { count } });
 */
export async function auditAccess(ctx: CommandContext, services: Pick<CliServices, 'audit'>, input: Omit<AuditEventInput, 'actor'>): Promise<void> {
  try {
    await appendAsCli(ctx, services, input);
  } catch (err) {
    throw new CardauthError('audit_unavailable', `nothing was shown or written: this read of the audit trail could not be recorded (${explain(err)})`);
  }
}

function appendAsCli(ctx: CommandContext, services: Pick<CliServices, 'audit'>, input: Omit<AuditEventInput, 'actor'>) {
  return services.audit.append({ ...input, actor: ctx.actor, details: { ...input.details, via: 'cli', host: hostname() } });
}
