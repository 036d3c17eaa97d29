import type { SessionMatch } from '../store/session-sweep';
import { auditChange, type CommandContext } from './command';
import type { CliServices } from './services';

/**
 * After a revocation: ends the open sessions that were opened with the
 * revoked card or through the revoked agent, each audited as `session.ended`
 * (reason `admin`, with the cause), and answers a phrase for the command's
 * output. A revoked factor must not leave a session running for the rest of
 * its 12 hours.
 *
 * @example
 * const ended = await endSessions(ctx, s, { cardUid }, 'card_revoked');
 * ctx.io.stdout.write(`revoked card ${cardUid}; ${ended}\n`);
 */
export async function endSessions(ctx: CommandContext, s: Pick<CliServices, 'sessions' | 'audit'>, match: SessionMatch, cause: 'card_revoked' | 'agent_revoked'): Promise<string> {
  const ended = await s.sessions.end(match);
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
