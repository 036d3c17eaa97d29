import express from 'express';
import { loadServerConfig, type Env } from '../src/config';
import { CardauthError } from '../src/errors';

const LONG = 'a-session-secret-of-32-characters';
const OTHER = 'another-secret-of-32-characters!';
const BASE = { REDIS_URL: 'redis://127.0.0.1:6379', CARDAUTH_PUBLIC_ORIGIN: 'http://127.0.0.1:8080', CARDAUTH_SESSION_SECRET: LONG };

/** The error loadServerConfig refuses `env` with (fails the test if it accepts it). */
function refusal(env: Env): CardauthError {
  try {
    loadServerConfig(env);
  } catch (e) {
    expect(e).toBeInstanceOf(CardauthError);
    return e as CardauthError;
  }
  throw new Error('the config was accepted');
}

/** One config_invalid line that starts with `key`. */
function expectRefused(env: Env, key: string): CardauthError {
  const err = refusal(env);
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
