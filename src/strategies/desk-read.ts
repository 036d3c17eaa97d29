import type { AuditSink } from '../audit/record';
import type { Uid } from '../contract/uid';
import type { RequestSource } from '../policy/lockout';
import type { NonceStore } from '../policy/nonces';
import type { CardStatus } from '../store/cards';
import { CardRejectedError, rejectionAudit } from './agent-jws';
import type { CardStatement } from './card-statement';

/** What a desk read answers: the UID, and whose it is when it is bound (an officer may see that). */
export interface DeskReadResult {
  uid: Uid;
  bound: { login: string; displayName: string; status: CardStatus; label: string } | null;
}

export interface DeskReadDeps {
  /** The login's statement check (createStatementVerifier): an approved agent, its signature, audience, lifetime. */
  verifyStatement: (jws: string) => Promise<CardStatement>;
  nonces: Pick<NonceStore, 'consume'>;
  /** As the card step: the agent's workstation was seen at this client IP (or the IP is exempt). */
  workstationSeenAt: (agentId: string, ip: string) => Promise<boolean>;
  cards: { get(uid: string): Promise<{ accountId: string; status: CardStatus; label: string } | null> };
  accounts: { get(id: string): Promise<{ id: string; login: string; displayName: string } | null> };
  audit: AuditSink;
}

/**
 * Binding at the desk (issue 10 §5): the workbench's cards page asks the officer's own card
 * agent for a statement about the card on the officer's reader, with a nonce of the officer's
 * session (`POST /auth/nonce`), and this reads the UID out of it. The statement passes the
 * login's checks (signature of an approved agent, audience, lifetime, the nonce of this
 * session used up once, the agent's workstation seen at the officer's IP); a refusal is the
 * generic `card_rejected`. Nothing logs in and no card step is stored: the answer is the UID
 * and, if it is bound, to whom. Audited as `card.desk_read`, actor the officer.
 *
 * @example
 * const deskRead = createDeskRead({ verifyStatement, nonces, workstationSeenAt, cards, accounts, audit });
 * const { uid, bound } = await deskRead({ statement, sessionId: req.sessionID, source: { ip }, actor: 'acct:acc_…' });
 */
export function createDeskRead(deps: DeskReadDeps) {
  return async function deskRead(input: { statement: string; sessionId: string; source: RequestSource; actor: string }): Promise<DeskReadResult> {
    const { source, actor, sessionId } = input;
    let st: CardStatement;
    try {
      st = await deps.verifyStatement(input.statement);
      const read = { agentId: st.agentId, uid: st.uid, reader: st.reader };
      const [fresh, seen] = await Promise.all([deps.nonces.consume(st.nonce, sessionId), deps.workstationSeenAt(st.agentId, source.ip)]);
      if (!fresh) throw new CardRejectedError('replayed_nonce', read);
      if (!seen) throw new CardRejectedError('workstation_mismatch', read);
    } catch (err) {
      if (!(err instanceof CardRejectedError)) throw err;
      // A bad UID's statement is single-use too.
      if (err.detail.nonce !== undefined) await deps.nonces.consume(err.detail.nonce, sessionId);
      await deps.audit.append({ type: 'card.desk_read', outcome: 'failure', reason: err.reason, actor, ...rejectionAudit(err, source), sessionId });
      throw err;
    }
    const card = await deps.cards.get(st.uid);
    const owner = card ? await deps.accounts.get(card.accountId) : null;
    await deps.audit.append({
      type: 'card.desk_read',
      outcome: 'success',
      actor,
      ...(card ? { subject: { accountId: card.accountId, ...(owner ? { login: owner.login } : {}) } } : {}),
      source: { ...source, agentId: st.agentId, reader: st.reader },
      cardUid: st.uid,
      sessionId,
    });
    return { uid: st.uid, bound: card ? { login: owner?.login ?? card.accountId, displayName: owner?.displayName ?? '', status: card.status, label: card.label } : null };
  };
}

export type DeskRead = ReturnType<typeof createDeskRead>;
