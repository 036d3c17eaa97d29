import { createServer, type Server, type Socket } from 'node:net';
import { CONTACTLESS_STORAGE_ATR, createVirtualCard, defaultResponse } from '../../dev/vpcd-card';

const hex = (s: string) => Buffer.from(s.replace(/\s/g, ''), 'hex');
const frame = (payload: Buffer) => Buffer.concat([Buffer.from([payload.length >> 8, payload.length & 0xff]), payload]);

describe('virtual card default answers', () => {
  const uid = hex('04A22BB25C6180');
  it('GET DATA with Le 00 or the UID length answers UID + 90 00', () => {
    expect(defaultResponse(hex('FFCA000000'), uid)).toEqual(hex('04A22BB25C6180 9000'));
    expect(defaultResponse(hex('FFCA000007'), uid)).toEqual(hex('04A22BB25C6180 9000'));
    expect(defaultResponse(hex('FFCA0000'), uid)).toEqual(hex('04A22BB25C6180 9000'));
  });
  it('a smaller Le gets 6C <length>, a larger one UID + 62 82', () => {
    expect(defaultResponse(hex('FFCA000004'), uid)).toEqual(hex('6C07'));
    expect(defaultResponse(hex('FFCA00000A'), uid)).toEqual(hex('04A22BB25C6180 6282'));
  });
  it('other P1/P2, INS and CLA get 6A 81, 6D 00 and 6E 00', () => {
    expect(defaultResponse(hex('FFCA010000'), uid)).toEqual(hex('6A81'));
    expect(defaultResponse(hex('FFB0000010'), uid)).toEqual(hex('6D00'));
    expect(defaultResponse(hex('00A4040000'), uid)).toEqual(hex('6E00'));
  });
});

describe('virtual card wire protocol (against a stand-in for the vpcd driver)', () => {
  let server: Server;
  let driver: Promise<Socket>;
  let port: number;

  beforeEach(async () => {
    server = createServer();
    driver = new Promise((resolve) => server.once('connection', resolve));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as { port: number }).port;
  });
  afterEach(() => new Promise<void>((r) => server.close(() => r())));

  /** Collects framed messages from the card. */
  const reader = (sock: Socket) => {
    let buf = Buffer.alloc(0);
    const msgs: Buffer[] = [];
    const waiters: Array<() => void> = [];
    sock.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      while (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
        msgs.push(buf.subarray(2, 2 + buf.readUInt16BE(0)));
        buf = buf.subarray(2 + buf.readUInt16BE(0));
      }
      waiters.splice(0).forEach((w) => w());
    });
    return async (n: number) => {
      while (msgs.length < n) await new Promise<void>((r) => waiters.push(r));
      return msgs.slice(0, n);
    };
  };

  it('answers get-ATR, ignores power codes, answers APDUs; frames split across packets are reassembled', async () => {
    const card = await createVirtualCard({ port, uid: '04:A2:2B:B2' });
    const sock = await driver;
    const messages = reader(sock);
    sock.write(frame(hex('01'))); // power on: no answer
    sock.write(frame(hex('04'))); // get ATR
    const apdu = frame(hex('FFCA000000'));
    sock.write(apdu.subarray(0, 3));
    await new Promise((r) => setTimeout(r, 20));
    sock.write(Buffer.concat([apdu.subarray(3), frame(hex('00')), frame(hex('04'))]));
    const got = await messages(3);
    expect(got[0]).toEqual(hex(CONTACTLESS_STORAGE_ATR));
    expect(got[1]).toEqual(hex('04A22BB2 9000'));
    expect(got[2]).toEqual(hex(CONTACTLESS_STORAGE_ATR));
    expect(card.uid).toBe('04A22BB2');
    expect(card.apdus).toEqual(['FFCA000000']);
    await card.remove();
  });

  it('respond overrides answers (even a 1-byte one); undefined falls back to the default', async () => {
    const card = await createVirtualCard({ port, uid: '04A22BB2', respond: (a) => (a[4] === 0 ? Uint8Array.of(0x90) : undefined) });
    const sock = await driver;
    const messages = reader(sock);
    sock.write(Buffer.concat([frame(hex('FFCA000000')), frame(hex('FFCA000004'))]));
    expect(await messages(2)).toEqual([hex('90'), hex('04A22BB2 9000')]);
    await card.remove();
  });

  it('remove() closes the connection (the driver sees the card go)', async () => {
    const card = await createVirtualCard({ port, uid: '04A22BB2' });
    const sock = await driver;
    const ended = new Promise((r) => sock.once('close', r));
    await card.remove();
    await ended;
  });

  it('rejects when vpcd is not listening, and refuses bad options with TypeError', async () => {
    await new Promise<void>((r) => server.close(() => r()));
    server = createServer(); // for afterEach
    await expect(createVirtualCard({ port, uid: '04A22BB2' })).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    expect(() => createVirtualCard({ port, uid: 'xyz' })).toThrow(TypeError);
    expect(() => createVirtualCard({ uid: '04A22BB2' })).toThrow(TypeError);
  });
});
