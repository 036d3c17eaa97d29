import { decide, gated, type PresencePolicy } from '../../src/presence/gate';
import { moscowDay } from '../../src/presence/moscow-day';

const policy: PresencePolicy = { roles: ['clinician'], silentSec: 900, onSilent: 'deny' };
/** 09:00 MSK, 4 December 2026. */
const NOW = Date.parse('2026-12-04T09:00:00+03:00');
const alive = NOW - 60_000;
const pass = (direction: 'entry' | 'exit', at: string) => ({ direction, at: Date.parse(at), skudId: 'sk_0123456789abcdef' });

describe('moscowDay', () => {
  it('is the Europe/Moscow calendar day, whatever the server zone', () => {
    expect(moscowDay(Date.parse('2026-12-04T20:59:59Z'))).toBe('2026-12-04');
    expect(moscowDay(Date.parse('2026-12-04T21:00:00Z'))).toBe('2026-12-05');
  });
});

describe('the presence rule', () => {
  it('gates the listed roles and an account gated by an officer; an empty list gates no role', () => {
    expect(gated(policy, { roles: ['clinician'] })).toBe(true);
    expect(gated(policy, { roles: ['auditor'] })).toBe(false);
    expect(gated({ ...policy, roles: [] }, { roles: ['clinician'] })).toBe(false);
    expect(gated({ ...policy, roles: [] }, { roles: ['auditor'], presenceRequired: true })).toBe(true);
  });
  it('allows an entry today with no exit after it', () => {
    expect(decide(policy, { last: pass('entry', '2026-12-04T00:10:00+03:00'), feedLast: alive }, NOW)).toEqual({ allowed: true, silent: false });
  });
  it('refuses no pass, an entry yesterday (Moscow day), and an exit after the entry', () => {
    expect(decide(policy, { last: null, feedLast: alive }, NOW)).toEqual({ allowed: false, reason: 'presence_absent' });
    expect(decide(policy, { last: pass('entry', '2026-12-03T23:59:00+03:00'), feedLast: alive }, NOW)).toEqual({ allowed: false, reason: 'presence_absent' });
    expect(decide(policy, { last: pass('exit', '2026-12-04T08:30:00+03:00'), feedLast: alive }, NOW)).toEqual({ allowed: false, reason: 'presence_exited' });
  });
  it('a feed silent longer than silentSec (or never heard) decides by onSilent', () => {
    const entered = pass('entry', '2026-12-04T08:00:00+03:00');
    expect(decide(policy, { last: entered, feedLast: NOW - 900_000 }, NOW)).toEqual({ allowed: true, silent: false });
    expect(decide(policy, { last: entered, feedLast: NOW - 900_001 }, NOW)).toEqual({ allowed: false, reason: 'feed_silent' });
    expect(decide(policy, { last: null, feedLast: null }, NOW)).toEqual({ allowed: false, reason: 'feed_silent' });
    expect(decide({ ...policy, onSilent: 'allow' }, { last: null, feedLast: null }, NOW)).toEqual({ allowed: true, silent: true });
  });
});
