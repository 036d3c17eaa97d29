import { createIpLimit } from '../../src/strategies/ip-limit';
import { isCardauthError } from '../../src/errors';
import type { LockState } from '../../src/policy/lockout';

// Plain fakes: the lockout's state, the claimed keys and the audit records.
function setup(state: LockState) {
  const claimed = new Map<string, number>();
  const records: Array<{ type: string; reason?: string; details?: unknown }> = [];
  const failures: string[] = [];
  const ipLimit = createIpLimit({
    lockout: { checkIp: async () => state, recordIpFailure: async (ip) => void failures.push(ip) },
    audit: { append: async (e) => void records.push({ type: e.type, reason: e.reason, details: e.details }) },
    claimOnce: async (key, ttl) => (claimed.has(key) ? false : (claimed.set(key, ttl), true)),
  });
  return { ipLimit, claimed, records, failures };
}
const source = { ip: '192.0.2.9' };
const codeOf = (p: Promise<unknown>) => p.then(() => 'no-error', (e: unknown) => (isCardauthError(e) ? e.code : 'untyped'));

describe('per-IP limit at a login step', () => {
  it('an IP under its limit passes, and nothing is written', async () => {
    const { ipLimit, records, claimed } = setup({ locked: false });
    expect(await codeOf(ipLimit.check('card.presented', source, 's'))).toBe('no-error');
    expect(records).toEqual([]);
    expect(claimed.size).toBe(0);
  });

  it('an IP over it is refused every time, audited once per step and lock period', async () => {
    const { ipLimit, records, claimed } = setup({ locked: true, scope: 'ip', retryAfterMs: 899_001 });
    for (let i = 0; i < 5; i++) expect(await codeOf(ipLimit.check('card.presented', source, 's'))).toBe('rate_limited');
    expect(await codeOf(ipLimit.check('password.checked', source, 's'))).toBe('rate_limited');
    expect(records).toEqual([
      { type: 'card.presented', reason: 'ip_limited', details: { lockedForSec: 900 } },
      { type: 'password.checked', reason: 'ip_limited', details: { lockedForSec: 900 } },
    ]);
    expect([...claimed]).toEqual([
      ['ipl:card.presented:192.0.2.9', 900],
      ['ipl:password.checked:192.0.2.9', 900],
    ]);
  });

  it('a failure is counted against the IP', async () => {
    const { ipLimit, failures } = setup({ locked: false });
    await ipLimit.recordFailure('192.0.2.10');
    expect(failures).toEqual(['192.0.2.10']);
  });
});
