import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createCheckpointWriter } from '../../src/audit/checkpoint';
import { publicAuditJwks, writeAuditKeys } from '../../src/audit/keys';
import { createAuditLog } from '../../src/audit/log';
import { auditRecords } from '../helpers/audit';
import { startAclRedis, type AclRedis } from '../helpers/redis-acl';
import { cliEnv, oneErrorLine, runCli } from './support';

jest.setTimeout(60_000);

const DAY = 86_400_000;
let redis: AclRedis;
let dir: string;
let archives: string;
let keysFile: string;
let pub: string;

beforeAll(async () => {
  redis = await startAclRedis();
  dir = mkdtempSync(join(tmpdir(), 'cardauth-retain-'));
  archives = join(dir, 'archive');
  mkdirSync(archives);
  keysFile = join(dir, 'keys.json');
  const jwks = await writeAuditKeys(keysFile);
  pub = join(dir, 'public.json');
  writeFileSync(pub, JSON.stringify(publicAuditJwks(jwks)));
  // As the app user, dated by a clock set back: 3 records 30 days ago (then a checkpoint), 2 a day ago.
  let now = 0;
  const clock = { now: () => now };
  const app = redis.clientAs('cardauth');
  const log = createAuditLog({ redis: app, clock });
  for (const [daysAgo, count] of [[30, 3], [1, 2]] as const) {
    now = Date.now() - daysAgo * DAY;
    for (let i = 0; i < count; i++) await log.append({ type: 'session.created', outcome: 'success', subject: { login: `user${daysAgo}-${i}` } });
    if (daysAgo === 30) await createCheckpointWriter({ redis: app, clock, keys: jwks.keys }).write();
  }
});
afterAll(async () => {
  await redis.stop();
  rmSync(dir, { recursive: true, force: true });
});

const env = (extra: Record<string, string> = {}) =>
  cliEnv({ REDIS_URL: redis.urlAs('cardauth-archivist'), CARDAUTH_AUDIT_KEYS_FILE: keysFile, CARDAUTH_AUDIT_RETENTION_DAYS: '10', CARDAUTH_AUDIT_ARCHIVE_DIR: archives, ...extra });
const offline = () => cliEnv({ REDIS_URL: 'redis://127.0.0.1:1' });

describe('cardauth audit retain, as the archivist', () => {
  it('refuses with a usage error when CARDAUTH_AUDIT_RETENTION_DAYS is unset, and touches nothing', async () => {
    const r = await runCli(['audit', 'retain'], { env: env({ CARDAUTH_AUDIT_RETENTION_DAYS: '' }) });
    expect(r.code).toBe(2);
    expect(oneErrorLine(r)).toBe('cardauth: audit retain: CARDAUTH_AUDIT_RETENTION_DAYS is not set, so there is no retention; set it to the days records stay in Redis');
    expect(await redis.client().xlen('audit:log')).toBe(5);
  });

  it('refuses with a usage error while another run holds the archive folder\'s lock, and touches nothing', async () => {
    const lock = join(archives, '.audit-retain.lock');
    writeFileSync(lock, JSON.stringify({ pid: 1, time: new Date().toISOString() }));
    try {
      const r = await runCli(['audit', 'retain'], { env: env() });
      expect(r.code).toBe(2);
      expect(oneErrorLine(r)).toMatch(/^cardauth: audit retain: another run holds .*\/\.audit-retain\.lock \(since .+Z\); wait for it to end, or remove the file if no run is going$/);
      expect(await redis.client().xlen('audit:log')).toBe(5);
      expect(readdirSync(archives)).toEqual(['.audit-retain.lock']);
    } finally {
      rmSync(lock);
    }
  });

  it('archives the records older than 10 days, trims them; audit verify of the live chain passes from the anchor; the archive verifies offline, and one byte edited fails', async () => {
    const dry = await runCli(['audit', 'retain', '--dry-run'], { env: env() });
    expect(dry.stdout).toMatch(/^would archive 3 records \(seq 1\.\.3, older than .+Z\); nothing was written or trimmed\n$/);
    const r = await runCli(['audit', 'retain'], { env: env() });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const name = 'audit-000000000001-000000000003.jsonl.gz';
    expect(r.stdout).toMatch(new RegExp(`^archived 3 records \\(seq 1\\.\\.3, older than .+Z\\) to ${join(archives, name)}, sha256 [0-9a-f]{64}; read back and verified, anchored, and trimmed from Redis \\(3 records\\)\\n$`));
    expect(readdirSync(archives).sort()).toEqual([name, `${name}.jws`]);
    expect((await auditRecords(redis.client())).map((x) => x.seq)).toEqual([4, 5, 6]);
    expect(await auditRecords(redis.client(), 'audit.archived')).toEqual([expect.objectContaining({ outcome: 'success', details: expect.objectContaining({ archive: name, fromSeq: 1, toSeq: 3, count: 3 }) })]);

    const v = await runCli(['audit', 'verify'], { env: env() });
    expect(v.code).toBe(0);
    expect(v.lines[0]).toBe('audit chain intact: 6 records');
    expect(v.lines[2]).toMatch(new RegExp(`^anchored: seq 1\\.\\.3 archived in ${name} \\(sha256 [0-9a-f]{64}\\); the chain links to it$`));

    const path = join(archives, name);
    const off = await runCli(['audit', 'verify', '--file', path, '--keys', pub], { env: offline() });
    expect(off.stderr).toBe('');
    expect(off.code).toBe(0);
    expect(off.lines[0]).toMatch(/^audit archive intact: 3 records, seq 1\.\.3, sealed .+Z by key .+ \(sha256 [0-9a-f]{64}; records before .+Z; the first links to 0{64}\)$/);
    expect(off.lines[1]).toBe('checkpoints: 1 verified, the last in the archive at seq 3');

    const edited = join(dir, name);
    const bytes = readFileSync(path);
    bytes[Math.floor(bytes.length / 2)] ^= 0x01;
    writeFileSync(edited, bytes);
    copyFileSync(`${path}.jws`, `${edited}.jws`);
    const bad = await runCli(['audit', 'verify', '--file', edited, '--keys', pub], { env: offline() });
    expect(bad.code).toBe(1);
    expect(bad.stdout).toBe('audit archive not intact: its bytes are not the ones sealed (SHA-256 differs)\n');

    const noKeys = await runCli(['audit', 'verify', '--file', path], { env: offline() });
    expect(noKeys.code).toBe(2);
    expect(oneErrorLine(noKeys)).toMatch(/an archive is checked against its signed seal: give --keys PUBLIC_JWKS/);
  });
});
