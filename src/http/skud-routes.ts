import { Router } from 'express';
import type { AuditSink } from '../audit/record';
import { CardauthError } from '../errors';
import { clientKey } from '../policy/client-key';
import type { RefusalTally } from '../policy/refusal-tally';
import type { PresenceFeed } from '../presence/receive-feed';
import { SkudRejectedError } from '../presence/verify-statement';
import { requestSource } from './request-source';
import { parseBody, StatementBody } from './validate';

export interface SkudRoutesDeps {
  feed: PresenceFeed;
  /** The agents' event limit (CARDAUTH_AGENT_EVENTS_PER_MIN): a refused statement spends its client IP's `ip:` budget, as a refused agent event does. */
  eventLimit: { take(key: string): Promise<boolean> };
  eventRefusals: Pick<RefusalTally, 'refused' | 'overLimit'>;
  audit: AuditSink;
}

/**
 * `POST /skud/events` `{"statement": "<compact JWS>"}`: one statement signed by a registered
 * access-control integration (docs/presence.md), from its relay (no cookie, no Origin). A
 * forged, expired, misaddressed or unknown-key statement is 401 `skud_rejected`, a replayed one
 * 409 `skud_replayed`, a payload the adapter cannot read 400 `bad_request`; refusals spend the
 * client IP's junk budget (429 `rate_limited` over it) and are audited `skud.statement` once per
 * IP and minute, with a count; one that carried events is audited `skud.statement` success (a
 * heartbeat is not). Answers `{skudId, accepted, unknown, refused, ended}`.
 *
 * @example
 * beforeSession.use(createSkudRoutes({ feed, eventLimit, eventRefusals, audit }));
 */
export function createSkudRoutes(deps: SkudRoutesDeps): Router {
  const router = Router();
  router.post('/skud/events', async (req, res) => {
    const { statement } = parseBody(req, StatementBody);
    const source = requestSource(req);
    const ip = clientKey(source.ip);
    const unrecorded = (n: number) => (n > 0 ? { unrecordedRefusals: n } : {});
    let result;
    try {
      result = await deps.feed(statement, source);
    } catch (err) {
      if (!(err instanceof SkudRejectedError)) throw err;
      if (!(await deps.eventLimit.take(`ip:${ip}`))) {
        const over = await deps.eventRefusals.overLimit(ip);
        if (over.record) await deps.audit.append({ type: 'skud.statement', outcome: 'failure', reason: 'rate_limited', source, details: unrecorded(over.unrecorded) });
        throw new CardauthError('rate_limited', 'too many refused statements from this address; try later');
      }
      const tally = await deps.eventRefusals.refused(ip);
      if (tally.record) {
        await deps.audit.append({ type: 'skud.statement', outcome: 'failure', reason: err.reason, source, details: { ...(err.skudId ? { skudId: err.skudId } : {}), ...unrecorded(tally.unrecorded) } });
      }
      throw err;
    }
    // A heartbeat (no events) is not recorded: one a minute per relay would only fill the trail; its time shows in the status.
    if (result.accepted + result.unknown > 0) await deps.audit.append({ type: 'skud.statement', outcome: 'success', source, details: { ...result } });
    res.json(result);
  });
  return router;
}
