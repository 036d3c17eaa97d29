import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type Redis from 'ioredis';
import { auditRecords, lastAudit, withAuditUnusable } from '../helpers/audit';
import { startRedis, type TestRedis } from '../helpers/redis';
import { cliEnv, expectRefusedUnaudited, OS_ACTOR, oneErrorLine, runCli } from './support';

const UID = '04A22BB25C6180';
let redis: TestRedis;
let client: Redis;
let env: Record<string, string>;
let accountId: string;

beforeAll(async () => {
  redis = await startRedis();
  client = redis.client();
  env = cliEnv({ REDIS_URL: redis.url });
  const r = await runCli(['account', 'create', '--login', 'petrov', '--name', 'Петров П. П.', '--role', 'clinician', '--password-stdin'], { env, stdin: 'Пароль-сидоровой-1\n' });
  expect(r.code).toBe(0);
  accountId = r.lines[r.lines.length - 1] as string;
});
afterAll(async () => {
  await redis.stop();
});

const cards = async (login = 'petrov') => {
  const r = await runCli(['card', 'list', '--login', login, '--json'], { env });
  expect(r.code).toBe(0);
  return JSON.parse(r.stdout) as Array<Record<string, unknown>>;
};

describe('card bind, revoke, re-issue', () => {
  it('binds a UID given with colons and lower case, audited card.bound as os:<user>', async () => {
    const r = await runCli(['card', 'bind', '--login', 'PETROV', '--uid', '04:a2:2b:b2:5c:61:80', '--label', 'ЕКП'], { env });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(UID);
    expect(await cards()).toEqual([expect.objectContaining({ uid: UID, accountId, status: 'active', label: 'ЕКП', boundBy: OS_ACTOR })]);
    expect(await lastAudit(client, 'card.bound')).toMatchObject({ outcome: 'success', actor: OS_ACTOR, cardUid: UID, subject: { accountId, login: 'petrov' }, details: { label: 'ЕКП' } });
  });

  it('the same UID again: exit 1, card_bound', async () => {
    const r = await runCli(['card', 'bind', '--login', 'petrov', '--uid', UID], { env });
    expect(r.code).toBe(1);
    expect(oneErrorLine(r)).toMatch(/^cardauth: card_bound: /);
  });

  it("revokes with a reason, audited card.revoked with that reason and the owner's login", async () => {
    const r = await runCli(['card', 'revoke', '--uid', UID, '--reason', 'lost'], { env });
    expect(r.code).toBe(0);
    expect(await cards()).toEqual([expect.objectContaining({ uid: UID, status: 'revoked', revokeReason: 'lost', revokedBy: OS_ACTOR })]);
    expect(await lastAudit(client, 'card.revoked')).toMatchObject({ outcome: 'success', reason: 'lost', actor: OS_ACTOR, cardUid: UID, subject: { accountId, login: 'petrov' } });
  });

  it('revoking it again changes nothing but is no error (its sessions are swept again); a UID never bound is card_not_found', async () => {
    const records = (await auditRecords(client)).length;
    const r = await runCli(['card', 'revoke', '--uid', UID, '--reason', 'stolen'], { env });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`card ${UID} of ${accountId} was already revoked (lost); no open session`);
    expect(await cards()).toEqual([expect.objectContaining({ uid: UID, status: 'revoked', revokeReason: 'lost' })]);
    expect(await auditRecords(client)).toHaveLength(records);
    const unknown = await runCli(['card', 'revoke', '--uid', '04FEFEFEFEFEFE', '--reason', 'lost'], { env });
    expect(unknown.code).toBe(1);
    expect(oneErrorLine(unknown)).toMatch(/^cardauth: card_not_found: /);
  });

  it('a revoked card binds again only with --reissue-reason, audited card.reissued', async () => {
    const refused = await runCli(['card', 'bind', '--login', 'petrov', '--uid', UID], { env });
    expect(refused.code).toBe(1);
    expect(oneErrorLine(refused)).toMatch(/^cardauth: card_revoked: /);

    const r = await runCli(['card', 'bind', '--login', 'petrov', '--uid', UID, '--reissue-reason', 'карта нашлась'], { env });
    expect(r.code).toBe(0);
    expect(await cards()).toEqual([expect.objectContaining({ uid: UID, status: 'active', reissueReason: 'карта нашлась' })]);
    expect(await lastAudit(client, 'card.reissued')).toMatchObject({ actor: OS_ACTOR, cardUid: UID, details: { reissueReason: 'карта нашлась' } });
  });

  it('the table lists the card', async () => {
    const r = await runCli(['card', 'list', '--login', 'petrov'], { env });
    expect(r.code).toBe(0);
    expect(r.lines[0]).toMatch(/^UID\s+STATUS\s+LABEL\s+BOUND\s+BY\s+EXPIRES\s+REVOKED$/);
    expect(r.lines[1]).toMatch(new RegExp(`^${UID}\\s+active\\s`));
  });
});

