import type { AuditEventInput } from '../audit/record';
import { CardauthError } from '../errors';
import type { EndedSession, SessionMatch } from '../store/session-sweep';
import { auditChange, type CommandContext } from './command';
import { explain } from './output';
import type { CliServices } from './services';

export type EndCause = 'card_revoked' | 'agent_revoked';

/**
 * After a revocation: ends the open sessions that were opened with the
 * revoked card or through the revoked agent. A revoked factor must not leave
 * a session running for the rest of its 12 hours, so this runs before any
 * audit record of the command: if a record then cannot be written, the
 * sessions are ended all the same. Record them with {@link auditEndedSessions}.
 *
 * @example
 * const ended = await endSessions(s, { cardUid });
 */
export function endSessions(s: Pick<CliServices, 'sessions'>, match: SessionMatch): Promise<EndedSession[]> {
  return s.sessions.end(match);
}

/**
 * What `card revoke` and `agent revoke` do after the store revoked `what`:
 * end its sessions, then write the revocation's record in any case, then
 * one record per ended session. If the sessions could not be ended the
 * revocation is still recorded, and the command fails saying to run it
 * again (a repeat only ends the sessions). Answers the phrase for output.
 *
 * @example
 * const ended = await endSessionsAndRecord(ctx, s, `card ${uid}`, { cardUid: uid }, 'card_revoked', revokedRecord);
 */
export async function endSessionsAndRecord(
  ctx: CommandContext,
  s: Pick<CliServices, 'sessions' | 'audit'>,
  what: string,
  match: SessionMatch,
  cause: EndCause,
  revoked: Omit<AuditEventInput, 'actor'>,
): Promise<string> {
  let ended: EndedSession[];
  try {
    ended = await endSessions(s, match);
  } catch (err) {
    await auditChange(ctx, s, revoked, `${what} was revoked (its open sessions could not be ended)`);
    throw new CardauthError('unavailable', `${what} was revoked and audited, but its open sessions could not be ended: ${explain(err)}; run the command again to end them`, { cause: err });
  }
  await auditChange(ctx, s, revoked, `${what} was revoked and ${ended.length} open session(s) ended`);
  return auditEndedSessions(ctx, s, ended, match, cause);
}

/**
 * Audits each ended session as `session.ended` (reason `admin`, with the
 * cause) and answers a phrase for the command's output.
 *
 * @example
 * ctx.io.stdout.write(`revoked card ${uid}; ${await auditEndedSessions(ctx, s, ended, { cardUid: uid }, 'card_revoked')}\n`);
 */
export async function auditEndedSessions(ctx: CommandContext, s: Pick<CliServices, 'audit'>, ended: readonly EndedSession[], match: SessionMatch, cause: EndCause): Promise<string> {
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
        ...('cardUid' in match ? { cardUid: match.cardUid } : { source: { agentId: match.agentId } }),
        details: { cause },
      },
      `${ended.length} open session(s) were ended, but not all of their session.ended records were written`,
    );
  }
  return ended.length === 0 ? 'no open session' : `${ended.length} open session(s) ended`;
}
