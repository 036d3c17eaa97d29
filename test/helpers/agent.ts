import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadAgentConfig } from '../../src/config';
import { loadOrCreateIdentity, saveEnrollment } from '../../src/card-agent/keystore';
import { startAgent } from '../../src/card-agent/main';
import { createServerClient } from '../../src/card-agent/server-client';
import type { Logger } from '../../src/logger';
import { silentLogger } from '../../src/logger';
import { freePort } from './redis';

export interface TestAgentProcess {
  url: string;
  agentId: string;
  origin: string;
  close(): Promise<void>;
}

type AgentOpts = { env?: Record<string, string>; logger?: Logger; port?: number };

/** The server an agent enrolls with: the in-process test server, or `cardauth serve` with its stores. */
export interface AgentServer {
  url: string;
  config: { CARDAUTH_PUBLIC_ORIGIN: string };
  services: { agents: { approve(id: string, by: string): Promise<unknown> } };
}

/** startAgent (as `agent run` starts it) on the agent folder `dir`, for the test server; close() also removes `dir`. */
async function runAgent(srv: AgentServer, dir: string, opts: AgentOpts): Promise<{ url: string; origin: string; close(): Promise<void> }> {
  const origin = srv.config.CARDAUTH_PUBLIC_ORIGIN;
  const port = opts.port ?? (await freePort());
  const config = loadAgentConfig({
    CARDAUTH_AGENT_DIR: dir,
    CARDAUTH_AGENT_PORT: String(port),
    CARDAUTH_AGENT_ORIGINS: origin,
    CARDAUTH_AGENT_SERVER: srv.url,
    CARDAUTH_AGENT_DEBOUNCE_MS: '200',
    ...opts.env,
  });
  const agent = await startAgent({ config, logger: opts.logger ?? silentLogger, clock: { now: () => Date.now() } });
  return {
    url: agent.url,
    origin,
    async close() {
      await agent.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * The real card agent entry point (startAgent: real pcsclite against the
 * test pcscd, whose socket the pcscd helper put in the environment), enrolled
 * with the test server over HTTP and approved by an officer.
 */
export async function startTestAgent(srv: AgentServer, opts: AgentOpts = {}): Promise<TestAgentProcess> {
  const dir = mkdtempSync(join(tmpdir(), 'cardauth-agent-'));
  const identity = await loadOrCreateIdentity(dir);
  const enrolled = await createServerClient(srv.url).enroll('РМ-e2e', identity.publicJwk);
  saveEnrollment(dir, { agentId: enrolled.id, server: srv.url });
  await srv.services.agents.approve(enrolled.id, 'os:officer');
  return { ...(await runAgent(srv, dir, opts)), agentId: enrolled.id };
}

/**
 * The same agent, started before anyone enrolled it: `dir` is its
 * CARDAUTH_AGENT_DIR, where `cardauth agent enroll` may write while it runs.
 */
export async function startUnenrolledAgent(srv: AgentServer, opts: AgentOpts = {}): Promise<{ url: string; origin: string; dir: string; close(): Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'cardauth-agent-'));
  return { ...(await runAgent(srv, dir, opts)), dir };
}