describe('card bind --expires, replace, lost', () => {
  const OLD = '04C0C0C0C0C001';
  const NEW = '04C0C0C0C0C002';
  let sidorovId: string;
  beforeAll(async () => {
    const r = await runCli(['account', 'create', '--login', 'sidorov', '--name', 'Сидоров С. С.', '--role', 'clinician', '--password-stdin'], { env, stdin: 'Пароль-карты-врача-1\n' });
    expect(r.code).toBe(0);
    sidorovId = r.lines[r.lines.length - 1] as string;
    expect((await runCli(['card', 'bind', '--login', 'sidorov', '--uid', '04C0C0C0C0C0FF'], { env })).code).toBe(0);
  });

  it('bind --expires DATE stores the expiry (00:00 UTC of that day), shown by list and audited', async () => {
    const r = await runCli(['card', 'bind', '--login', 'sidorov', '--uid', OLD, '--expires', '2099-01-31'], { env });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('expires 2099-01-31T00:00:00Z');
    expect((await cards('sidorov')).find((c) => c.uid === OLD)).toMatchObject({ status: 'active', expiresAt: '2099-01-31T00:00:00Z' });
    expect(await lastAudit(client, 'card.bound')).toMatchObject({ cardUid: OLD, details: { expiresAt: '2099-01-31T00:00:00.000Z' } });
  });

  it('bind --expires refuses a date that does not exist (exit 2) or is past (exit 1, bad_request), binding nothing', async () => {
    const bad = await runCli(['card', 'bind', '--login', 'sidorov', '--uid', '04D0D0D0D0D001', '--expires', '2099-02-30'], { env });
    expect(bad.code).toBe(2);
    expect(oneErrorLine(bad)).toMatch(/^cardauth: card bind: --expires: "2099-02-30" is not a date/);
    const past = await runCli(['card', 'bind', '--login', 'sidorov', '--uid', '04D0D0D0D0D001', '--expires', '2020-01-01'], { env });
    expect(past.code).toBe(1);
    expect(oneErrorLine(past)).toMatch(/^cardauth: bad_request: /);
    expect(await client.exists('card:04D0D0D0D0D001')).toBe(0);
  });

  it('replace: at the card limit, the old card revoked (replaced) and the new one bound in one step, audited both ways', async () => {
    const r = await runCli(['card', 'replace', '--old', OLD, '--uid', NEW, '--label', 'новая'], { env: { ...env, CARDAUTH_MAX_CARDS_PER_ACCOUNT: '2' } });
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`replaced card ${OLD} of ${sidorovId} by ${NEW}; no open session\n`);
    const list = await cards('sidorov');
    expect(list.find((c) => c.uid === OLD)).toMatchObject({ status: 'revoked', revokeReason: 'replaced', replacedBy: NEW });
    expect(list.find((c) => c.uid === NEW)).toMatchObject({ status: 'active', label: 'новая', replaces: OLD });
    expect(await lastAudit(client, 'card.revoked')).toMatchObject({ actor: OS_ACTOR, reason: 'replaced', cardUid: OLD, details: expect.objectContaining({ replacedBy: NEW }) });
    expect(await lastAudit(client, 'card.bound')).toMatchObject({ actor: OS_ACTOR, cardUid: NEW, details: expect.objectContaining({ replaces: OLD }) });
  });

  it('replace refuses an old card that is not active (card_not_found) and a new card already bound (card_bound)', async () => {
    for (const [args, code] of [
      [['--old', OLD, '--uid', '04D0D0D0D0D002'], 'card_not_found'],
      [['--old', NEW, '--uid', UID], 'card_bound'],
    ] as const) {
      const r = await runCli(['card', 'replace', ...args], { env });
      expect(r.code).toBe(1);
      expect(oneErrorLine(r)).toMatch(new RegExp(`^cardauth: ${code}: `));
    }
    expect((await cards('sidorov')).find((c) => c.uid === NEW)).toMatchObject({ status: 'active' });
  });

  it('lost: --uid or --login (exactly one); the card is revoked as lost; a repeat only sweeps sessions', async () => {
    const neither = await runCli(['card', 'lost'], { env });
    expect(neither.code).toBe(2);
    expect(oneErrorLine(neither)).toMatch(/^cardauth: card lost: give --uid HEX or --login L/);
    const several = await runCli(['card', 'lost', '--login', 'sidorov'], { env });
    expect(several.code).toBe(1);
    expect(oneErrorLine(several)).toMatch(/^cardauth: bad_request: sidorov has 2 cards/);

    const r = await runCli(['card', 'lost', '--uid', NEW], { env });
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`card ${NEW} of ${sidorovId} reported lost and revoked; no open session\n`);
    expect(await lastAudit(client, 'card.revoked')).toMatchObject({ actor: OS_ACTOR, reason: 'lost', cardUid: NEW, subject: { accountId: sidorovId, login: 'sidorov' } });
    const again = await runCli(['card', 'lost', '--uid', NEW], { env });
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('was already revoked (lost)');
  });
});

