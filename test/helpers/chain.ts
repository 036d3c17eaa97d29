import { startTestAgent, type TestAgentProcess } from './agent';
import { startTestServer, type TestServer } from './app';
import { startPcscd, type TestPcscd } from './pcscd';
import { freePort, startRedis, type TestRedis } from './redis';

/** The whole chain of an end-to-end suite, really started. */
export interface TestChain {
  pcscd: TestPcscd;
  redis: TestRedis;
  srv: TestServer;
  agent: TestAgentProcess;
}

/**
 * Starts, for the suite, pcscd with the virtual reader (private namespaces),
 * Redis, the server (told the agent's URL) and the enrolled, approved card
 * agent; `ready` then seeds what the suite needs. Stopped after the suite.
 *
 * @example
 * let chain: TestChain;
 * suiteChain({ serverEnv: { CARDAUTH_IP_ATTEMPTS: '1000' } }, async (c) => {
 *   chain = c;
 *   await c.srv.account('ivanova', 'Пароль-1', '04A22BB25C6180');
 * });
 */
export function suiteChain(opts: { serverEnv?: Record<string, string>; agentEnv?: Record<string, string> }, ready: (chain: TestChain) => Promise<void> | void): void {
  const c: Partial<TestChain> = {};
  beforeAll(async () => {
    c.pcscd = await startPcscd();
    c.redis = await startRedis();
    const agentPort = await freePort();
    c.srv = await startTestServer(c.redis, { env: { CARDAUTH_AGENT_URL: `http://127.0.0.1:${agentPort}`, ...opts.serverEnv } });
    c.agent = await startTestAgent(c.srv, { port: agentPort, ...(opts.agentEnv ? { env: opts.agentEnv } : {}) });
    await ready(c as TestChain);
  });
  afterAll(async () => {
    await c.agent?.close();
    await c.srv?.close();
    await c.pcscd?.stop();
    await c.redis?.stop();
  });
}
