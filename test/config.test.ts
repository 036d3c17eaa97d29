import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import express from 'express';
import { configSources, loadAgentConfig, loadServerConfig, loadServerConfigSubset, ROLE_NAMES, STORE_KEYS, type Env } from '../src/config';
import { ROLES } from '../src/store/accounts';
import { CardauthError } from '../src/errors';

const LONG = 'a-session-secret-of-32-characters';
const OTHER = 'another-secret-of-32-characters!';
const BASE = { REDIS_URL: 'redis://127.0.0.1:6379', CARDAUTH_PUBLIC_ORIGIN: 'http://127.0.0.1:8080', CARDAUTH_SESSION_SECRET: LONG };

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'cardauth-config-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A config file holding `text` as is. */
function configFile(name: string, text: string): string {
  const file = join(dir, name);
  writeFileSync(file, text);
  return file;
}

/** The error loadServerConfig refuses `env` (and `file`) with (fails the test if it accepts it). */
function refusal(env: Env, file?: string, load: (env: Env, file?: string) => unknown = loadServerConfig): CardauthError {
  try {
    load(env, file);
  } catch (e) {
    expect(e).toBeInstanceOf(CardauthError);
    return e as CardauthError;
  }
  throw new Error('the config was accepted');
}

/** One config_invalid line that starts with `key`. */
function expectRefused(env: Env, key: string, file?: string, load?: (env: Env, file?: string) => unknown): CardauthError {
  const err = refusal(env, file, load);
  expect(err.code).toBe('config_invalid');
  expect(err.message.startsWith(`${key}: `)).toBe(true);
  expect(err.message).not.toContain('\n');
  return err;
}

describe('CARDAUTH_SESSION_SECRET', () => {
  it('a list of long secrets loads, in order: the first signs, all verify', () => {
    expect(LONG).toHaveLength(33);
    expect(OTHER).toHaveLength(32);
    expect(loadServerConfig({ ...BASE, CARDAUTH_SESSION_SECRET: `${OTHER},${LONG}` }).CARDAUTH_SESSION_SECRET).toEqual([OTHER, LONG]);
  });

  it.each([
    ['a short single secret', 'x'.repeat(31)],
    ['a short first secret before a long one', `x,${LONG}`],
    ['a short secret after a long one', `${LONG},${'y'.repeat(31)}`],
    ['an empty entry between two', `${LONG},,${OTHER}`],
    ['a trailing comma', `${LONG},`],
  ])('%s is refused, naming the key and never echoing a secret', (_name, value) => {
    const err = expectRefused({ ...BASE, CARDAUTH_SESSION_SECRET: value }, 'CARDAUTH_SESSION_SECRET');
    for (const part of value.split(',').filter(Boolean)) expect(err.message).not.toContain(part);
  });
});

describe('an https CARDAUTH_PUBLIC_ORIGIN', () => {
  const https = { ...BASE, CARDAUTH_PUBLIC_ORIGIN: 'https://mis.example.ru' };

  it.each([
    ['unset', {}],
    ['empty', { CARDAUTH_TRUST_PROXY: '' }],
    ['0 hops', { CARDAUTH_TRUST_PROXY: '0' }],
    ['0 hops written 00', { CARDAUTH_TRUST_PROXY: '00' }],
  ])('without a trusted proxy (%s) is refused, naming CARDAUTH_TRUST_PROXY and the origin', (_name, env) => {
    const err = expectRefused({ ...https, ...env }, 'CARDAUTH_TRUST_PROXY');
    expect(err.message).toContain('CARDAUTH_PUBLIC_ORIGIN');
  });

  it.each([
    ['1', 1],
    ['loopback', 'loopback'],
  ])('with CARDAUTH_TRUST_PROXY=%s loads', (trust, parsed) => {
    const config = loadServerConfig({ ...https, CARDAUTH_TRUST_PROXY: trust });
    expect(config.CARDAUTH_PUBLIC_ORIGIN).toBe('https://mis.example.ru');
    expect(config.CARDAUTH_TRUST_PROXY).toBe(parsed);
  });

  it('an http origin needs no trusted proxy', () => {
    expect(loadServerConfig(BASE).CARDAUTH_TRUST_PROXY).toBe(false);
  });
});