describe('card import', () => {
  let dir: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'cardauth-import-'));
    const r = await runCli(['account', 'create', '--login', 'importee', '--name', 'Импортов И. И.', '--role', 'clinician', '--password-stdin'], { env, stdin: 'Пароль-из-файла-1\n' });
    expect(r.code).toBe(0);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const csvFile = (name: string, ...lines: string[]) => {
    const path = join(dir, name);
    writeFileSync(path, ['login;uid;label', ...lines].join('\r\n'));
    return path;
  };

  it('--dry-run prints each line with its fate and changes nothing; exit 1 with a bad line', async () => {
    const path = csvFile('dry.csv', 'importee;04F1F1F1F1F101;ЕКП', 'nobody;04F1F1F1F1F102;');
    const r = await runCli(['card', 'import', path, '--dry-run'], { env });
    expect(r.code).toBe(1);
    expect(r.lines[0]).toMatch(/^LINE\s+LOGIN\s+UID\s+FATE\s+DETAIL$/);
    expect(r.lines[1]).toMatch(/^2\s+importee\s+04F1F1F1F1F101\s+bind\s+-$/);
    expect(r.lines[2]).toMatch(/^3\s+nobody\s+04F1F1F1F1F102\s+unknown_login\s+-$/);
    expect(r.lines[3]).toBe('dry run (bind: 1, unknown_login: 1); nothing was changed');
    expect(await client.exists('card:04F1F1F1F1F101')).toBe(0);
  });

  it('the real run with a bad line lists the bad lines only, exit 1, nothing changed and nothing audited', async () => {
    const before = (await auditRecords(client)).length;
    const r = await runCli(['card', 'import', csvFile('bad.csv', 'importee;04F1F1F1F1F101;ЕКП', 'importee;08A1B2C3;')], { env });
    expect(r.code).toBe(1);
    expect(r.lines).toEqual([expect.stringMatching(/^LINE\s+LOGIN\s+UID\s+FATE\s+DETAIL$/), expect.stringMatching(/^3\s+importee\s+08A1B2C3\s+bad_uid\s+uid_random: /), 'nothing was changed: 1 bad line(s) (bind: 1, bad_uid: 1)']);
    expect(await client.exists('card:04F1F1F1F1F101')).toBe(0);
    expect(await auditRecords(client)).toHaveLength(before);
  });

  it('a clean file binds every card, exit 0, audited as os:<user>; --json gives the report', async () => {
    const path = csvFile('ok.csv', 'importee;04F1F1F1F1F101;ЕКП', 'importee;04F1F1F1F1F102;');
    const r = await runCli(['card', 'import', path], { env });
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('bound 2 card(s) (bind: 2)\n');
    expect(await cards('importee')).toHaveLength(2);
    expect(await lastAudit(client, 'card.imported')).toMatchObject({ actor: OS_ACTOR, details: expect.objectContaining({ file: path, bound: 2 }) });
    const again = await runCli(['card', 'import', path, '--json'], { env });
    expect(again.code).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({ committed: true, counts: { already_bound: 2 }, lines: [{ line: 2, fate: 'already_bound' }, { line: 3, fate: 'already_bound' }] });
  });

  it('a missing FILE or one that cannot be read: exit 2 naming it; a file without the header: exit 1, bad_request', async () => {
    const none = await runCli(['card', 'import'], { env });
    expect(none.code).toBe(2);
    expect(oneErrorLine(none)).toMatch(/^cardauth: card import: FILE: required/);
    const missing = await runCli(['card', 'import', join(dir, 'nope.csv')], { env });
    expect(missing.code).toBe(2);
    expect(oneErrorLine(missing)).toMatch(/nope\.csv: cannot read it \(ENOENT\)$/);
    const path = join(dir, 'noheader.csv');
    writeFileSync(path, 'importee;04F1F1F1F1F103;\n');
    const bad = await runCli(['card', 'import', path], { env });
    expect(bad.code).toBe(1);
    expect(oneErrorLine(bad)).toMatch(/^cardauth: bad_request: the first line must be the header/);
  });
});

