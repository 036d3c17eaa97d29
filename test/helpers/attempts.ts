import type { Lockout } from '../../src/policy/lockout';

let n = 0;

/**
 * One failed password attempt on `accountId`, as the password step makes it
 * (taken, then ended without giving it back), from a session of its own.
 * Resolves with whether it took the account's last attempt; throws when the
 * attempt was refused.
 *
 * @example
 * for (let i = 0; i < 5; i++) await failAttempt(lockout, { accountId, ip: '192.0.2.1' });
 */
export async function failAttempt(lockout: Pick<Lockout, 'begin' | 'end'>, who: { accountId: string; ip: string; cardUid?: string }): Promise<boolean> {
  const subject = { ...who, sessionId: `test-session-${process.pid}-${++n}` };
  const start = await lockout.begin(subject);
  if (!start.ok) throw new Error(`attempt refused: ${start.refused}`);
  await lockout.end(subject, start.token, 'failure');
  return start.lastAttempt;
}