describe('CARDAUTH_TRUST_PROXY', () => {
  /** Whether the app trusts a proxy at `addr` as hop `hop` (0 is the one nearest the server). */
  const trusts = (value: number | string, addr: string, hop: number) => {
    const app = express();
    app.set('trust proxy', value);
    return (app.get('trust proxy fn') as (addr: string, hop: number) => boolean)(addr, hop);
  };

  it.each<[string, number | string, string, string]>([
    ['2', 2, '198.51.100.9', '198.51.100.9'],
    ['02', 2, '198.51.100.9', '198.51.100.9'],
    ['loopback', 'loopback', '127.0.0.1', '192.0.2.7'],
    ['10.0.0.0/8, loopback', '10.0.0.0/8, loopback', '10.1.2.3', '11.1.2.3'],
    ['192.0.2.7', '192.0.2.7', '192.0.2.7', '192.0.2.8'],
    ['fd00::/8,127.0.0.1', 'fd00::/8,127.0.0.1', 'fd00::1', '::1'],
  ])('%p loads as the value Express takes, and Express trusts what it names', (trust, parsed, trusted, untrusted) => {
    const value = loadServerConfig({ ...BASE, CARDAUTH_TRUST_PROXY: trust }).CARDAUTH_TRUST_PROXY;
    expect(value).toBe(parsed);
    if (value === false) throw new Error('parsed as trusting none');
    expect(trusts(value, trusted, 0)).toBe(true);
    // A hop count trusts any address, up to that many hops; a list trusts only what it names.
    expect(trusts(value, untrusted, typeof value === 'number' ? value : 0)).toBe(false);
  });

  it.each(['', '0', '00'])('%p loads as false, trusting none, as Express does by default', (trust) => {
    expect(loadServerConfig({ ...BASE, CARDAUTH_TRUST_PROXY: trust }).CARDAUTH_TRUST_PROXY).toBe(false);
    expect(express().get('trust proxy')).toBe(false);
  });

  it.each(['true', 'proxy.example.ru', '10.0.0.0/33', '10.0.0.1/8/8', 'loopback,,'])('%p is refused at load, naming the key (Express would throw at start)', (trust) => {
    expectRefused({ ...BASE, CARDAUTH_TRUST_PROXY: trust }, 'CARDAUTH_TRUST_PROXY');
  });
});

describe('CARDAUTH_WORKSTATION_IP_EXEMPT', () => {
  it('is empty by default: every card step is checked against its workstation', () => {
    expect(loadServerConfig(BASE).CARDAUTH_WORKSTATION_IP_EXEMPT).toEqual([]);
  });

  it('loads addresses and CIDR ranges, trimmed', () => {
    expect(loadServerConfig({ ...BASE, CARDAUTH_WORKSTATION_IP_EXEMPT: ' 10.20.0.0/16, 192.0.2.7 ,2001:db8::/32' }).CARDAUTH_WORKSTATION_IP_EXEMPT).toEqual(['10.20.0.0/16', '192.0.2.7', '2001:db8::/32']);
  });

  it.each(['loopback', '10.0.0.0/33', '10.0.0.1/8/8', 'ws-12.clinic.local', '10.0.0/8'])('%p is refused, naming the key and the entry', (v) => {
    expect(expectRefused({ ...BASE, CARDAUTH_WORKSTATION_IP_EXEMPT: v }, 'CARDAUTH_WORKSTATION_IP_EXEMPT').message).toContain(`"${v}" is not an IP address or a CIDR range`);
  });
});

