import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type Redis from 'ioredis';
import { readPublicAuditKeys } from '../../src/audit/keys';
import { verifyRangeExport } from '../../src/audit/verify-export';
import { lastAudit } from '../helpers/audit';
import { startRedis, type TestRedis } from '../helpers/redis';
import { cliEnv, OS_ACTOR, runCli } from '../cli/support';

// One chain for the file: made once through the CLI against a real Redis; the checks read only the file.
let redis: TestRedis;
let client: Redis;
let dir: string;
let env: Record<string, string>;
let pub: string;
let exported: string;
let text: string;

beforeAll(async () => {
  redis = await startRedis();
  client = redis.client();
  dir = mkdtempSync(join(tmpdir(), 'cardauth-verify-export-'));
  env = cliEnv({ REDIS_URL: redis.url, CARDAUTH_AUDIT_KEYS_FILE: join(dir, 'keys.json') });
  const run = async (...args: string[]) => expect((await runCli(args, { env })).code).toBe(0);
  await run('audit', 'keys', 'init', '--out', join(dir, 'keys.json')); // seq 1
  await run('audit', 'verify'); // 2
  await run('audit', 'verify'); // 3
  await run('audit', 'checkpoint'); // at 3
  await run('audit', 'verify'); // 4
  await run('audit', 'verify'); // 5
  await run('audit', 'checkpoint'); // at 5
  await run('audit', 'verify'); // 6
  await run('audit', 'verify'); // 7
  await run('audit', 'checkpoint'); // at 7: the first after the range
  pub = join(dir, 'public.json');
  await run('audit', 'keys', 'export', '--file', join(dir, 'keys.json'), '--out', pub);
  exported = join(dir, 'range.jsonl');
  const r = await runCli(['audit', 'export', '--out', exported, '--from-seq', '2', '--to-seq', '6'], { env });
  expect(r.code).toBe(0);
  expect(r.stdout).toBe(`exported 5 records to ${exported}\n`);
  expect(await lastAudit(client, 'audit.exported')).toMatchObject({ actor: OS_ACTOR, details: { count: 5, format: 'jsonl', filter: 'seq=2..6' } });
  text = readFileSync(exported, 'utf8');
}, 120_000);
afterAll(async () => {
  await redis.stop();
  rmSync(dir, { recursive: true, force: true });
});

const keys = () => readPublicAuditKeys(pub).keys;
const lines = () => text.split('\n').slice(0, -1);
const withLines = (ls: string[]) => `${ls.join('\n')}\n`;
// No Redis at all for the offline verify.
const offlineEnv = () => cliEnv({ REDIS_URL: 'redis://127.0.0.1:1' });

