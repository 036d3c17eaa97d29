import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type Redis from 'ioredis';
import { createAuditIndexer } from '../../src/audit/indexer';
import { createAuditLog } from '../../src/audit/log';
import { systemClock } from '../../src/clock';
import { parseAuditInput, recordHash, sealRecord, toStreamFields } from '../../src/audit/record';
import { startTestServer } from '../helpers/app';
import { auditRecords, lastAudit, withAuditUnusable } from '../helpers/audit';
import { startRedis, type TestRedis } from '../helpers/redis';
import { cliEnv, oneErrorLine, OS_ACTOR, runCli } from './support';

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
    expect(r.stdout).toBe(`audit chain broken: first broken record seq 3, id ${ids[2]}: a record deleted (seq_gap; 1 record intact before it)\n`);
    expect(r.stderr).toBe('');
    expect(await lastAudit(client, 'audit.verified')).toMatchObject({
      outcome: 'failure',
      reason: 'record_deleted',
      actor: OS_ACTOR,
      details: { count: 1, break: 'seq_gap', brokenId: ids[2], brokenSeq: 3 },
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
    expect(r.lines[0]).toBe(`audit chain broken: first broken record seq 5, id ${forgedId}: a record inserted (prev_mismatch; 4 records intact before it)`);
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
    expect(r.lines[0]).toBe(`audit chain broken: first broken record seq 1, id ${newIds[0]}: a record edited (hash_mismatch; 0 records intact before it)`);

    await client.xadd('audit:log', '*', 'r', '{not json', 'h', '0'.repeat(64));
    const damaged = await verifyCli();
    expect(damaged.code).toBe(1);
    expect(damaged.lines[0]).toMatch(/^audit chain broken: first broken record seq 1, /);
    expect(damaged.stderr).toMatch(/^cardauth: audit_unavailable: the chain was found broken, but its audit record \(audit\.verified\) could not be written/);
  });
});

