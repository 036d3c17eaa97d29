import type Redis from 'ioredis';
import { parseAuditInput, sealRecord, toStreamFields } from '../../src/audit/record';
import { lastAudit } from '../helpers/audit';
import { startRedis, type TestRedis } from '../helpers/redis';
import { cliEnv, OS_ACTOR, runCli } from './support';

let redis: TestRedis;
let client: Redis;
let env: Record<string, string>;

beforeEach(async () => {
  redis = await startRedis();
  client = redis.client();
  env = cliEnv({ REDIS_URL: redis.url });
  // Four audited changes: account.created, card.bound, card.revoked, card.reissued.
  const steps = [
    ['account', 'create', '--login', 'sidorova', '--name', 'Сидорова', '--role', 'clinician', '--password-stdin'],
    ['card', 'bind', '--login', 'sidorova', '--uid', '04A22BB25C6180'],
    ['card', 'revoke', '--uid', '04A22BB25C6180', '--reason', 'stolen'],
    ['card', 'bind', '--login', 'sidorova', '--uid', '04A22BB25C6180', '--reissue-reason', 'вернули'],
  ];
  for (const args of steps) expect((await runCli(args, { env, stdin: 'Пароль-сидоровой-1\n' })).code).toBe(0);
});
afterEach(async () => {
  await redis.stop();
});

const verifyCli = () => runCli(['audit', 'verify'], { env });

describe('audit verify success', () => {
  it('an intact chain: exit 0, "audit chain intact: N records", and the run is audited', async () => {
    const r = await verifyCli();
    expect(r.code).toBe(0);
    expect(r.lines[0]).toBe('audit chain intact: 4 records');
    const [, fourth] = (await client.xrange('audit:log', '-', '+'))[3] as [string, string[]];
    expect(r.lines[1]).toBe(`head: seq 4, hash ${fourth[3]}`);
    expect(await lastAudit(client, 'audit.verified')).toMatchObject({ seq: 5, outcome: 'success', actor: OS_ACTOR, details: { count: 4, headSeq: 4 } });

    const again = await verifyCli();
    expect(again.lines[0]).toBe('audit chain intact: 5 records');
  });
});

describe('audit verify fail', () => {
  it('a middle record deleted (XDEL): exit 1 naming the first broken record, audited as a failure', async () => {
    const ids = (await client.xrange('audit:log', '-', '+')).map(([id]) => id);
    expect(await client.xdel('audit:log', ids[1] as string)).toBe(1);
    const r = await verifyCli();
    expect(r.code).toBe(1);
    expect(r.stdout).toBe(`audit chain broken: first broken record seq 3, id ${ids[2]}, reason seq_gap (1 record intact before it)\n`);
    expect(r.stderr).toBe('');
    expect(await lastAudit(client, 'audit.verified')).toMatchObject({
      outcome: 'failure',
      reason: 'seq_gap',
      actor: OS_ACTOR,
      details: { count: 1, brokenId: ids[2], brokenSeq: 3 },
    });
  });

  it('a forged record appended by hand (made-up prev): exit 1, prev_mismatch at the forgery', async () => {
    const forged = sealRecord(parseAuditInput({ type: 'session.created', outcome: 'success', subject: { accountId: 'acc_intruder' } }), {
      seq: 5,
      prev: 'f'.repeat(64),
      ts: new Date().toISOString(),
    });
    const forgedId = await client.xadd('audit:log', '*', ...toStreamFields(forged));
    const r = await verifyCli();
    expect(r.code).toBe(1);
    expect(r.lines[0]).toBe(`audit chain broken: first broken record seq 5, id ${forgedId}, reason prev_mismatch (4 records intact before it)`);
  });

  it('an edited record: hash_mismatch; and a damaged head that cannot be chained onto is reported on stderr, still exit 1', async () => {
    const entries = await client.xrange('audit:log', '-', '+');
    const [id, fields] = entries[0] as [string, string[]];
    const body = JSON.parse(fields[1] as string) as Record<string, unknown>;
    // Rewrite the stream with record 1 edited (a stream entry cannot be changed in place).
    const copy = entries.map(([, f], i) => (i === 0 ? ['r', JSON.stringify({ ...body, actor: 'os:someone-else' }), 'h', f[3] as string] : f));
    await client.del('audit:log');
    const newIds: string[] = [];
    for (const f of copy) newIds.push((await client.xadd('audit:log', '*', ...f)) as string);
    expect(id).not.toBe(newIds[0]);
    const r = await verifyCli();
    expect(r.code).toBe(1);
    expect(r.lines[0]).toBe(`audit chain broken: first broken record seq 1, id ${newIds[0]}, reason hash_mismatch (0 records intact before it)`);

    await client.xadd('audit:log', '*', 'r', '{not json', 'h', '0'.repeat(64));
    const damaged = await verifyCli();
    expect(damaged.code).toBe(1);
    expect(damaged.lines[0]).toMatch(/^audit chain broken: first broken record seq 1, /);
    expect(damaged.stderr).toMatch(/^cardauth: audit_unavailable: the chain was found broken, but its audit record \(audit\.verified\) could not be written/);
  });
});