describe('audit export --from-seq/--to-seq, then audit verify --file (offline)', () => {
  it('the file holds the range header, the records as stored, and the covering checkpoints (3 and 5 inside, 7 after)', async () => {
    const ls = lines();
    expect(JSON.parse(ls[0] as string)).toEqual({ cardauthAuditRange: 1, fromSeq: 2, toSeq: 6 });
    const stored = (await client.xrange('audit:log', '-', '+')).slice(1, 6).map(([, f]) => JSON.stringify({ r: f[1], h: f[3] }));
    expect(ls.slice(1, 6)).toEqual(stored);
    const cps = (await client.xrange('audit:checkpoints', '-', '+')).map(([, f]) => JSON.stringify({ checkpoint: f[1] }));
    expect(ls.slice(6)).toEqual(cps);
  });

  it('an exported range verifies offline with the exported public keys: exit 0, and the run is not audited (no Redis)', async () => {
    const before = await client.xlen('audit:log');
    const r = await runCli(['audit', 'verify', '--file', exported, '--keys', pub], { env: offlineEnv() });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.lines[0]).toBe('audit range intact: 5 records, seq 2..6 (the link of seq 2 to the record before it is not checked)');
    expect(r.lines[1]).toMatch(/^checkpoints: 3 verified, the last in the range at seq 5 \(.+Z, key .+\); 1 record after it unprotected$/);
    expect(await client.xlen('audit:log')).toBe(before);
    const json = await runCli(['audit', 'verify', '--file', exported, '--keys', pub, '--json'], { env: offlineEnv() });
    expect(JSON.parse(json.stdout)).toMatchObject({ ok: true, count: 5, fromSeq: 2, toSeq: 6, head: { seq: 6 }, checkpoints: { count: 3, last: { seq: 5 }, unprotected: 1 } });
  });

  it('a one-byte edit to a record\'s text fails: exit 1, naming the line, the seq and the kind', async () => {
    const ls = lines();
    ls[3] = (ls[3] as string).replace('audit.verified', 'audit.verifieD');
    const edited = join(dir, 'edited.jsonl');
    writeFileSync(edited, withLines(ls));
    const r = await runCli(['audit', 'verify', '--file', edited, '--keys', pub], { env: offlineEnv() });
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('audit chain broken: first broken record seq 4, line 4: a record edited (hash_mismatch; 2 records intact before it)\n');
  });

  it('every one-byte edit anywhere in the file fails verification (or is refused as no range export)', async () => {
    const bytes = Buffer.from(text, 'utf8');
    const passed: number[] = [];
    for (let i = 0; i < bytes.length; i++) {
      const b = Buffer.from(bytes);
      b[i] = b[i] === 0x41 ? 0x42 : 0x41; // 'A' or 'B': printable, so the edit survives as text
      try {
        if ((await verifyRangeExport(b.toString('utf8'), keys())).ok) passed.push(i);
      } catch (err) {
        expect(err).toMatchObject({ code: 'usage' }); // the first line edited
        expect(i).toBeLessThan((lines()[0] as string).length + 1);
      }
    }
    expect(passed).toEqual([]);
  }, 120_000);

  it('a forged checkpoint line (one byte of its signature) is checkpoint_forged; without --keys the checkpoints are not checked', async () => {
    const ls = lines();
    const cp = ls[6] as string;
    const at = cp.length - 5;
    ls[6] = `${cp.slice(0, at)}${cp[at] === 'A' ? 'B' : 'A'}${cp.slice(at + 1)}`;
    const r = await verifyRangeExport(withLines(ls), keys());
    expect(r).toMatchObject({ ok: false, firstBroken: { kind: 'checkpoint_forged', reason: 'bad_signature', seq: 3, checkpointId: 'line 7' } });
    expect(await verifyRangeExport(withLines(ls))).toMatchObject({ ok: true, count: 5 });
    // The signature's last character carries 4 spare bits: an edit there decodes to the same bytes, and still fails.
    const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const spare = lines();
    const jws = JSON.parse(spare[7] as string).checkpoint as string;
    const twin = `${jws.slice(0, -1)}${B64[B64.indexOf(jws.slice(-1)) ^ 1]}`;
    spare[7] = JSON.stringify({ checkpoint: twin });
    expect(await verifyRangeExport(withLines(spare), keys())).toMatchObject({ ok: false, firstBroken: { kind: 'record_edited', reason: 'malformed', id: 'line 8' } });
    expect(await verifyRangeExport(text)).not.toHaveProperty('checkpoints');
  });

  it('a deleted line: a middle record is record_deleted; the last record is tail_truncated (range_mismatch); a record past the range is record_inserted', async () => {
    const ls = lines();
    const without = (i: number) => withLines(ls.filter((_, j) => j !== i));
    expect(await verifyRangeExport(without(3), keys())).toMatchObject({ ok: false, count: 2, firstBroken: { kind: 'record_deleted', reason: 'seq_gap', seq: 5, id: 'line 4' } });
    expect(await verifyRangeExport(without(5), keys())).toMatchObject({ ok: false, count: 4, firstBroken: { kind: 'tail_truncated', reason: 'range_mismatch', seq: 6 } });
    // The records 5 and 6 cut: the checkpoint at 5 (now on line 6) shows it.
    const cut = [...ls.slice(0, 4), ...ls.slice(6)];
    expect(await verifyRangeExport(withLines(cut), keys())).toMatchObject({ ok: false, count: 3, firstBroken: { kind: 'tail_truncated', reason: 'head_before_checkpoint', seq: 5, checkpointId: 'line 6' } });
    const short = [ls[0]!.replace('"toSeq":6', '"toSeq":5'), ...ls.slice(1)];
    expect(await verifyRangeExport(withLines(short), keys())).toMatchObject({ ok: false, firstBroken: { kind: 'record_inserted', reason: 'range_mismatch', seq: 6 } });
  });

  it('a range ends at the head: --to-seq past it is cut to it; --from-seq past it is refused (exit 2)', async () => {
    const head = await client.xlen('audit:log');
    const out = join(dir, 'to-head.jsonl');
    expect((await runCli(['audit', 'export', '--out', out, '--from-seq', String(head), '--to-seq', '99999'], { env })).code).toBe(0);
    expect(JSON.parse(readFileSync(out, 'utf8').split('\n')[0] as string)).toEqual({ cardauthAuditRange: 1, fromSeq: head, toSeq: head });
    expect(await verifyRangeExport(readFileSync(out, 'utf8'), keys())).toMatchObject({ ok: true, count: 1 });
    const past = await runCli(['audit', 'export', '--out', join(dir, 'past.jsonl'), '--from-seq', '99999'], { env });
    expect(past.code).toBe(2);
    expect(past.stderr).toMatch(/--from-seq: past the head of the audit trail/);
  });

  it('a filtered export is refused (exit 2): it cannot be chain-checked; a range takes no filters', async () => {
    const filtered = join(dir, 'filtered.jsonl');
    expect((await runCli(['audit', 'export', '--out', filtered, '--type', 'audit.verified'], { env })).code).toBe(0);
    const r = await runCli(['audit', 'verify', '--file', filtered], { env: offlineEnv() });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/not a range export of cardauth audit export --from-seq \(no range on its first line: a filtered export cannot be chain-checked\)/);
    const both = await runCli(['audit', 'export', '--out', join(dir, 'both.jsonl'), '--from-seq', '2', '--type', 'audit.verified'], { env });
    expect(both.code).toBe(2);
    expect(both.stderr).toMatch(/take no filters/);
  });
});
