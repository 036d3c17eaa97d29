import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startAgent } from '../../src/card-agent/main';
import { loadAgentConfig } from '../../src/config';
import { freePort } from '../../dev/ports';
import { silentLogger } from '../../src/logger';
import { statusAsUser } from '../helpers/as-user';

// The agent as `agent run` starts it (real pcsclite; no test pcscd behind this
// process's PC/SC socket, so the watcher just keeps retrying), with the
// settings a workstation gets when it sets only what it must.
const PAGE = 'http://127.0.0.1:8080';

describe('the agent with default settings on Linux', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'cardauth-agent-main-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const start = async (env: Record<string, string> = {}) =>
    startAgent({
      config: loadAgentConfig({ CARDAUTH_AGENT_DIR: dir, CARDAUTH_AGENT_PORT: String(await freePort()), CARDAUTH_AGENT_ORIGINS: PAGE, CARDAUTH_AGENT_SERVER: 'http://127.0.0.1:9', ...env }),
      logger: silentLogger,
      clock: { now: () => Date.now() },
    });

  it("serves its own OS user and refuses another one's (terminal servers share 127.0.0.1) with 403", async () => {
    const agent = await start();
    try {
      expect(await statusAsUser(process.getuid!(), `${agent.url}/v1/status`, PAGE)).toBe('200');
      expect(await statusAsUser(65534, `${agent.url}/v1/status`, PAGE)).toBe('403');
    } finally {
      await agent.close();
    }
  });

  it('CARDAUTH_AGENT_SAME_USER=false serves another OS user too', async () => {
    const agent = await start({ CARDAUTH_AGENT_SAME_USER: 'false' });
    try {
      expect(await statusAsUser(65534, `${agent.url}/v1/status`, PAGE)).toBe('200');
    } finally {
      await agent.close();
    }
  });
});
