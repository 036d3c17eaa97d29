import { isCardauthError } from '../../src/errors';
import Redis from 'ioredis';
import type { Clock } from '../../src/clock';
import { freePort } from '../helpers/redis';

/** The code of the CardauthError a promise rejects with, 'TypeError', 'not-typed', or 'no-error'. */
export async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    if (isCardauthError(e)) return e.code;
    return e instanceof TypeError ? 'TypeError' : 'not-typed';
  }
  return 'no-error';
}

/** A clock that only moves when told to. */
export function frozenClock(start = Date.parse('2026-03-02T08:00:00.000Z')): Clock & { advance(ms: number): void } {
  let t = start;
  return { now: () => t, advance: (ms) => void (t += ms) };
}

/** A well-formed argon2id PHC string (not a hash of anything in particular). */
export const PHC = '$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0c2FsdA$YWJjZGVmZ2hpamtsbW5vcHFyc3R1dnd4eXphYmNkZWY';

/** Settles every promise; answers the count fulfilled and the codes of the rejections. */
export async function outcomes(ps: Promise<unknown>[]): Promise<{ won: number; codes: string[] }> {
  const codes = await Promise.all(ps.map((p) => codeOf(p)));
  return { won: codes.filter((c) => c === 'no-error').length, codes: codes.filter((c) => c !== 'no-error') };
}

/** A client pointed at a port nothing listens on, failing fast: every command rejects. */
export async function unreachableRedis(): Promise<Redis> {
  const port = await freePort();
  const r = new Redis({ port, host: '127.0.0.1', lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 0, retryStrategy: () => null });
  r.on('error', () => undefined);
  return r;
}
