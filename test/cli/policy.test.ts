import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cliEnv, oneErrorLine, runCli } from './support';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'cardauth-policy-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The JSON `policy show --json` prints, as a map of key → row. */
async function shown(env: Record<string, string>, file?: string) {
  const r = await runCli([...(file ? ['--config', file] : []), 'policy', 'show', '--json'], { env: cliEnv(env) });
  expect(r.code).toBe(0);
  const policy = JSON.parse(r.stdout);
  return { ...policy, byKey: Object.fromEntries(policy.values.map((v: { key: string }) => [v.key, v])) };
}

describe('cardauth policy show', () => {
  it('with nothing set: the fstec-2026 profile, every value from the profile; needs no Redis', async () => {
    const r = await runCli(['policy', 'show'], { env: cliEnv() });
    expect(r.code).toBe(0);
    expect(r.lines[0]).toBe('profile fstec-2026 (from default)');
    expect(r.lines[1]).toMatch(/^KEY +VALUE +FROM +PROFILE +FLOOR +BELOW$/);
    expect(r.lines.slice(2).map((l) => l.split(/ +/).slice(0, 5))).toEqual([
      ['CARDAUTH_PASSWORD_MIN_LENGTH', '12', 'profile', '12', '>='],
      ['CARDAUTH_PASSWORD_MIN_ALPHABET', '70', 'profile', '70', '>='],
      ['CARDAUTH_PASSWORD_MAX_AGE_DAYS', '90', 'profile', '90', '<='],
      ['CARDAUTH_PASSWORD_HISTORY', '24', 'profile', '24', '>='],
      ['CARDAUTH_LOCKOUT_ATTEMPTS', '5', 'profile', '5', '<='],
      ['CARDAUTH_LOCKOUT_WINDOW_SEC', '900', 'profile', '900', '>='],
      ['CARDAUTH_LOCKOUT_DURATION_SEC', '900', 'profile', '900', '>='],
    ]);
  });

  it('says where each value came from: the profile, the file or the environment', async () => {
    const file = join(dir, 'k3.json');
    writeFileSync(file, JSON.stringify({ CARDAUTH_POLICY_PROFILE: 'fstec-2014-k3', CARDAUTH_PASSWORD_MIN_LENGTH: 8 }));
    const p = await shown({ CARDAUTH_LOCKOUT_ATTEMPTS: '4' }, file);
    expect([p.profile, p.profileSource, p.allowBelowProfile]).toEqual(['fstec-2014-k3', 'file', false]);
    expect(p.byKey.CARDAUTH_PASSWORD_MIN_LENGTH).toEqual({ key: 'CARDAUTH_PASSWORD_MIN_LENGTH', value: 8, source: 'file', profileValue: 6, floor: 6, bound: 'min', belowProfile: false });
    expect(p.byKey.CARDAUTH_LOCKOUT_ATTEMPTS).toMatchObject({ value: 4, source: 'env', floor: 10, bound: 'max' });
    expect(p.byKey.CARDAUTH_PASSWORD_MAX_AGE_DAYS).toMatchObject({ value: 180, source: 'profile' });
  });

  it('a value below the floor is refused as at start, and shown as below when CARDAUTH_ALLOW_BELOW_PROFILE is set', async () => {
    const refused = await runCli(['policy', 'show'], { env: cliEnv({ CARDAUTH_PASSWORD_HISTORY: '3' }) });
    expect(refused.code).toBe(2);
    expect(oneErrorLine(refused)).toMatch(/^cardauth: config_invalid: CARDAUTH_PASSWORD_HISTORY: 3 is below the least profile fstec-2026 allows \(24\)/);
    const p = await shown({ CARDAUTH_PASSWORD_HISTORY: '3', CARDAUTH_ALLOW_BELOW_PROFILE: 'true' });
    expect(p.byKey.CARDAUTH_PASSWORD_HISTORY).toMatchObject({ value: 3, source: 'env', belowProfile: true });
    const table = await runCli(['policy', 'show'], { env: cliEnv({ CARDAUTH_PASSWORD_HISTORY: '3', CARDAUTH_ALLOW_BELOW_PROFILE: 'true' }) });
    expect(table.lines[0]).toBe('profile fstec-2026 (from default); CARDAUTH_ALLOW_BELOW_PROFILE is set');
    expect(table.lines.find((l) => l.startsWith('CARDAUTH_PASSWORD_HISTORY'))).toMatch(/ yes$/);
  });
});
