import { execFile } from 'node:child_process';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { promisify } from 'node:util';
import { createBridge } from '../../src/card-agent/bridge';
import { peerUid } from '../../src/card-agent/peer-user';
import { TapBroker } from '../../src/card-agent/tap-broker';
import { silentLogger } from '../../src/logger';

const run = promisify(execFile);
const PAGE = 'http://127.0.0.1:8080';

// Terminal servers: users share 127.0.0.1, so an agent serves only its own user's browser.
describe('same-user bridge (Linux /proc/net/tcp)', () => {
  let server: Server;
  let url: string;
  const me = process.getuid!();
  beforeAll(async () => {
    const broker = new TapBroker({ clock: { now: () => Date.now() }, holdMs: 1000, isContactReader: () => false, presentCard: () => undefined });
    const app = createBridge({
      origins: [PAGE],
      waitMs: 100,
      broker,
      sign: async () => 'x',
      status: async () => ({ agentId: null, approved: null, pcscUp: true, readers: [] }),
      logger: silentLogger,
      now: () => Date.now(),
      samePeer: (socket) => peerUid(socket.remoteAddress, socket.remotePort) === me,
    });
    server = await new Promise((resolve) => {
      const s = app.listen(0, '127.0.0.1', () => resolve(s));
    });
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/status`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });

  const fetchAs = async (uid: number) => {
    const script = `fetch(${JSON.stringify(url)}, { headers: { origin: ${JSON.stringify(PAGE)} } }).then((r) => console.log(r.status), () => console.log('error'))`;
    const args = uid === me ? [process.execPath, '-e', script] : ['setpriv', `--reuid=${uid}`, `--regid=${uid}`, '--clear-groups', process.execPath, '-e', script];
    const { stdout } = await run(args[0]!, args.slice(1));
    return stdout.trim();
  };

  it("serves the agent's own user", async () => {
    expect(await fetchAs(me)).toBe('200');
  });

  it('refuses another user on the same machine with 403', async () => {
    expect(await fetchAs(65534)).toBe('403');
  });

  it('cannot tell anything of a connection that is not there', () => {
    expect(peerUid('127.0.0.1', 1)).toBeUndefined();
    expect(peerUid(undefined, undefined)).toBeUndefined();
  });
});