describe('number keys', () => {
  it.each(['0x50', '1e3', '5.0', '-1', '+80', ' 80', '80 ', '65536', '1_000'])('CARDAUTH_PORT=%p is refused, naming the key and the range', (port) => {
    const err = expectRefused({ ...BASE, CARDAUTH_PORT: port }, 'CARDAUTH_PORT');
    expect(err.message).toContain('must be a whole number from 0 to 65535');
  });

  it.each([
    ['an empty', ''],
    ['a blank', ' '],
  ])('%s CARDAUTH_PORT is refused as set but empty, not taken as port 0', (_name, port) => {
    const err = expectRefused({ ...BASE, CARDAUTH_PORT: port }, 'CARDAUTH_PORT');
    expect(err.message).toBe('CARDAUTH_PORT: is set but empty in the environment; unset it or give it a value');
  });

  it('a whole number below the minimum is refused with the range', () => {
    const err = expectRefused({ ...BASE, CARDAUTH_MAX_CARDS_PER_ACCOUNT: '0' }, 'CARDAUTH_MAX_CARDS_PER_ACCOUNT');
    expect(err.message).toBe('CARDAUTH_MAX_CARDS_PER_ACCOUNT: must be a whole number from 1 to 20 (got "0")');
  });
});

describe('CARDAUTH_AUDIT_RETENTION_DAYS', () => {
  const load = (v?: string) => loadServerConfigSubset(['CARDAUTH_AUDIT_RETENTION_DAYS'], v === undefined ? {} : { CARDAUTH_AUDIT_RETENTION_DAYS: v }).CARDAUTH_AUDIT_RETENTION_DAYS;
  it('is unset by default (no retention), empty too; a number of days loads', () => {
    expect(load()).toBeUndefined();
    expect(load('')).toBeUndefined();
    expect(load('1095')).toBe(1095);
  });
  it('0, past 36500 days or not a number is refused with the range', () => {
    for (const v of ['0', '36501', '30d']) expect(() => load(v)).toThrow(/^CARDAUTH_AUDIT_RETENTION_DAYS: must be empty \(no retention\) or a whole number of days from 1 to 36500/);
  });
});

describe('empty values', () => {
  it('an exported empty variable does not silently hide the config file; where empty is the documented value, it keeps that meaning', () => {
    const file = configFile('ports.json', JSON.stringify({ CARDAUTH_PORT: 9090, CARDAUTH_AGENT_PORTS: '47800-47831' }));
    expect(loadServerConfig(BASE, file).CARDAUTH_PORT).toBe(9090);
    const err = expectRefused({ ...BASE, CARDAUTH_PORT: '' }, 'CARDAUTH_PORT', file);
    expect(err.message).toContain('is set but empty in the environment');
    // CARDAUTH_AGENT_PORTS: empty means "use CARDAUTH_AGENT_URL", so an empty variable still overrides the file.
    expect(loadServerConfig({ ...BASE, CARDAUTH_AGENT_PORTS: '' }, file).CARDAUTH_AGENT_PORTS).toBeNull();
  });

  it('an empty value in the config file is refused, naming the key and the file', () => {
    const file = configFile('empty-host.json', JSON.stringify({ CARDAUTH_HOST: '' }));
    expect(expectRefused(BASE, 'CARDAUTH_HOST', file).message).toBe(`CARDAUTH_HOST: is set but empty in ${file}`);
  });

  it.each(['CARDAUTH_PUBLIC_ORIGIN', 'REDIS_URL', 'CARDAUTH_SESSION_SECRET', 'CARDAUTH_DEMO', 'CARDAUTH_HOST'])('an empty %s is refused as set but empty', (key) => {
    expect(expectRefused({ ...BASE, [key]: '' }, key).message).toContain(': is set but empty in the environment');
  });

  it('a required key that is missing says where to set it', () => {
    const { REDIS_URL: _unset, ...noRedis } = BASE;
    expect(expectRefused(noRedis, 'REDIS_URL').message).toBe('REDIS_URL: required, not set (set it in the environment or in --config FILE; see `cardauth config table`)');
  });
});

