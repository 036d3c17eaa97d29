import { createIpLimit } from '../../src/strategies/ip-limit';
import { isCardauthError } from '../../src/errors';
import type { GateState } from '../../src/policy/lockout';

// Plain fakes: the gate's state, the claimed keys, the counts and the audit records.
function setup(state: GateState) {
  const claimed = new Map<string, number>();
  const records: Array<{ type: string; reason?: string; details?: unknown }> = [];
  const failures: string[] = [];
  const junk: string[] = [];
  const ipLimit = createIpLimit({
    lockout: {
      gate: async () => state,
      recordIpFailure: async (ip) => void failures.push(ip),
      recordJunk: async (ip, sid) => void junk.push(`${ip}/${sid}`),
    },
    audit: { append: async (e) => void records.push({ type: e.type, reason: e.reason, details: e.details }) },
    claimOnce: async (key, ttl) => (claimed.has(key) ? false : (claimed.set(key, ttl), true)),
  });
  return { ipLimit, claimed, records, failures, junk };
}
const source = { ip: '192.0.2.9' };
const codeOf = (p: Promise<unknown>) => p.then(() => 'no-error', (e: unknown) => (isCardauthError(e) ? e.code : 'untyped'));

describe('client limits at a login step', () => {
  it('a client under its limits passes, and nothing is written', async () => {
    const { ipLimit, records, claimed } = setup({ locked: false, junkLimited: false });
    expect(await ipLimit.check('card.presented', source, 's')).toEqual({ locked: false, junkLimited: false });
    expect(records).toEqual([]);
    expect(claimed.size).toBe(0);
  });

  it('an IP over its login budget is refused every time, audited once per step and lock period', async () => {
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

  it('a session over its junk budget is refused, unaudited (its junk was)', async () => {
    const { ipLimit, records } = setup({ locked: true, scope: 'session', retryAfterMs: 1000 });
    expect(await codeOf(ipLimit.check('card.presented', source, 's'))).toBe('rate_limited');
    expect(records).toEqual([]);
  });

  it('junk under the budget is counted for the IP and the session; over it, refused and audited once per period', async () => {
    const under = setup({ locked: false, junkLimited: false });
    await under.ipLimit.junk('card.presented', source, 's1', { locked: false, junkLimited: false });
    expect(under.junk).toEqual(['192.0.2.9/s1']);

    const over = setup({ locked: false, junkLimited: true, retryAfterMs: 60_000 });
    const gate = { locked: false, junkLimited: true, retryAfterMs: 60_000 } as const;
    for (let i = 0; i < 3; i++) expect(await codeOf(over.ipLimit.junk('card.presented', source, 's1', gate))).toBe('rate_limited');
    expect(over.records).toEqual([{ type: 'card.presented', reason: 'junk_limited', details: { lockedForSec: 60 } }]);
    expect(over.junk).toEqual([]);
  });

  it('a signed refusal is counted against the IP', async () => {
    const { ipLimit, failures } = setup({ locked: false, junkLimited: false });
    await ipLimit.recordFailure('192.0.2.10');
    expect(failures).toEqual(['192.0.2.10']);
  });
});
