import type { AuditEventInput } from '../audit/record';
import { CardauthError } from '../errors';
import type { SessionMatch } from '../store/session-sweep';
import { auditChange, type CommandContext } from '../cli/command';
import { explain } from '../cli/output';
import type { CliServices } from '../cli/services';

/** What ended the sessions: a card or agent revoked, or an account blocked. */
export interface EndedBy {
  /** For messages, e.g. `card 04A2…`, `agent ag_…` or `account ivanova`. */
  what: string;
  match: SessionMatch;
  cause: 'card_revoked' | 'agent_revoked' | 'account_blocked';
  /** The change's own record (the revocation or the block); absent when it was made before (a repeat). */
  change?: Omit<AuditEventInput, 'actor'>;
}

const DONE: Record<EndedBy['cause'], string> = { card_revoked: 'revoked', agent_revoked: 'revoked', account_blocked: 'blocked' };

/**
 * What `card revoke`, `agent revoke` and `account block` do once the store
 * has revoked (or found revoked) a card or agent, or blocked an account: end
 * the sessions opened with it, then write the change's record, then one
 * `session.ended` (reason `admin`, with the cause) per session. A revoked
 * factor or a blocked account must not leave a session running for the rest
 * of its 12 hours, so the sessions end before any
 * record; if they cannot be ended, the revocation is still recorded and the
 * command fails saying to run it again (a repeat only ends the sessions).
 * Answers the phrase for the command's output.
 *
 * @example
 * const ended = await endSessionsOf(ctx, s, { what: `card ${uid}`, match: { cardUid: uid }, cause: 'card_revoked', change: record });
 */
export async function endSessionsOf(ctx: CommandContext, s: Pick<CliServices, 'sessions' | 'audit'>, f: EndedBy): Promise<string> {
  const { what, match, cause, change } = f;
  const verb = DONE[cause];
  let ended;
  try {
    ended = await s.sessions.end(match);
  } catch (err) {
    if (change) await auditChange(ctx, s, change, `${what} was ${verb} (its open sessions could not be ended)`);
    const done = change ? `was ${verb} and audited` : `is ${verb}`;
    throw new CardauthError('unavailable', `${what} ${done}, but its open sessions could not be ended: ${explain(err)}; run the command again to end them`, { cause: err });
  }
  if (change) await auditChange(ctx, s, change, `${what} was ${verb} and ${ended.length} open session(s) ended`);
  for (const e of ended) {
    await auditChange(
      ctx,
      s,
      {
        type: 'session.ended',
        outcome: 'success',
        reason: 'admin',
        subject: { accountId: e.accountId, login: e.login },
        sessionId: e.sessionId,
        ...('cardUid' in match ? { cardUid: match.cardUid } : 'agentId' in match ? { source: { agentId: match.agentId } } : {}),
        details: { cause },
      },
      `${ended.length} open session(s) were ended, but not all of their session.ended records were written`,
    );
  }
  return ended.length === 0 ? 'no open session' : `${ended.length} open session(s) ended`;
}
