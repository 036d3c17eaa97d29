import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Clock } from '../clock';
import type { AgentConfig } from '../config';
import { CardauthError } from '../errors';
import { errorMessage, type Logger } from '../logger';
import { createAgent } from './agent';
import { enrollmentSince, loadOrCreateIdentity } from './keystore';
import type { PcscLite } from './pcsc';
import { createReaderWatcher } from './reader-watcher';
import { sameUserCheck } from './peer-user';
import { createServerClient } from './server-client';

/** The list keys of the agent config, split on commas. */
const list = (v: string) =>
  v
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);

/**
 * pcsclite, loaded here and not at import: a native module the server, the CLI and a host
 * importing 'cardauth' never need. It is an optional dependency, so it is absent from an
 * install with `--omit=optional` or one where its build failed (npm then drops it).
 */
function loadPcsclite(): () => PcscLite {
  try {
    return require('pcsclite') as () => PcscLite;
  } catch (err) {
    throw new CardauthError(
      'unavailable',
      'the card agent needs the optional native package pcsclite, which is not installed or did not build: install libpcsclite-dev, g++, make and python3 (Debian; see docs/workstations.md for Windows), then run `npm install` again without --omit=optional',
      { cause: err },
    );
  }
}

/**
 * The card agent's entry point: the only place that constructs pcsclite. It
 * loads (or creates) the key, watches every reader, serves the loopback
 * bridge on CARDAUTH_AGENT_HOST:CARDAUTH_AGENT_PORT and logs
 * `{"event":"agent_listening",…}` with the fingerprint (never the key).
 *
 * @example
 * const agent = await startAgent({ config: loadAgentConfig(process.env), logger, clock: systemClock });
 * process.once('SIGTERM', () => void agent.close());
 */
export async function startAgent(deps: { config: AgentConfig; logger: Logger; clock: Clock }): Promise<{ url: string; close(): Promise<void> }> {
  const { config, logger, clock } = deps;
  const pcsclite = loadPcsclite();
  const samePeer = sameUserCheck(config.CARDAUTH_AGENT_SAME_USER, logger);
  const identity = await loadOrCreateIdentity(config.CARDAUTH_AGENT_DIR);
  const watcher = createReaderWatcher({
    pcsc: () => pcsclite(),
    clock,
    logger,
    debounceMs: config.CARDAUTH_AGENT_DEBOUNCE_MS,
    reversedReaders: list(config.CARDAUTH_AGENT_REVERSED_READERS),
  });
  watcher.on('read-error', (e) => logger.warn('card_unreadable', { reader: e.reader, code: e.code }));
  watcher.on('reader', (e) => logger.info('reader', { name: e.name, change: e.change }));
  watcher.on('pcsc', (e) => logger.info('pcsc', { up: e.up }));

  const agent = createAgent({
    origins: config.CARDAUTH_AGENT_ORIGINS,
    waitMs: config.CARDAUTH_AGENT_WAIT_SEC * 1000,
    contactReaders: list(config.CARDAUTH_AGENT_CONTACT_READERS),
    identity,
    ...(identity.agentId ? {} : { enrollment: enrollmentSince(config.CARDAUTH_AGENT_DIR, identity.publicJwk) }),
    source: watcher,
    server: createServerClient(config.CARDAUTH_AGENT_SERVER),
    serverOrigin: config.CARDAUTH_AGENT_SERVER,
    clock,
    logger,
    ...(samePeer ? { samePeer } : {}),
  });

  const listen = (port: number) =>
    new Promise<Server>((resolve, reject) => {
      const s = agent.bridge.listen(port, config.CARDAUTH_AGENT_HOST);
      s.once('error', reject);
      s.once('listening', () => {
        s.off('error', reject);
        resolve(s);
      });
    });
  // A range (terminal servers: one agent per user session) takes the first free port.
  const { from, to } = config.CARDAUTH_AGENT_PORT;
  let server: Server | undefined;
  let lastError: unknown;
  for (let port = from; port <= to && !server; port++) {
    server = await listen(port).catch((err: unknown) => {
      lastError = err;
      return undefined;
    });
  }
  if (!server) {
    agent.close();
    await watcher.close();
    const where = `${config.CARDAUTH_AGENT_HOST}:${from === to ? from : `${from}-${to}`}`;
    throw new CardauthError('unavailable', `cannot listen on ${where} (${(lastError as NodeJS.ErrnoException)?.code ?? 'error'})`, { cause: lastError });
  }
  const bound = server;
  // After start-up a server error (rare: e.g. EMFILE on accept) is logged, not thrown at the process.
  bound.on('error', (err) => logger.error('agent_server_error', { err: errorMessage(err) }));
  const { port } = bound.address() as AddressInfo;
  const url = `http://${config.CARDAUTH_AGENT_HOST === '::1' ? '[::1]' : '127.0.0.1'}:${port}`;
  logger.info('agent_listening', { url, agentId: identity.agentId ?? null, fingerprint: identity.fingerprint, enrolled: Boolean(identity.agentId), sameUser: Boolean(samePeer) });
  if (!identity.agentId) logger.warn('agent_not_enrolled', { hint: 'run: cardauth agent enroll --server URL --name WORKSTATION (this agent takes it up without a restart)' });

  return {
    url,
    async close() {
      agent.close();
      bound.closeAllConnections();
      await new Promise<void>((resolve) => bound.close(() => resolve()));
      await watcher.close();
    },
  };
}
