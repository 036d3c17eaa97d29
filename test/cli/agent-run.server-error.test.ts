import { mkdtempSync, rmSync } from 'node:fs';
import { Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startAgent } from '../../src/card-agent/main';
import { loadAgentConfig } from '../../src/config';
import { freePort } from '../../dev/ports';

// `agent run`'s engine as it starts: the real pcsclite and reader watcher. No test pcscd runs
// behind this process's PC/SC socket (pcsc-client.ts), so the watcher sees the service as not
// available and keeps retrying.

describe('agent run: the bridge server after start-up', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'cardauth-agent-run-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('logs a later server error (e.g. EMFILE on accept) instead of crashing, and keeps serving', async () => {
    const logged: Array<[string, Record<string, unknown> | undefined]> = [];
    const log = (event: string, fields?: Record<string, unknown>) => void logged.push([event, fields]);
    const config = loadAgentConfig({
      CARDAUTH_AGENT_DIR: dir,
      CARDAUTH_AGENT_PORT: String(await freePort()),
      CARDAUTH_AGENT_ORIGINS: 'http://127.0.0.1:8080',
      CARDAUTH_AGENT_SERVER: 'http://127.0.0.1:9',
    });
    // The bridge server startAgent listens on (the only listen from here on).
    const servers: Server[] = [];
    const listen = jest.spyOn(Server.prototype, 'listen').mockImplementation(function (this: Server, ...args: unknown[]) {
      servers.push(this);
      listen.mockRestore();
      return (Server.prototype.listen as (...a: unknown[]) => Server).apply(this, args);
    });
    const agent = await startAgent({ config, logger: { info: log, warn: log, error: log }, clock: { now: () => Date.now() } });
    try {
      expect(servers).toHaveLength(1);
      const server = servers[0]!;
      // Without a permanent 'error' listener, an 'error' event throws: in the agent, an uncaught exception.
      // (Before the fix the start-up once('error') listener swallowed the first one, silently.)
      for (let i = 0; i < 2; i++) {
        expect(() => server.emit('error', Object.assign(new Error('accept EMFILE'), { code: 'EMFILE' }))).not.toThrow();
      }
      expect(logged.filter(([event]) => event === 'agent_server_error')).toEqual([
        ['agent_server_error', { err: 'Error: accept EMFILE' }],
        ['agent_server_error', { err: 'Error: accept EMFILE' }],
      ]);
      const res = await fetch(`${agent.url}/v1/status`, { headers: { origin: 'http://127.0.0.1:8080' } });
      expect(res.status).toBe(200);
    } finally {
      await agent.close();
    }
  });
});