describe('a config file that is not valid JSON', () => {
  const SECRET = 'k8Jd93hsKq-very-secret-value-of-32-chars';

  it('is refused without quoting the file: the parser quotes the text around the mistake, a secret included', () => {
    const file = configFile('unquoted.json', `{\n  "REDIS_URL": "redis://127.0.0.1:6379",\n  "CARDAUTH_SESSION_SECRET": ${SECRET}\n}\n`);
    const err = refusal({}, file);
    expect(err.code).toBe('config_invalid');
    expect(err.message).toBe(`config file ${file}: not valid JSON`);
    expect(err.message).not.toContain('k8Jd');
  });

  it('says the line and column when the parser gives a position', () => {
    const file = configFile('trailing-comma.json', `{\n  "CARDAUTH_SESSION_SECRET": "${SECRET}",\n}\n`);
    const err = refusal({}, file);
    expect(err.message).toBe(`config file ${file}: not valid JSON at line 3 column 1`);
  });

  it.each([
    ['empty', '', 'is empty, not a JSON object'],
    ['cut short', `{"CARDAUTH_SESSION_SECRET": "${SECRET}`, 'not valid JSON'],
  ])('%s: says so, without the text', (_name, text, said) => {
    const file = configFile('short.json', text);
    const err = refusal({}, file);
    expect(err.message.startsWith(`config file ${file}: ${said}`)).toBe(true);
    expect(err.message).not.toContain('k8Jd');
    expect(err.message).not.toContain('JSON input');
  });
});

describe('a config file saved with a UTF-8 byte-order mark (Windows Notepad)', () => {
  it('is read like one without', () => {
    const file = configFile('bom.json', `\uFEFF${JSON.stringify(BASE)}`);
    expect(loadServerConfig({}, file).REDIS_URL).toBe(BASE.REDIS_URL);
  });
});

describe('CARDAUTH_SESSION_IDLE_SEC and CARDAUTH_SESSION_MAX_SEC', () => {
  it.each([
    ['900', '900'],
    ['3600', '600'],
  ])('idle %s with max %s is refused, naming both keys', (idle, max) => {
    const err = expectRefused({ ...BASE, CARDAUTH_SESSION_IDLE_SEC: idle, CARDAUTH_SESSION_MAX_SEC: max }, 'CARDAUTH_SESSION_IDLE_SEC');
    expect(err.message).toContain('must be less than CARDAUTH_SESSION_MAX_SEC');
    expect(err.message).toContain(`(got ${idle} and ${max})`);
  });

  it('an idle time above the default max is refused, an idle time below a given max loads', () => {
    expectRefused({ ...BASE, CARDAUTH_SESSION_IDLE_SEC: '86400' }, 'CARDAUTH_SESSION_IDLE_SEC');
    const config = loadServerConfig({ ...BASE, CARDAUTH_SESSION_IDLE_SEC: '86400', CARDAUTH_SESSION_MAX_SEC: '86401' });
    expect([config.CARDAUTH_SESSION_IDLE_SEC, config.CARDAUTH_SESSION_MAX_SEC]).toEqual([86400, 86401]);
  });
});

