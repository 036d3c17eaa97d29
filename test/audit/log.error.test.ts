import Redis from 'ioredis';
import { isCardauthError } from '../../src/errors';
import { createAuditLog } from '../../src/audit/log';
import { canonicalJson, fromStreamFields, parseAuditInput, sealRecordFields, sha256Hex, type AuditEvent } from '../../src/audit/record';
import { verifyAuditChain } from '../../src/audit/verify';
import { startRedis, type TestRedis } from '../helpers/redis';

const clock = { now: () => Date.parse('2026-03-01T08:00:00.000Z') };
const logout = { type: 'session.logout', outcome: 'success' } as const;

/** The rejection of `p`, or 'resolved'. */
const rejectionOf = (p: Promise<unknown>) => p.then(
  () => 'resolved',
  (e: unknown) => e,
);

let redis: TestRedis;
beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  await redis.stop();
});

describe('audit log append error', () => {
  it('rejects with audit_unavailable when the key is not a stream, writes nothing, and recovers after DEL', async () => {
    const client = redis.client();
    await client.set('audit:wrongtype', 'x');
    const log = createAuditLog({ redis: client, clock, key: 'audit:wrongtype' });
    const err = await rejectionOf(log.append(logout));
    expect(isCardauthError(err, 'audit_unavailable')).toBe(true);
    expect((err as Error).cause).toBeInstanceOf(Error);
    expect((err as { status: number }).status).toBe(503);
    expect(isCardauthError(await rejectionOf(log.head()), 'audit_unavailable')).toBe(true);
    expect(await client.get('audit:wrongtype')).toBe('x');

    await client.del('audit:wrongtype');
    expect(await log.append(logout)).toMatchObject({ seq: 1 });
  });

  it('fails inside the compare-and-append too (a log that already knows its head)', async () => {
    const client = redis.client();
    const log = createAuditLog({ redis: client, clock, key: 'audit:swapped' });
    await log.append(logout);
    await client.del('audit:swapped');
    await client.set('audit:swapped', 'x');
    expect(isCardauthError(await rejectionOf(log.append(logout)), 'audit_unavailable')).toBe(true);
    expect(await client.get('audit:swapped')).toBe('x');
    await client.del('audit:swapped');
    expect(await log.append(logout)).toMatchObject({ seq: 1 });
    expect(await verifyAuditChain({ redis: client, key: 'audit:swapped' })).toMatchObject({ ok: true, count: 1 });
  });

  it('fails closed when another node chained its intake entry as another event (a node that does not know the event)', async () => {
    const client = redis.client();
    const other = redis.client();
    const key = 'audit:foreign';
    const log = createAuditLog({ redis: client, clock, key });
    await log.append(logout);
    const leave = (login: string) => other.xadd(`${key}:intake`, '*', 'r', JSON.stringify({ ...logout, subject: { login }, ts: '2026-03-01T07:59:00.000Z' }));
    await leave('f1'); // the try is refused (f1 waits)
    const command = client as unknown as Record<string, (...args: unknown[]) => Promise<unknown>>;
    const script = command.cardauthAuditAppend!;
    command.cardauthAuditAppend = async (...args: unknown[]) => {
      if (args[4] === 'seal') await leave('f2'); // the seal is refused too: ours goes into the intake
      if (args[4] === 'chain') {
        // Before our compare, a node of another version chains the intake, ours (the last entry) as audit.intake_rejected.
        const [[, headFields]] = (await other.xrevrange(key, '+', '-', 'COUNT', 1)) as [[string, string[]]];
        const head = fromStreamFields(headFields);
        if (!head.ok) throw new Error('unreadable head');
        let at = { seq: head.seq, hash: head.hash };
        const entries = await other.xrange(`${key}:intake`, '-', '+');
        for (const [i, [id, fields]] of entries.entries()) {
          const { ts, ...event } = JSON.parse(fields[1]!) as AuditEvent & { ts: string };
          const chained = i < entries.length - 1 ? event : parseAuditInput({ type: 'audit.intake_rejected', outcome: 'failure', reason: 'unreadable_entry', details: { entry: id, sha256: sha256Hex(canonicalJson(fields)) } });
          const { record, fields: sealed } = sealRecordFields(chained, { seq: at.seq + 1, prev: at.hash, ts, intake: id });
          await other.xadd(key, '*', ...sealed);
          at = record;
        }
      }
      return script.apply(client, args);
    };
    const err = await rejectionOf(log.append({ type: 'session.created', outcome: 'success', subject: { login: 'mine' } }));
    command.cardauthAuditAppend = script;
    expect(isCardauthError(err, 'audit_unavailable')).toBe(true);
    expect((err as Error).message).toMatch(/chained as another event/);
    expect(await verifyAuditChain({ redis: client, key })).toMatchObject({ ok: true, count: 4 });
    // the log goes on from the chain as it is
    expect(await log.append(logout)).toMatchObject({ seq: 5 });
  });

  it('refuses to extend a chain whose last entry is not a readable record', async () => {
    const client = redis.client();
    await client.xadd('audit:garbage', '*', 'r', '{not json', 'h', '0'.repeat(64));
    const log = createAuditLog({ redis: client, clock, key: 'audit:garbage' });
    expect(isCardauthError(await rejectionOf(log.append(logout)), 'audit_unavailable')).toBe(true);
    expect(await client.xlen('audit:garbage')).toBe(1);
  });

  it('rejects every queued append with audit_unavailable while Redis is down, then works again with the same client', async () => {
    // configured as the server configures its client: fail fast, no offline queue
    const client = new Redis({ host: '127.0.0.1', port: redis.port, enableOfflineQueue: false, maxRetriesPerRequest: 1 });
    client.on('error', () => undefined);
    try {
      await new Promise((resolve) => client.once('ready', resolve));
      const log = createAuditLog({ redis: client, clock, key: 'audit:down' });
      const first = await log.append(logout);

      await redis.kill();
      const errs = await Promise.all([1, 2, 3].map(() => rejectionOf(log.append(logout))));
      for (const err of errs) expect(isCardauthError(err, 'audit_unavailable')).toBe(true);
      expect(isCardauthError(await rejectionOf(log.head()), 'audit_unavailable')).toBe(true);

      await redis.start();
      if (client.status !== 'ready') await new Promise((resolve) => client.once('ready', resolve));
      // nothing was written while down; the chain continues from the record before
      expect(await log.append(logout)).toMatchObject({ seq: 2, prev: first.hash });
      expect(await verifyAuditChain({ redis: client, key: 'audit:down' })).toMatchObject({ ok: true, count: 2 });
    } finally {
      client.disconnect();
    }
  });
});

describe('audit log append refuses a bad input (TypeError), writing nothing', () => {
  it('refuses an extra key such as password, and an overlong reason', async () => {
    const client = redis.client();
    const log = createAuditLog({ redis: client, clock, key: 'audit:input' });
    const withPassword = { ...logout, password: 'hunter2hunter2' };
    await expect(log.append(withPassword as never)).rejects.toBeInstanceOf(TypeError);
    await expect(log.append({ type: 'password.checked', outcome: 'failure', reason: 'x'.repeat(65) })).rejects.toBeInstanceOf(TypeError);
    expect(await client.exists('audit:input')).toBe(0);
  });
  it('throws TypeError at construction without a client or clock', () => {
    expect(() => createAuditLog({ redis: {} as never, clock })).toThrow(TypeError);
    expect(() => createAuditLog({ redis: redis.client(), clock: undefined as never })).toThrow(TypeError);
  });
});
