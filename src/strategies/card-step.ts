import type { AuditSink } from '../audit/record';
import type { Lockout, RequestSource } from '../policy/lockout';
import type { NonceStore } from '../policy/nonces';
import type { Uid } from '../contract/uid';
import type { CardStatus } from '../store/cards';
import { CardRejectedError, rejectionAudit } from './agent-jws';
import type { IpLimit } from './ip-limit';
import type { CardStatement } from './card-statement';

/**
 * Refusals that are not attempts at anyone's account: a phone or a bank card
 * brushed past the reader presents a random or odd-length ID, and the agent
 * passes it on to be audited. They do not count against the client IP, which
 * on a terminal server is shared by every user.
 */
const NOT_AN_ATTEMPT: ReadonlySet<string> = new Set(['uid_random', 'uid_length']);


/** A card step that passed: the card is on the allow-list of `accountId`. */
export interface CardStepResult {
  accountId: string;
  uid: Uid;
  agentId: string;
  workstation: string;
  reader: string;
  /** ms since epoch */
  at: number;
}

/**
 * The audit fields of a card that passed its card step: where it was read (the request's
 * source with the agent and reader) and its UID. One spelling for every record about it.
 *
 * @example
 * await audit.append({ type: 'password.checked', outcome: 'success', subject, ...cardAudit(card, source), sessionId });
 */
export function cardAudit<S extends RequestSource>(card: Pick<CardStepResult, 'agentId' | 'reader' | 'uid'>, source: S) {
  return { source: { ...source, agentId: card.agentId, reader: card.reader }, cardUid: card.uid };
}

export interface CardStepDeps {
  /** Verifies a statement; awaits `after` once the agent is read, before judging anything (createStatementVerifier). */
  verifyStatement: (jws: string, after?: Promise<unknown>) => Promise<CardStatement>;
  nonces: Pick<NonceStore, 'consume'>;
  cards: { get(uid: string): Promise<{ accountId: string; status: CardStatus } | null> };
  /** True when the agent's workstation was seen at this client IP, or the IP is exempt (see createWorkstationIpCheck). */
  workstationSeenAt: (agentId: string, ip: string) => Promise<boolean>;
  /** The card scope of the lockout: a locked card's card step is refused (`card_locked`), and its account's user told at the next login. */
  cardLock: Pick<Lockout, 'cardCount' | 'noteFailure'>;
  /** The agent scope: counts an unknown or refused card against the agent whose reader it was tapped at (createAgentAbuse). */
  agentAbuse: (reason: string, agentId: string, source: RequestSource) => Promise<void>;
  /** The client's limits: checked first; a refusal is charged to the IP, or as junk when no fresh nonce backs it. */
  ipLimit: Pick<IpLimit, 'check' | 'recordFailure' | 'junk'>;
  audit: AuditSink;
  now: () => number;
}

/**
 * The card step: statement → single-use nonce → the agent's workstation was
 * seen at the client IP (a statement carried elsewhere is `workstation_mismatch`)
 * → allow-list (an expired binding is refused as `expired_card`) → the card's own lock
 * (`card_locked`, counted on its account for the user's next login). Every outcome is
 * audited as `card.presented`; a refusal is a CardRejectedError whose reason
 * only the audit sees. A refusal that used up a fresh nonce of this session
 * (wrong workstation, unknown, revoked or locked card: a card at a reader now) counts
 * against the client IP, and an unknown or refused card against its agent (createAgentAbuse); a random or odd-length UID counts nowhere, once;
 * anything else (junk, a replayed, expired or misaddressed statement, which
 * anyone holding an old statement can resend) counts under the junk budgets
 * instead, so it cannot lock out an address. An IP over its failure limit
 * is `rate_limited` before the statement is judged (see createIpLimit; its agent is read
 * alongside the gate, in one round trip).
 * Infrastructure failures propagate as `unavailable` / `audit_unavailable`.
 *
 * @example
 * const cardStep = createCardStep({ verifyStatement, nonces, cards, workstationSeenAt, ipLimit, audit, now: clock.now });
 * const card = await cardStep({ statement, sessionId: req.sessionID, source: { ip: req.ip } });
 */