describe('per-role session keys', () => {
  it('load role=value lists; a role left out keeps its default', () => {
    const config = loadServerConfig({ ...BASE, CARDAUTH_SESSION_LIMITS: 'clinician=2, auditor=1', CARDAUTH_SESSION_IDLE_SEC_BY_ROLE: 'chief_admin=300', CARDAUTH_SESSION_MAX_SEC_BY_ROLE: '' });
    expect(config.CARDAUTH_SESSION_LIMITS).toEqual({ clinician: 2, auditor: 1 });
    expect(config.CARDAUTH_SESSION_IDLE_SEC_BY_ROLE).toEqual({ chief_admin: 300 });
    expect(config.CARDAUTH_SESSION_MAX_SEC_BY_ROLE).toEqual({});
    expect(loadServerConfig(BASE).CARDAUTH_SESSION_LIMITS).toEqual({ clinician: 1, security_officer: 2, auditor: 2, chief_admin: 2 });
  });

  it.each([
    ['CARDAUTH_SESSION_LIMITS', 'nurse=1', '"nurse" is not a role'],
    ['CARDAUTH_SESSION_LIMITS', 'clinician=0', 'clinician: must be a whole number from 1 to 100'],
    ['CARDAUTH_SESSION_LIMITS', 'clinician', 'clinician: must be a whole number'],
    ['CARDAUTH_SESSION_LIMITS', 'clinician=1,clinician=2', 'clinician: given twice'],
    ['CARDAUTH_SESSION_IDLE_SEC_BY_ROLE', 'auditor=5', 'auditor: must be a whole number from 10 to 86400'],
    ['CARDAUTH_SESSION_MAX_SEC_BY_ROLE', 'auditor=1e3', 'auditor: must be a whole number from 60'],
  ])('%s=%s is refused by key name and role', (key, value, says) => {
    const err = expectRefused({ ...BASE, [key]: value }, key);
    expect(err.message).toContain(says);
  });

  it("a role's lifetime above CARDAUTH_SESSION_MAX_SEC, or its idle lock not below its lifetime, is refused", () => {
    expect(expectRefused({ ...BASE, CARDAUTH_SESSION_MAX_SEC_BY_ROLE: 'clinician=50000' }, 'CARDAUTH_SESSION_MAX_SEC_BY_ROLE').message).toContain('clinician: must be at most CARDAUTH_SESSION_MAX_SEC');
    const err = expectRefused({ ...BASE, CARDAUTH_SESSION_MAX_SEC_BY_ROLE: 'auditor=600' }, 'CARDAUTH_SESSION_IDLE_SEC_BY_ROLE');
    expect(err.message).toContain('auditor: its idle lock (900 s, from CARDAUTH_SESSION_IDLE_SEC) must be less than its lifetime (600 s, from CARDAUTH_SESSION_MAX_SEC_BY_ROLE)');
    expect(loadServerConfig({ ...BASE, CARDAUTH_SESSION_MAX_SEC_BY_ROLE: 'auditor=600', CARDAUTH_SESSION_IDLE_SEC_BY_ROLE: 'auditor=300' }).CARDAUTH_SESSION_MAX_SEC_BY_ROLE).toEqual({ auditor: 600 });
  });
});

describe('several bad keys', () => {
  it('are all reported at once, one line each, and a cross-key check only on keys good on their own', () => {
    const file = configFile('two-bad.json', JSON.stringify({ CARDAUTH_PORT: 'eighty', CARDAUTH_TYPO: '1' }));
    const err = refusal({ ...BASE, CARDAUTH_PUBLIC_ORIGIN: 'not-an-origin', CARDAUTH_SESSION_IDLE_SEC: 'x', CARDAUTH_SESSION_MAX_SEC: '60' }, file);
    expect(err.code).toBe('config_invalid');
    expect(err.message.split('\n').map((l) => l.split(':')[0])).toEqual(['CARDAUTH_TYPO', 'CARDAUTH_PORT', 'CARDAUTH_PUBLIC_ORIGIN', 'CARDAUTH_SESSION_IDLE_SEC']);
  });
});