describe('audit verify and audit list: stored text rewritten to the same value', () => {
  // JSON.parse reads each rewrite as the stored record; only the text gives it away.
  const rewrites: Array<[string, (json: string) => string]> = [
    ['extra whitespace', (json) => json.replace(/,"/g, ', "')],
    ['keys reordered', (json) => json.replace(/^\{("actor":"[^"]*"),(.*)\}$/, '{$2,$1}')],
    ['an escape for a plain letter', (json) => json.replace('"actor"', '"\\u0061ctor"')],
    ['a duplicate key whose first copy says another thing', (json) => json.replace('{', '{"actor":"os:someone-else",')],
  ];

  it('each is reported broken (hash_mismatch) by audit verify and shown as ALTERED by audit list', async () => {
    const entries = await client.xrange('audit:log', '-', '+');
    const json = (entries[1] as [string, string[]])[1][1] as string;
    for (const [name, rewrite] of rewrites) {
      const rewritten = rewrite(json);
      expect([name, rewritten]).not.toEqual([name, json]);
      expect(JSON.parse(rewritten)).toEqual(JSON.parse(json));
      // Rebuild the stream with record 2's text rewritten and its hash kept (a stream entry cannot be changed in place).
      await client.del('audit:log');
      const ids: string[] = [];
      for (const [i, [, f]] of entries.entries()) ids.push((await client.xadd('audit:log', '*', ...(i === 1 ? ['r', rewritten, 'h', f[3] as string] : f))) as string);

      const r = await verifyCli();
      expect([name, r.code, r.lines[0]]).toEqual([name, 1, `audit chain broken: first broken record seq 2, id ${ids[1]}: a record edited (hash_mismatch; 1 record intact before it)`]);
      const listed = await runCli(['audit', 'list'], { env });
      expect(listed.code).toBe(0);
      const hashColumn = listed.lines.slice(1).map((l) => [l.split(/\s+/)[1], l.split(/\s+/).pop()]);
      expect([name, hashColumn]).toEqual([name, [['1', 'ok'], ['2', 'ALTERED'], ['3', 'ok'], ['4', 'ok'], ['5', 'ok']]]);
    }
  });
});

describe('audit list', () => {
  const list = (...args: string[]) => runCli(['audit', 'list', ...args], { env });

  it('shows the records as a table, oldest first, and records the view as audit.viewed', async () => {
    const r = await list();
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.lines[0]).toMatch(/^TIME \(UTC\)\s+SEQ\s+EVENT\s+OUTCOME\s+LOGIN\s+CARD\s+WHERE\s+BY\s+HASH$/);
    expect(r.lines.slice(1).map((l) => l.split(/\s+/)[2])).toEqual(['account.created', 'card.bound', 'card.revoked', 'card.reissued']);
    expect(r.lines[3]).toContain('success: stolen');
    expect(r.lines.slice(1).every((l) => l.endsWith(' ok') && l.includes(OS_ACTOR))).toBe(true);
    expect(await lastAudit(client, 'audit.viewed')).toMatchObject({ seq: 5, outcome: 'success', actor: OS_ACTOR, details: { count: 4, filter: 'all', via: 'cli' } });
  });

  it('filters by a type family and a login; --limit keeps the newest; --json gives the records', async () => {
    const cards = await list('--type', 'card.*', '--login', 'SIDOROVA', '--json');
    expect(cards.code).toBe(0);
    const rows = JSON.parse(cards.stdout) as Array<{ id: string; intact: boolean; record: { type: string; seq: number } }>;
    expect(rows.map((e) => e.record.type)).toEqual(['card.bound', 'card.revoked', 'card.reissued']);
    expect(rows.every((e) => e.intact && /^\d+-\d+$/.test(e.id))).toBe(true);
    expect(await lastAudit(client, 'audit.viewed')).toMatchObject({ details: { count: 3, filter: 'type=card.* login=SIDOROVA' } });

    const newest = JSON.parse((await list('--limit', '2', '--json')).stdout) as Array<{ record: { seq: number } }>;
    expect(newest.map((e) => e.record.seq)).toEqual([4, 5]); // the view just recorded is the newest now
    expect((await list('--since', '2999-01-01')).lines).toEqual(['no audit records match']);
  });

  it('filters by account, workstation and IP, through the index and after it alike', async () => {
    const log = createAuditLog({ redis: client, clock: systemClock });
    const at = { workstation: 'РМ-7 Кабинет 3', ip: '10.1.1.7' };
    await log.append({ type: 'session.created', outcome: 'success', subject: { accountId: 'acc_k1', login: 'kuznetsova' }, source: at });
    while ((await createAuditIndexer({ redis: client }).step()) > 0);
    await log.append({ type: 'session.logout', outcome: 'success', subject: { accountId: 'acc_k1' }, source: { ...at, ip: '10.1.1.8' } }); // not indexed yet
    const types = async (...args: string[]) => ((JSON.parse((await list(...args, '--json')).stdout) as Array<{ record: { type: string } }>).map((e) => e.record.type));
    expect(await types('--account', 'acc_k1')).toEqual(['session.created', 'session.logout']);
    expect(await types('--workstation', 'РМ-7 Кабинет 3')).toEqual(['session.created', 'session.logout']);
    expect(await types('--ip', '10.1.1.7')).toEqual(['session.created']);
    expect(await types('--account', 'acc_k1', '--ip', '10.1.1.8')).toEqual(['session.logout']);
    expect(await lastAudit(client, 'audit.viewed')).toMatchObject({ details: { count: 1, filter: 'account=acc_k1 ip=10.1.1.8' } });
  });

  it('refuses bad filters by name (exit 2), and a trail it cannot record the view in (exit 1, nothing shown)', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['--type', 'card.lost'], /--type: "card\.lost" is not an audit event type/],
      [['--since', '2026-02-30'], /--since: "2026-02-30" is not a date/],
      [['--since', '2026-11-25T09:00'], /--since: .* is not a date .* with its offset/],
      [['--since', '2026-11-26', '--until', '2026-11-25'], /--until: must be later than --since/],
      [['--limit', '0'], /--limit: a whole number 1\.\.10000/],
      [['--outcome', 'maybe'], /--outcome: success or failure/],
      [['--agent', 'РМ-101'], /--agent: an agent id/],
    ];
    for (const [args, message] of cases) {
      const r = await list(...args);
      expect(r.code).toBe(2);
      expect(oneErrorLine(r)).toMatch(message);
    }
    const before = (await auditRecords(client)).length;
    const refused = await withAuditUnusable(client, () => list());
    expect(refused.code).toBe(1);
    expect(oneErrorLine(refused)).toMatch(/^cardauth: audit_unavailable: nothing was shown: the audit trail is not usable \(/);
    expect(refused.stdout).toBe('');
    expect(await auditRecords(client)).toHaveLength(before);
  });
});

/** Runs `fn` while Redis refuses writes (out of memory) but still answers reads. */
async function withWritesRefused<T>(fn: () => Promise<T>): Promise<T> {
  await client.config('SET', 'maxmemory-policy', 'noeviction');
  await client.config('SET', 'maxmemory', '1');
  try {
    return await fn();
  } finally {
    await client.config('SET', 'maxmemory', '0');
  }
}

describe('audit list, unusual trails', () => {
  it('a record damaged in Redis (a number where a login was) is still listed, marked ALTERED', async () => {
    const [[, fields]] = (await client.xrange('audit:log', '-', '+', 'COUNT', 1)) as [[string, string[]]];
    const damaged = { ...JSON.parse(fields[1]!), subject: { login: 42 } };
    await client.xadd('audit:log', '*', 'r', JSON.stringify(damaged), 'h', fields[3]!);
    const r = await runCli(['audit', 'list'], { env });
    expect(r.code).toBe(0);
    expect(r.lines[r.lines.length - 1]).toMatch(/account\.created\s+success\s+42\s.*ALTERED$/);
  });

  it('when its audit.viewed record cannot be written, nothing is shown (exit 1)', async () => {
    const r = await withWritesRefused(() => runCli(['audit', 'list'], { env }));
    expect(r.code).toBe(1);
    expect(oneErrorLine(r)).toMatch(/^cardauth: audit_unavailable: nothing was shown or written: this read of the audit trail could not be recorded/);
    expect(r.stdout).toBe('');
  });

  it("refuses a UID filter that holds no hex digits", async () => {
    const r = await runCli(['audit', 'list', '--uid', '::'], { env });
    expect(r.code).toBe(2);
    expect(oneErrorLine(r)).toMatch(/--uid: hex digits/);
  });
});

describe('audit export', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'cardauth-export-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));
  const exportTo = (...args: string[]) => runCli(['audit', 'export', ...args], { env });

  it('JSON lines: every record as stored, whose hashes check out from the file; mode 600; audited', async () => {
    const out = join(dir, 'audit.jsonl');
    const r = await exportTo('--out', out);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`exported 4 records to ${out}\n`);
    expect(statSync(out).mode & 0o777).toBe(0o600);
    const lines = readFileSync(out, 'utf8').trimEnd().split('\n').map((l) => JSON.parse(l) as { record: Record<string, unknown> & { hash: string } });
    expect(lines.map((l) => l.record.seq)).toEqual([1, 2, 3, 4]);
    for (const { record } of lines) {
      const { hash, ...body } = record;
      expect(recordHash(body)).toBe(hash);
    }
    expect(await lastAudit(client, 'audit.exported')).toMatchObject({ actor: OS_ACTOR, details: { count: 4, format: 'jsonl', file: out, filter: 'all' } });
  });

  it('a look-alike login planted through a no_card_step failure: \\u escapes in both files; the JSON lines still check out', async () => {
    const planted = 'sido\u200brova\u202e\u2066\u2069\ufeff';
    const srv = await startTestServer(redis);
    try {
      const c = srv.client();
      await c.post('/auth/nonce');
      expect((await c.post('/auth/password', { login: planted, password: 'Пароль-сидоровой-1' })).json.error.code).toBe('card_step_required');
    } finally {
      await srv.close();
    }
    expect(await lastAudit(client, 'password.checked')).toMatchObject({ reason: 'no_card_step', subject: { login: planted } });
    const INVISIBLE = /\p{Cf}/u;
    const shown = 'sido\\u200brova\\u202e\\u2066\\u2069\\ufeff';

    const jsonl = join(dir, 'audit.jsonl');
    expect((await exportTo('--out', jsonl)).code).toBe(0);
    const text = readFileSync(jsonl, 'utf8');
    expect(text).not.toMatch(INVISIBLE);
    expect(text).toContain(`"login":"${shown}"`);
    const records = text.trimEnd().split('\n').map((l) => (JSON.parse(l) as { record: Record<string, unknown> & { hash: string } }).record);
    expect(records[4]).toMatchObject({ type: 'password.checked', subject: { login: planted } });
    for (const { hash, ...body } of records) expect(recordHash(body)).toBe(hash);

    const csv = join(dir, 'audit.csv');
    expect((await exportTo('--out', csv, '--format', 'csv')).code).toBe(0);
    const sheet = readFileSync(csv, 'utf8');
    expect(sheet.startsWith('\ufeffИдентификатор записи;Номер;')).toBe(true);
    expect(sheet.slice(1)).not.toMatch(INVISIBLE);
    expect(sheet).toContain(`;password.checked;failure;no_card_step;;${shown};`);

    expect((await verifyCli()).lines[0]).toBe('audit chain intact: 7 records');
  });

  it('CSV for a spreadsheet: BOM, header, a row per matching record', async () => {
    const out = join(dir, 'revoked.csv');
    expect((await exportTo('--out', out, '--format', 'csv', '--type', 'card.revoked')).code).toBe(0);
    const text = readFileSync(out, 'utf8');
    expect(text.startsWith('\ufeffИдентификатор записи;Номер;Время (UTC);Событие;')).toBe(true);
    const rows = text.trimEnd().split('\r\n');
    expect(rows).toHaveLength(2);
    expect(rows[1]).toContain(';card.revoked;success;stolen;');
  });

  it('never overwrites a file (exit 2), writes nothing when the export cannot be recorded, and leaves no temp file', async () => {
    const out = join(dir, 'kept.jsonl');
    writeFileSync(out, 'mine\n');
    const r = await exportTo('--out', out);
    expect(r.code).toBe(2);
    expect(oneErrorLine(r)).toMatch(/--out: .*kept\.jsonl already exists/);
    expect(readFileSync(out, 'utf8')).toBe('mine\n');

    const fresh = join(dir, 'fresh.jsonl');
    const refused = await withAuditUnusable(client, () => exportTo('--out', fresh));
    expect(refused.code).toBe(1);
    expect(oneErrorLine(refused)).toMatch(/^cardauth: audit_unavailable: nothing was exported: the audit trail is not usable \(/);
    expect(readdirSync(dir)).toEqual(['kept.jsonl']);

    symlinkSync(join(dir, 'missing-target'), join(dir, 'dangling.jsonl'));
    const dangling = await exportTo('--out', join(dir, 'dangling.jsonl'));
    expect(dangling.code).toBe(2);
    expect(oneErrorLine(dangling)).toMatch(/dangling\.jsonl already exists/);

    const unrecorded = await withWritesRefused(() => exportTo('--out', fresh));
    expect(unrecorded.code).toBe(1);
    expect(oneErrorLine(unrecorded)).toMatch(/^cardauth: audit_unavailable: nothing was shown or written/);
    expect(readdirSync(dir).sort()).toEqual(['dangling.jsonl', 'kept.jsonl']);

    const nowhere = await exportTo('--out', join(dir, 'no-such-folder', 'a.jsonl'));
    expect(nowhere.code).toBe(2);
    expect(oneErrorLine(nowhere)).toMatch(/--out: cannot write .*ENOENT/);
    expect(await auditRecords(client, 'audit.exported')).toEqual([]);
  });
});
