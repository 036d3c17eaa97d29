import { Router } from 'express';
import { z } from 'zod';
import type { AuditSink } from '../audit/record';
import { CardauthError } from '../errors';
import { CardRejectedError, rejectionAudit } from '../strategies/agent-jws';
import { cardAudit } from '../strategies/card-step';
import { clientKey } from '../policy/client-key';
import type { RefusalTally } from '../policy/refusal-tally';
import type { TapoutEvent } from '../strategies/tapout-event';
import type { AgentStore } from '../store/agents';
import type { SessionLocks } from '../store/session-locks';
import { requestSource } from './request-source';
import { parseBody, StatementBody } from './validate';

export interface AgentRoutesDeps {
  agents: Pick<AgentStore, 'register' | 'get' | 'recordSeen'>;
  verifyTapout: (jws: string) => Promise<TapoutEvent>;
  locks: Pick<SessionLocks, 'lockCard' | 'recorded'>;
  /** The card's account: the subject of a tap-out and of the locks it makes. */
  cards: { get(uid: string): Promise<{ accountId: string } | null> };
  /** Enrollments per client IP (a quota per hour). */
  enrollLimit: { take(key: string): Promise<boolean> };
  /** Agent events per minute (CARDAUTH_AGENT_EVENTS_PER_MIN), keyed `ip:<ip>` for refused ones and `agent:<id>` for verified ones. */
  eventLimit: { take(key: string): Promise<boolean> };
  /** Which refused events get their own audit record (per client IP and minute). */
  eventRefusals: Pick<RefusalTally, 'refused' | 'overLimit'>;
  audit: AuditSink;
  now: () => number;
}

const EnrollBody = z.strictObject({ name: z.string().min(1).max(64), publicJwk: z.record(z.string(), z.unknown()) });
const AGENT_ID = /^ag_[0-9a-f]{16}$/;

/**
 * Endpoints for workstation agents (not browsers: no cookie, no Origin; they
 * authenticate by signature). `POST /agents/enroll` registers a public key as
 * a pending agent (a quota per IP, taken only by a well-formed JSON body;
 * audited); `GET /agents/:id/status` tells an agent whether it is approved;
 * `POST /agents/events` takes a signed `card.tapout` (refusals rate-limited per
 * IP, verified events per agent) and
 * locks every session opened with that card at that agent. An enrollment and
 * a verified event record the client IP as one the agent's workstation was
 * seen at (see createWorkstationIpCheck); nothing unauthenticated does.
 *
 * @example
 * app.use(createAgentRoutes({ agents, verifyTapout, locks, cards, enrollLimit, eventLimit, eventRefusals, audit, now: clock.now }));
 */
export function createAgentRoutes(deps: AgentRoutesDeps): Router {
  const router = Router();

  router.post('/agents/enroll', async (req, res) => {
    // The body first: junk, or a cross-site form or text/plain POST (never parsed as JSON), takes nothing from the quota.
    const body = parseBody(req, EnrollBody);
    const source = requestSource(req);
    if (!(await deps.enrollLimit.take(clientKey(source.ip)))) throw new CardauthError('rate_limited', 'too many enrollments from this address; try later');
    // A retry of an enrollment whose answer or audit record was lost completes it (resumePending).
    const agent = await deps.agents.register({ name: body.name, publicJwk: body.publicJwk, resumePending: true, ip: source.ip });
    await deps.audit.append({
      type: 'agent.enrolled',
      outcome: 'success',
      source: { ...source, agentId: agent.id, workstation: body.name },
      details: { fingerprint: agent.fingerprint, ...(agent.resumed ? { resumed: true } : {}) },
    });
    res.status(201).json({ id: agent.id, fingerprint: agent.fingerprint, status: agent.status });
  });

  router.get('/agents/:id/status', async (req, res) => {
    const id = req.params.id;
    const agent = AGENT_ID.test(id) ? await deps.agents.get(id) : null;
    if (!agent) throw new CardauthError('agent_not_found', 'no such agent');
    res.json({ id: agent.id, status: agent.status, fingerprint: agent.fingerprint });
  });

  router.post('/agents/events', async (req, res) => {
    const { statement } = parseBody(req, StatementBody);
    const source = requestSource(req);
    const unrecordedRefusals = (n: number) => (n > 0 ? { details: { unrecordedRefusals: n } } : {});
    let event: TapoutEvent;
    try {
      event = await deps.verifyTapout(statement);
    } catch (err) {
      if (!(err instanceof CardRejectedError)) throw err;
      // Anyone can send junk here. Refusals are limited per IP, verified events are not: a flood of
      // junk from a workstation's own address must not hold up its real tap-outs. Only the first
      // refusal per IP and minute gets a record; the rest get a count.
      if (!(await deps.eventLimit.take(`ip:${clientKey(source.ip)}`))) {
        const over = await deps.eventRefusals.overLimit(clientKey(source.ip));
        if (over.record) await deps.audit.append({ type: 'card.tapout', outcome: 'failure', reason: 'rate_limited', source, ...unrecordedRefusals(over.unrecorded) });
        throw new CardauthError('rate_limited', 'too many refused agent events from this address; try later');
      }
      const tally = await deps.eventRefusals.refused(clientKey(source.ip));
      if (tally.record) {
        await deps.audit.append({ type: 'card.tapout', outcome: 'failure', reason: err.reason, ...rejectionAudit(err, source), ...unrecordedRefusals(tally.unrecorded) });
      }
      throw err;
    }
    // A verified event is limited per agent, so a stolen agent key cannot flood the trail either.
    if (!(await deps.eventLimit.take(`agent:${event.agentId}`))) throw new CardauthError('rate_limited', 'too many events from this agent; try later');
    const reason = event.signal === 'switch' ? 'switch' : 'tapout';
    // Lock first, then record: the lock protects an unattended session, so it does not wait for
    // the audit. A lock whose record fails (503) stays noted as unrecorded, and the agent's retry
    // (or the card's next tap-out at this agent) writes it, with the time of the lock.
    const { locked, unrecorded } = await deps.locks.lockCard(event.agentId, event.uid, { reason, at: deps.now() });
    const binding = await deps.cards.get(event.uid);
    const where = { ...cardAudit(event, source), ...(binding ? { subject: { accountId: binding.accountId } } : {}) };
    await deps.audit.append({ type: 'card.tapout', outcome: 'success', ...where, details: { signal: event.signal, sessionsLocked: locked.length } });
    for (const lock of unrecorded) {
      const late = !locked.includes(lock.sessionId);
      await deps.audit.append({
        type: 'session.locked',
        outcome: 'success',
        reason: lock.reason,
        ...where,
        sessionId: lock.sessionId,
        ...(late ? { details: { lockedAt: new Date(lock.at).toISOString() } } : {}),
      });
      await deps.locks.recorded(event.agentId, event.uid, lock.sessionId);
    }
    // Signed by the agent: its workstation is at this IP now (after a DHCP change, this re-admits its card steps).
    await deps.agents.recordSeen(event.agentId, source.ip);
    res.json({ locked: locked.length });
  });

  return router;
}
