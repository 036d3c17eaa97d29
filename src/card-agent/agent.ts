import type { Express } from 'express';
import type { Clock } from '../clock';
import type { TapoutSignal } from '../contract/agent-statements';
import { CardauthError } from '../errors';
import { errorMessage, type Logger } from '../logger';
import { createBridge, type AgentStatus, type BridgeDeps } from './bridge';
import type { AgentIdentity } from './keystore';
import type { ServerClient } from './server-client';
import { signStatement, signTapout, type StatementSigningKey } from './sign-statement';
import { TapBroker, type ReadFailure, type Tap } from './tap-broker';

/** What the agent needs from the PC/SC side (the reader watcher). */
export interface CardSource {
  on(event: 'card' | 'removed', listener: (tap: Tap) => void): unknown;
  on(event: 'read-error', listener: (failure: ReadFailure) => void): unknown;
  status(): { pcscUp: boolean; readers: Array<{ name: string; cardPresent: boolean }> };
  /** The card currently on a reader, if any. */
  presentCard(): Tap | undefined;
}

export interface AgentOptions {
  origins: readonly string[];
  waitMs: number;
  /** Reader-name substrings of contact readers. */
  contactReaders: readonly string[];
  identity: AgentIdentity;
  /**
   * Not enrolled at start: the enrollment written since, if any (see
   * keystore's enrollmentSince). Asked when a request needs the agent id,
   * until there is one; never once enrolled.
   */
  enrollment?: () => { agentId: string } | undefined;
  source: CardSource;
  server: Pick<ServerClient, 'status' | 'sendEvent'>;
  /** The server's public origin: the `aud` of tap-out events. */
  serverOrigin: string;
  clock: Clock;
  logger: Logger;
  /** Terminal servers: serve only connections of the agent's own user (see createBridge). */
  samePeer?: BridgeDeps['samePeer'];
}

const HOLD_MS = 10_000;
const STATUS_CACHE_MS = 10_000;
const TAPOUT_TRIES = 3;

/**
 * Wires the card agent: the reader watcher feeds the tap broker; the bridge
 * serves the page; tap-outs are signed and sent to the server (a few tries,
 * then logged — the page's own checks and the idle lock still apply). A
 * tap-out that locked no session goes back to the broker as a plain tap.
 *
 * @example
 * const agent = createAgent({ origins, waitMs, contactReaders: [], identity, source: watcher, server, serverOrigin, clock, logger });
 * agent.bridge.listen(47800, '127.0.0.1');
 */
export function createAgent(opts: AgentOptions): { bridge: Express; broker: TapBroker; close(): void } {
  const { identity, clock, logger } = opts;
  const isContactReader = (reader: string) => opts.contactReaders.some((s) => s && reader.includes(s));
  const broker = new TapBroker({ clock, holdMs: HOLD_MS, isContactReader, presentCard: () => opts.source.presentCard() });
  opts.source.on('card', (tap) => broker.onCard(tap));
  opts.source.on('removed', (tap) => broker.onRemoved(tap));
  opts.source.on('read-error', (failure) => broker.onReadError(failure));

  let agentId = identity.agentId;
  /** The agent id: the one it started with, or one `cardauth agent enroll` gave it since (no restart needed). */
  const enrolledId = (): string | undefined => {
    if (agentId || !opts.enrollment) return agentId;
    agentId = opts.enrollment()?.agentId;
    if (agentId) logger.info('agent_enrolled', { agentId, fingerprint: identity.fingerprint });
    return agentId;
  };
  const key = (): StatementSigningKey => {
    const id = enrolledId();
    if (!id) throw new CardauthError('unavailable', 'this agent is not enrolled yet: run `cardauth agent enroll`');
    return { agentId: id, alg: 'EdDSA', privateKey: identity.privateKey };
  };

  const sendTapout = async (t: { uid: string; reader: string; signal: TapoutSignal }) => {
    for (let attempt = 1; attempt <= TAPOUT_TRIES; attempt++) {
      try {
        const statement = await signTapout(key(), { aud: opts.serverOrigin, uid: t.uid, reader: t.reader, signal: t.signal }, clock);
        const { locked } = await opts.server.sendEvent(statement);
        logger.info('tapout_sent', { signal: t.signal, reader: t.reader, locked });
        if (locked === 0 && t.signal === 'tap') broker.tapoutLockedNothing(t.uid);
        return;
      } catch (err) {
        logger.warn('tapout_failed', { attempt, err: errorMessage(err) });
        await new Promise((r) => setTimeout(r, 500 * attempt));
      }
    }
  };
  broker.on('tapout', (t) => void sendTapout(t));

  let approved: { value: boolean | null; at: number } | undefined;
  const status = async (): Promise<AgentStatus> => {
    const now = clock.now();
    let id: string | undefined;
    try {
      id = enrolledId();
    } catch (err) {
      // A statement request says why (and the log has it); the status just shows no usable id.
      logger.warn('agent_enrollment_unusable', { err: errorMessage(err) });
    }
    if (id && (!approved || now - approved.at > STATUS_CACHE_MS)) {
      const value = await opts.server.status(id).then(
        (s) => s === 'approved',
        () => null,
      );
      approved = { value, at: now };
    }
    return { agentId: id ?? null, approved: approved?.value ?? null, ...opts.source.status() };
  };

  const bridge = createBridge({
    origins: opts.origins,
    waitMs: opts.waitMs,
    broker,
    sign: (claims) => signStatement(key(), claims, clock),
    canSign: () => void key(),
    status,
    logger,
    now: () => clock.now(),
    ...(opts.samePeer ? { samePeer: opts.samePeer } : {}),
  });
  return { bridge, broker, close: () => broker.close() };
}
