import type { AuditSink } from '../audit/record';
import { errorMessage, type Logger } from '../logger';
import type { BackchannelStore, DueSession, LogoutJob } from './backchannel-store';

export interface BackchannelWorkerDeps {
  store: BackchannelStore;
  /** Sends the job's logout token to its client: `no_client` when the client is gone or has no back-channel URI; rejects when not delivered. */
  send(job: LogoutJob): Promise<'sent' | 'no_client'>;
  /** Ends sessions as the store does (defineSessionEnd). */
  endSessions(sessionIds: readonly string[]): Promise<void>;
  audit: AuditSink;
  logger: Logger;
  now: () => number;
  /** How often to look (CARDAUTH_OIDC_LOGOUT_POLL_MS). */
  pollMs: number;
  /** Sends per logout before it is given up (CARDAUTH_OIDC_LOGOUT_ATTEMPTS). */
  attempts: number;
  /** The first retry's delay; each next one doubles it (CARDAUTH_OIDC_LOGOUT_RETRY_MS). */
  retryMs: number;
}

/** Sessions and jobs taken per look. */
const BATCH = 50;
/** Logouts being sent at once by one node. */
const MAX_IN_FLIGHT = 32;
/** How long a claimed job or a session being locked or ended is one node's: well past the provider's 2.5 s send timeout. */
const LEASE_MS = 30_000;

/** What went wrong with a send, briefly, for the audit and the log: `http_503`, `ECONNREFUSED`, `TimeoutError`. */
export function failureOf(err: unknown): string {
  const e = err as { response?: { status?: number }; cause?: { code?: string }; name?: string };
  if (typeof e?.response?.status === 'number') return `http_${e.response.status}`;
  return e?.cause?.code ?? e?.name ?? 'error';
}

/**
 * OpenID Connect Back-Channel Logout 1.0, run on every server node. Each poll it:
 * - takes the watched sessions that are due (backchannel-store.ts): the links of those that
 *   ended, locked or lost their user are queued; one idle past CARDAUTH_SESSION_IDLE_SEC is
 *   locked here, as the session guard would lock it on its next request (`session.locked`
 *   reason `idle`, the record first), and one past CARDAUTH_SESSION_MAX_SEC is ended
 *   (`session.ended` reason `expired`, the record first), so a client is logged out at that
 *   moment rather than when the user next comes to cardauth;
 * - claims the logouts due, revokes each one's grant (its refresh and access tokens stop
 *   working) and sends it: `oidc.backchannel_delivered` once the client answered 200/204;
 *   otherwise it is tried again after `retryMs`, doubling, and after `attempts` sends given
 *   up with `oidc.backchannel_failed` (`retries_exhausted`; `client_gone` when the client was
 *   removed). A claim leases the job, so one node sends it; a node that dies mid-send leaves it
 *   to another once the lease is over: at least once.
 *
 * @example
 * const worker = createBackchannelWorker({ store, send, endSessions, audit, logger, now: clock.now, pollMs: 200, attempts: 8, retryMs: 1000 });
 * worker.start();
 * await worker.stop();
 */
export function createBackchannelWorker(deps: BackchannelWorkerDeps) {
  const { store, audit } = deps;
  const inFlight = new Set<Promise<void>>();
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let stopped = true;
  let failing = false;

  const about = (s: DueSession) => ({ subject: { accountId: s.accountId, login: s.login }, source: { agentId: s.agentId }, sessionId: s.sessionId });

  async function settle(s: DueSession): Promise<void> {
    if (s.action === 'expired') {
      await audit.append({ type: 'session.ended', outcome: 'success', reason: 'expired', ...about(s) });
      await deps.endSessions([s.sessionId]);
      await store.queue(s.sessionId, 'expired', deps.now());
      return;
    }
    await audit.append({ type: 'session.locked', outcome: 'success', reason: 'idle', ...about(s) });
    await store.lockIdle(s.sessionId, deps.now());
  }

  async function giveUp(job: LogoutJob, reason: 'retries_exhausted' | 'client_gone', failure?: string): Promise<void> {
    await audit.append({
      type: 'oidc.backchannel_failed',
      outcome: 'failure',
      reason,
      subject: { accountId: job.sub, login: job.login },
      sessionId: job.cardauthSid,
      details: { clientId: job.clientId, cause: job.cause, attempts: job.attempts, failure },
    });
    await store.done(job.id);
  }

  async function deliver(job: LogoutJob): Promise<void> {
    // A job claimed past its last attempt: the node that made that attempt died before it could give up.
    if (job.attempts > deps.attempts) return giveUp(job, 'retries_exhausted');
    if (job.grantId) await store.revokeGrant(job.grantId);
    let sent: 'sent' | 'no_client';
    try {
      sent = await deps.send(job);
    } catch (err) {
      const failure = failureOf(err);
      if (job.attempts >= deps.attempts) return giveUp(job, 'retries_exhausted', failure);
      const delay = deps.retryMs * 2 ** (job.attempts - 1);
      deps.logger.warn('oidc_backchannel_retry', { clientId: job.clientId, attempts: job.attempts, failure, retryInMs: delay });
      return store.retryAt(job.id, deps.now() + delay);
    }
    if (sent === 'no_client') return giveUp(job, 'client_gone');
    await audit.append({
      type: 'oidc.backchannel_delivered',
      outcome: 'success',
      subject: { accountId: job.sub, login: job.login },
      sessionId: job.cardauthSid,
      details: { clientId: job.clientId, cause: job.cause, attempts: job.attempts },
    });
    await store.done(job.id);
  }

  /** One look: settles the sessions due, then starts sending the logouts due (without waiting for them). */
  async function tick(): Promise<void> {
    for (const s of await store.due(deps.now(), BATCH, LEASE_MS)) await settle(s);
    const room = MAX_IN_FLIGHT - inFlight.size;
    if (room <= 0) return;
    for (const job of await store.claim(deps.now(), Math.min(room, BATCH), LEASE_MS)) {
      const p = deliver(job)
        .catch((err: unknown) => deps.logger.error('oidc_backchannel_failed', { clientId: job.clientId, err: errorMessage(err) }))
        .finally(() => inFlight.delete(p));
      inFlight.add(p);
    }
  }

  function schedule(): void {
    if (stopped) return;
    timer = setTimeout(() => {
      running = tick().then(
        () => {
          if (failing) deps.logger.info('oidc_backchannel_recovered');
          failing = false;
        },
        (err: unknown) => {
          // Redis down or the audit unwritable: logged once, tried again at the next poll; nothing is lost.
          if (!failing) deps.logger.error('oidc_backchannel_unavailable', { err: errorMessage(err) });
          failing = true;
        },
      );
      void running.then(schedule);
    }, deps.pollMs);
    // A background poll: it keeps no process alive by itself (the server does).
    timer.unref();
  }

  return {
    tick,
    /** Waits for the logouts being sent. */
    async settled(): Promise<void> {
      await Promise.all([...inFlight]);
    },
    start(): void {
      if (!stopped) return;
      stopped = false;
      schedule();
    },
    /** Stops polling and waits for the look and the sends in progress (each send times out after 2.5 s). */
    async stop(): Promise<void> {
      stopped = true;
      clearTimeout(timer);
      await running;
      await Promise.all([...inFlight]);
    },
  };
}

export type BackchannelWorker = ReturnType<typeof createBackchannelWorker>;
