import type { EndedSession, SessionMatch } from '../store/session-sweep';
import { auditChange, type CommandContext } from './command';
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
      `${ended.length} open session(s) were ended`,
    );
  }
  return ended.length === 0 ? 'no open session' : `${ended.length} open session(s) ended`;
}