describe('card fail', () => {
  it('refuses UIDs that cannot identify a card with exit 2, naming --uid and the uid code, before touching Redis', async () => {
    const before = (await auditRecords(client)).length;
    const cases: Array<[string, string]> = [
      ['08A1B2C3', 'uid_random'],
      ['04A22BB25C61', 'uid_length'],
      ['04A22BB25C618', 'uid_malformed'],
      ['zz', 'uid_malformed'],
    ];
    for (const [uid, code] of cases) {
      const r = await runCli(['card', 'bind', '--login', 'petrov', '--uid', uid], { env });
      expect(r.code).toBe(2);
      expect(oneErrorLine(r)).toMatch(new RegExp(`^cardauth: card bind: --uid: ${code}: `));
    }
    expect(await auditRecords(client)).toHaveLength(before);
  });

  it('an unknown revoke reason: exit 2 naming --reason', async () => {
    const r = await runCli(['card', 'revoke', '--uid', UID, '--reason', 'misplaced'], { env });
    expect(r.code).toBe(2);
    expect(oneErrorLine(r)).toMatch(/^cardauth: card revoke: --reason: "misplaced" is not a reason/);
    expect((await cards())[0]).toMatchObject({ status: 'active' });
  });

  it('an unknown login: exit 1, account_not_found', async () => {
    for (const args of [['card', 'bind', '--login', 'nobody', '--uid', '04112233'], ['card', 'list', '--login', 'nobody']]) {
      const r = await runCli(args, { env });
      expect(r.code).toBe(1);
      expect(oneErrorLine(r)).toMatch(/^cardauth: account_not_found: /);
    }
  });

  it('over CARDAUTH_MAX_CARDS_PER_ACCOUNT: exit 1, card_limit', async () => {
    const r = await runCli(['card', 'bind', '--login', 'petrov', '--uid', '04112233'], { env: { ...env, CARDAUTH_MAX_CARDS_PER_ACCOUNT: '1' } });
    expect(r.code).toBe(1);
    expect(oneErrorLine(r)).toMatch(/^cardauth: card_limit: /);
  });
});

describe('card error', () => {
  it('the audit trail is unusable: bind and revoke exit 1 saying nothing was changed, and change nothing', async () => {
    const before = await cards();
    const bind = await withAuditUnusable(client, () => runCli(['card', 'bind', '--login', 'petrov', '--uid', '04556677'], { env }));
    expectRefusedUnaudited(bind);
    expect(await client.exists('card:04556677')).toBe(0);
    const revoke = await withAuditUnusable(client, () => runCli(['card', 'revoke', '--uid', UID, '--reason', 'stolen'], { env }));
    expectRefusedUnaudited(revoke);
    expect(await cards()).toEqual(before);
    expect(before).toEqual([expect.objectContaining({ uid: UID, status: 'active' })]);
  });
});

describe('card unlock', () => {
  const LOCKED = '04F0F0F0F0F001';
  it("clears a card's failed attempts (its lock), audited card.unlocked with the actor, the account and before/after; nothing counted: nothing changed, not recorded; a card never bound: card_not_found", async () => {
    expect((await runCli(['card', 'bind', '--login', 'petrov', '--uid', LOCKED], { env })).code).toBe(0);
    // As the password step leaves it after 10 failures (CARDAUTH_CARD_LOCKOUT_ATTEMPTS' default).
    await client.set(`rl:card:${LOCKED}`, '10', 'PX', 3_600_000);
    const r = await runCli(['card', 'unlock', '--uid', LOCKED.toLowerCase()], { env });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`unlocked card ${LOCKED} of ${accountId}: 10 failed attempts cleared`);
    expect(await client.exists(`rl:card:${LOCKED}`)).toBe(0);
    expect(await lastAudit(client, 'card.unlocked')).toMatchObject({
      outcome: 'success',
      actor: OS_ACTOR,
      cardUid: LOCKED,
      subject: { accountId, login: 'petrov' },
      details: expect.objectContaining({ failures: 10, before: 'locked', after: 'unlocked', via: 'cli' }),
    });
    const records = (await auditRecords(client, 'card.unlocked')).length;
    const again = await runCli(['card', 'unlock', '--uid', LOCKED], { env });
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('nothing was changed');
    expect(await auditRecords(client, 'card.unlocked')).toHaveLength(records);
    const unknown = await runCli(['card', 'unlock', '--uid', '04F0F0F0F0F0FF'], { env });
    expect(unknown.code).not.toBe(0);
    expect(oneErrorLine(unknown)).toMatch(/card_not_found/);
  });
});