describe('policy profiles', () => {
  const policy = (c: Record<string, unknown>) => ({
    length: c.CARDAUTH_PASSWORD_MIN_LENGTH,
    alphabet: c.CARDAUTH_PASSWORD_MIN_ALPHABET,
    maxAgeDays: c.CARDAUTH_PASSWORD_MAX_AGE_DAYS,
    history: c.CARDAUTH_PASSWORD_HISTORY,
    attempts: c.CARDAUTH_LOCKOUT_ATTEMPTS,
    windowSec: c.CARDAUTH_LOCKOUT_WINDOW_SEC,
    durationSec: c.CARDAUTH_LOCKOUT_DURATION_SEC,
  });

  it('fstec-2026 is the default: 12 characters, alphabet 70, 5 failures lock for 15 min, a change every 90 days, none of the last 24 again', () => {
    const config = loadServerConfig(BASE);
    expect(config.CARDAUTH_POLICY_PROFILE).toBe('fstec-2026');
    expect(policy(config)).toEqual({ length: 12, alphabet: 70, maxAgeDays: 90, history: 24, attempts: 5, windowSec: 900, durationSec: 900 });
    expect(configSources(config)?.CARDAUTH_PASSWORD_MIN_LENGTH).toBe('profile');
    expect(configSources(config)?.CARDAUTH_POLICY_PROFILE).toBe('default');
  });

  it('fstec-2014-k3 sets its own values: 6 characters, alphabet 30, a change every 180 days', () => {
    const config = loadServerConfig({ ...BASE, CARDAUTH_POLICY_PROFILE: 'fstec-2014-k3' });
    expect(policy(config)).toEqual({ length: 6, alphabet: 30, maxAgeDays: 180, history: 0, attempts: 5, windowSec: 900, durationSec: 900 });
    expect(configSources(config)?.CARDAUTH_POLICY_PROFILE).toBe('env');
  });

  it('any single value can be overridden, from the file or the environment, and each says where it came from', () => {
    const file = configFile('policy.json', JSON.stringify({ CARDAUTH_POLICY_PROFILE: 'fstec-2014-k3', CARDAUTH_PASSWORD_MIN_LENGTH: 10, CARDAUTH_LOCKOUT_ATTEMPTS: 7 }));
    const config = loadServerConfig({ ...BASE, CARDAUTH_LOCKOUT_ATTEMPTS: '3' }, file);
    expect(policy(config)).toMatchObject({ length: 10, attempts: 3, alphabet: 30 });
    const sources = configSources(config)!;
    expect([sources.CARDAUTH_POLICY_PROFILE, sources.CARDAUTH_PASSWORD_MIN_LENGTH, sources.CARDAUTH_LOCKOUT_ATTEMPTS, sources.CARDAUTH_PASSWORD_MIN_ALPHABET, sources.CARDAUTH_PORT]).toEqual([
      'file',
      'file',
      'env',
      'profile',
      'default',
    ]);
  });

  it('a value weaker than the profile\'s floor is refused, every such key at once, each naming its floor', () => {
    const err = refusal({ ...BASE, CARDAUTH_PASSWORD_MIN_LENGTH: '8', CARDAUTH_LOCKOUT_ATTEMPTS: '20', CARDAUTH_PASSWORD_MAX_AGE_DAYS: '365', CARDAUTH_PASSWORD_HISTORY: '5' });
    expect(err.code).toBe('config_invalid');
    const lines = err.message.split('\n');
    expect(lines.map((l) => l.split(':')[0])).toEqual(['CARDAUTH_PASSWORD_MIN_LENGTH', 'CARDAUTH_PASSWORD_MAX_AGE_DAYS', 'CARDAUTH_PASSWORD_HISTORY', 'CARDAUTH_LOCKOUT_ATTEMPTS']);
    expect(lines[0]).toContain('8 is below the least profile fstec-2026 allows (12)');
    expect(lines[3]).toContain('20 is above the most profile fstec-2026 allows (5)');
    for (const l of lines) expect(l).toContain('CARDAUTH_ALLOW_BELOW_PROFILE=true');
  });

  it('the older profile has its own floors: 10 attempts and a 3-minute lock pass, 11 and 2 minutes do not', () => {
    const k3 = { ...BASE, CARDAUTH_POLICY_PROFILE: 'fstec-2014-k3' };
    expect(policy(loadServerConfig({ ...k3, CARDAUTH_LOCKOUT_ATTEMPTS: '10', CARDAUTH_LOCKOUT_DURATION_SEC: '180' }))).toMatchObject({ attempts: 10, durationSec: 180 });
    const err = refusal({ ...k3, CARDAUTH_LOCKOUT_ATTEMPTS: '11', CARDAUTH_LOCKOUT_DURATION_SEC: '120' });
    expect(err.message.split('\n').map((l) => l.split(':')[0])).toEqual(['CARDAUTH_LOCKOUT_ATTEMPTS', 'CARDAUTH_LOCKOUT_DURATION_SEC']);
  });

  it('CARDAUTH_ALLOW_BELOW_PROFILE=true lets a config below the floor load', () => {
    const config = loadServerConfig({ ...BASE, CARDAUTH_LOCKOUT_ATTEMPTS: '20', CARDAUTH_ALLOW_BELOW_PROFILE: 'true' });
    expect([config.CARDAUTH_LOCKOUT_ATTEMPTS, config.CARDAUTH_ALLOW_BELOW_PROFILE]).toEqual([20, true]);
  });

  it('an unknown profile is one line naming the key, and the keys it would set are not reported again', () => {
    const err = expectRefused({ ...BASE, CARDAUTH_POLICY_PROFILE: 'fstec-2030' }, 'CARDAUTH_POLICY_PROFILE');
    expect(err.message).toContain('fstec-2026, fstec-2014-k3');
  });

  it('the command line\'s subset is held to the same floors, and holds the profile', () => {
    expectRefused({ REDIS_URL: BASE.REDIS_URL, CARDAUTH_PASSWORD_MIN_LENGTH: '8' }, 'CARDAUTH_PASSWORD_MIN_LENGTH', undefined, (env, file) => loadServerConfigSubset(STORE_KEYS, env, file));
    const subset = loadServerConfigSubset(['REDIS_URL', 'CARDAUTH_PASSWORD_MIN_LENGTH'], { REDIS_URL: BASE.REDIS_URL, CARDAUTH_POLICY_PROFILE: 'fstec-2014-k3' });
    expect(subset.CARDAUTH_PASSWORD_MIN_LENGTH).toBe(6);
  });

  it('an alphabet larger than all character classes together (161) could never be met, and is refused', () => {
    expectRefused({ ...BASE, CARDAUTH_PASSWORD_MIN_ALPHABET: '162' }, 'CARDAUTH_PASSWORD_MIN_ALPHABET');
    expect(loadServerConfig({ ...BASE, CARDAUTH_PASSWORD_MIN_ALPHABET: '161' }).CARDAUTH_PASSWORD_MIN_ALPHABET).toBe(161);
  });
});