export function createCardStep(deps: CardStepDeps) {
  return async function cardStep(input: {
    statement: string;
    sessionId: string;
    source: RequestSource;
    /**
     * The password step runs in this same request (`POST /auth/login`): it takes from the card's
     * count atomically and refuses a locked card itself (`card_locked`, the same generic
     * failure), so the card's lock is not read here too (one command fewer per login).
     */
    oneShot?: boolean;
  }): Promise<CardStepResult> {
    const { statement, sessionId, source } = input;
    // The gate and the statement's agent are read in one round trip; the statement is judged only once the gate is open.
    const gateRead = deps.ipLimit.check('card.presented', source, sessionId);
    const verified = deps.verifyStatement(statement, gateRead);
    verified.catch(() => undefined); // judged below, once the gate is open
    const gate = await gateRead;

    let st: CardStatement | undefined;
    let accountId: string | undefined;
    try {
      st = await verified;
      const read = { agentId: st.agentId, uid: st.uid, reader: st.reader };
      // Consuming the nonce and reading the workstation's IPs, the card and its lock are independent: one wave, judged in this order.
      const [fresh, seen, card, lock] = await Promise.all([
        deps.nonces.consume(st.nonce, sessionId),
        deps.workstationSeenAt(st.agentId, source.ip),
        deps.cards.get(st.uid),
        input.oneShot ? undefined : deps.cardLock.cardCount(st.uid),
      ]);
      if (!fresh) throw new CardRejectedError('replayed_nonce', read);
      // From here on a fresh nonce of this session was used up: the refusal needed a card at a reader now.
      const now = { ...read, fresh: true as const };
      if (!seen) throw new CardRejectedError('workstation_mismatch', now);
      // The workstation goes with it: an unknown card may be a self-enrollment's (see enrollmentCandidate).
      if (!card) throw new CardRejectedError('unknown_card', { ...now, workstation: st.workstation });
      if (card.status !== 'active') throw new CardRejectedError(card.status === 'expired' ? 'expired_card' : 'revoked_card', now);
      accountId = card.accountId;
      if (lock?.locked) {
        await deps.cardLock.noteFailure(card.accountId);
        throw new CardRejectedError('card_locked', now);
      }
    } catch (err) {
      if (!(err instanceof CardRejectedError)) throw err;
      // A random or odd-length UID is not an attempt, once: its statement is single-use too.
      const { nonce, fresh } = err.detail;
      const exempt = NOT_AN_ATTEMPT.has(err.reason) && nonce !== undefined && (await deps.nonces.consume(nonce, sessionId));
      const reason = NOT_AN_ATTEMPT.has(err.reason) && !exempt ? 'replayed_nonce' : err.reason;
      // Anything else that did not use up a fresh nonce (junk, a replay, an expired or misaddressed
      // statement) whoever holds an old statement can send again and again: it spends the junk
      // budgets, never the IP's login budget, and over the IP's junk budget it is refused unrecorded.
      if (!exempt && !fresh) await deps.ipLimit.junk('card.presented', source, sessionId, gate);
      await deps.audit.append({
        type: 'card.presented',
        outcome: 'failure',
        reason,
        ...(accountId ? { subject: { accountId } } : {}),
        ...rejectionAudit(err, source),
        sessionId,
      });
      if (fresh) await Promise.all([deps.ipLimit.recordFailure(source.ip), err.detail.agentId ? deps.agentAbuse(reason, err.detail.agentId, source) : undefined]);
      throw err;
    }
    await deps.audit.append({
      type: 'card.presented',
      outcome: 'success',
      subject: { accountId },
      ...cardAudit(st, source),
      sessionId,
    });
    return { accountId, uid: st.uid, agentId: st.agentId, workstation: st.workstation, reader: st.reader, at: deps.now() };
  };
}
