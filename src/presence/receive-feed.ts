import type { AuditSink } from '../audit/record';
import type { RequestSource } from '../policy/lockout';
import type { SessionSweep } from '../store/session-sweep';
import type { PresenceAdapter } from './adapter';
import type { AccountPass, PresenceStore } from './presence-store';

export interface PresenceFeedDeps {
  verify: (jws: string) => Promise<{ skudId: string; payload: Record<string, unknown> }>;
  adapter: PresenceAdapter;
  accounts: { findByLogin(login: string): Promise<{ id: string; login: string } | null> };
  presence: Pick<PresenceStore, 'record' | 'state'>;
  /** Ends the sessions of a person who left (as `card lost` and `account block` end them). */
  sessions: Pick<SessionSweep, 'end'>;
  audit: AuditSink;
  now: () => number;
}

/** What one statement did. */
export interface FeedResult {
  skudId: string;
  accepted: number;
  /** Events whose login names no account (audited, not stored). */
  unknown: number;
  /** Events dated more than {@link MAX_AHEAD_MS} ahead of the server's clock or more than {@link MAX_AGE_MS} ago (audited `bad_time`, not stored). */
  refused: number;
  /** Sessions ended by exits. */
  ended: number;
}

/**
 * Takes one signed statement from an access-control system: verifies it (a refusal throws
 * SkudRejectedError), reads its events with the adapter (`bad_request` if it cannot), stores
 * each person's pass and that the feed is alive, audits each event (`presence.reported`; an
 * unknown login is a failure, reason `unknown_person`), and, for a person whose newest pass is
 * now an exit, ends their open sessions (each `session.ended`, reason `presence_exit`).
 *
 * @example
 * const feed = createPresenceFeed({ verify, adapter: genericJsonAdapter, accounts, presence, sessions, audit, now });
 * const { accepted, ended } = await feed(jws, requestSource(req));
 */
/** A pass dated ahead of the server's clock by more than this is refused: it would hold the gate open (or shut) past the real passes after it. */
export const MAX_AHEAD_MS = 5 * 60_000;
/** A pass older than this says nothing about today. */
export const MAX_AGE_MS = 24 * 3_600_000;

export function createPresenceFeed(deps: PresenceFeedDeps) {
  return async function receive(jws: string, source: RequestSource): Promise<FeedResult> {
    const { skudId, payload } = await deps.verify(jws);
    const events = deps.adapter.events(payload);
    const passes: (AccountPass & { login: string; door: string })[] = [];
    let unknown = 0;
    let refused = 0;
    const now = deps.now();
    for (const e of events) {
      const details = { skudId, direction: e.direction, at: new Date(e.at).toISOString(), door: e.door };
      if (e.at > now + MAX_AHEAD_MS || e.at < now - MAX_AGE_MS) {
        refused++;
        await deps.audit.append({ type: 'presence.reported', outcome: 'failure', reason: 'bad_time', subject: { login: e.login }, source, details });
        continue;
      }
      const account = await deps.accounts.findByLogin(e.login);
      if (!account) {
        unknown++;
        await deps.audit.append({ type: 'presence.reported', outcome: 'failure', reason: 'unknown_person', subject: { login: e.login }, source, details });
        continue;
      }
      passes.push({ accountId: account.id, login: account.login, direction: e.direction, at: e.at, door: e.door });
    }
    await deps.presence.record(skudId, passes, now, events.length);
    let ended = 0;
    const exited = new Set<string>();
    for (const p of passes) {
      await deps.audit.append({
        type: 'presence.reported',
        outcome: 'success',
        subject: { accountId: p.accountId, login: p.login },
        source,
        details: { skudId, direction: p.direction, at: new Date(p.at).toISOString(), door: p.door },
      });
      if (p.direction === 'exit') exited.add(p.accountId);
    }
    for (const accountId of exited) {
      // Only an exit that is the person's newest pass: a late, resent exit does not end today's session.
      if ((await deps.presence.state(accountId)).last?.direction !== 'exit') continue;
      for (const s of await deps.sessions.end({ accountId })) {
        ended++;
        await deps.audit.append({ type: 'session.ended', outcome: 'success', reason: 'presence_exit', subject: { accountId: s.accountId, login: s.login }, sessionId: s.sessionId, details: { skudId } });
      }
    }
    return { skudId, accepted: passes.length, unknown, refused, ended };
  };
}

export type PresenceFeed = ReturnType<typeof createPresenceFeed>;