describe('CARDAUTH_TRUST_PROXY as a hop count', () => {
  it('is refused on a host other clients can reach, naming both keys; an address, or a loopback host, is fine', () => {
    const err = expectRefused({ ...BASE, CARDAUTH_TRUST_PROXY: '1', CARDAUTH_HOST: '0.0.0.0' }, 'CARDAUTH_TRUST_PROXY');
    expect(err.message).toContain('CARDAUTH_HOST 0.0.0.0');
    expect(loadServerConfig({ ...BASE, CARDAUTH_TRUST_PROXY: '10.0.0.5', CARDAUTH_HOST: '0.0.0.0' }).CARDAUTH_TRUST_PROXY).toBe('10.0.0.5');
    expect(loadServerConfig({ ...BASE, CARDAUTH_TRUST_PROXY: '1', CARDAUTH_HOST: '127.0.0.1' }).CARDAUTH_TRUST_PROXY).toBe(1);
  });
});

describe('a value with a line break', () => {
  it('is shown escaped, so the refusal stays one line per key', () => {
    const err = expectRefused({ ...BASE, CARDAUTH_PORT: '80\n81' }, 'CARDAUTH_PORT');
    expect(err.message).toContain('(got "80\\n81")');
  });
});

describe('REDIS_URL', () => {
  it.each(['redis://', 'rediss://', 'redis:///0', 'redis://:hunter2-secret@', 'redis://:hunter2-secret@:6379'])('%p (no host) is refused, never echoing it', (url) => {
    const err = expectRefused({ ...BASE, REDIS_URL: url }, 'REDIS_URL');
    expect(err.message).toBe('REDIS_URL: must be a redis:// or rediss:// URL with a host, such as redis://127.0.0.1:6379');
    expect(err.message).not.toContain('hunter2');
  });
});

