import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createBridge } from '../../src/card-agent/bridge';
import { peerUid, sameUserCheck } from '../../src/card-agent/peer-user';
import { TapBroker } from '../../src/card-agent/tap-broker';
import { silentLogger } from '../../src/logger';
import { statusAsUser } from '../helpers/as-user';

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

  const fetchAs = (uid: number) => statusAsUser(uid, url, PAGE);

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

describe('CARDAUTH_AGENT_SAME_USER on each OS', () => {
  const logged = () => {
    const lines: Array<[string, Record<string, unknown> | undefined]> = [];
    return { lines, warn: (event: string, fields?: Record<string, unknown>) => void lines.push([event, fields]) };
  };
  const linux = { platform: 'linux' as const, uid: 1000 };
  const windows = { platform: 'win32' as const, uid: undefined };

  it('auto and true check the user where the OS can tell (Linux); false does not', () => {
    const log = logged();
    expect(sameUserCheck('auto', log, linux)).toEqual(expect.any(Function));
    expect(sameUserCheck(true, log, linux)).toEqual(expect.any(Function));
    expect(sameUserCheck(false, log, linux)).toBeUndefined();
    expect(log.lines).toEqual([]);
  });

  it('auto where the OS cannot tell (Windows): no check, and a warning that names the risk', () => {
    const log = logged();
    expect(sameUserCheck('auto', log, windows)).toBeUndefined();
    expect(log.lines).toEqual([['agent_same_user_unchecked', expect.objectContaining({ platform: 'win32', risk: expect.stringContaining('another OS user') })]]);
  });

  it('true where the OS cannot tell: the agent does not start (config_invalid)', () => {
    expect(() => sameUserCheck(true, logged(), windows)).toThrow(expect.objectContaining({ code: 'config_invalid' }));
  });

  it('false where the OS cannot tell: no check, no warning', () => {
    const log = logged();
    expect(sameUserCheck(false, log, windows)).toBeUndefined();
    expect(log.lines).toEqual([]);
  });
});