describe('card agent keys', () => {
  const AGENT = { CARDAUTH_AGENT_ORIGINS: 'https://mis.example.ru', CARDAUTH_AGENT_SERVER: 'https://cardauth.example.ru' };

  it.each([' , ', ',', ' ,,, '])('CARDAUTH_AGENT_ORIGINS=%p (no origin) is refused: the agent would refuse every page', (origins) => {
    const err = expectRefused({ ...AGENT, CARDAUTH_AGENT_ORIGINS: origins }, 'CARDAUTH_AGENT_ORIGINS', undefined, loadAgentConfig);
    expect(err.message).toContain('must name at least one origin');
  });

  it('an empty CARDAUTH_AGENT_ORIGINS is refused as set but empty', () => {
    const err = expectRefused({ ...AGENT, CARDAUTH_AGENT_ORIGINS: '' }, 'CARDAUTH_AGENT_ORIGINS', undefined, loadAgentConfig);
    expect(err.message).toContain('is set but empty');
  });

  it.each(['0', '00', '0-31', '47801-47800'])('CARDAUTH_AGENT_PORT=%p is refused: ports start at 1 and a range goes low to high', (port) => {
    const err = expectRefused({ ...AGENT, CARDAUTH_AGENT_PORT: port }, 'CARDAUTH_AGENT_PORT', undefined, loadAgentConfig);
    expect(err.message).toContain('must be a port from 1 to 65535 such as 47800, or a range from low to high');
  });

  it('the server side CARDAUTH_AGENT_PORTS refuses a range from port 0 too', () => {
    expectRefused({ ...BASE, CARDAUTH_AGENT_PORTS: '0-31' }, 'CARDAUTH_AGENT_PORTS');
  });
});

describe('the presence gate keys', () => {
  it('CARDAUTH_PRESENCE_ROLES: off by default; known roles, each once; anything else refused naming the key', () => {
    expect(ROLE_NAMES).toEqual(ROLES);
    expect(loadServerConfig(BASE).CARDAUTH_PRESENCE_ROLES).toEqual([]);
    expect(loadServerConfig({ ...BASE, CARDAUTH_PRESENCE_ROLES: ' clinician, auditor,clinician' }).CARDAUTH_PRESENCE_ROLES).toEqual(['clinician', 'auditor']);
    expect(expectRefused({ ...BASE, CARDAUTH_PRESENCE_ROLES: 'clinician,doctor' }, 'CARDAUTH_PRESENCE_ROLES').message).toContain('"doctor" is not a role');
  });
  it('CARDAUTH_PRESENCE_ON_SILENT: deny by default, allow or deny only; CARDAUTH_PRESENCE_SILENT_SEC 60..86400', () => {
    expect(loadServerConfig(BASE)).toMatchObject({ CARDAUTH_PRESENCE_ON_SILENT: 'deny', CARDAUTH_PRESENCE_SILENT_SEC: 900 });
    expectRefused({ ...BASE, CARDAUTH_PRESENCE_ON_SILENT: 'open' }, 'CARDAUTH_PRESENCE_ON_SILENT');
    expectRefused({ ...BASE, CARDAUTH_PRESENCE_SILENT_SEC: '59' }, 'CARDAUTH_PRESENCE_SILENT_SEC');
  });
});
