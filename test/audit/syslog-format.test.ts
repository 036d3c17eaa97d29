import { createHash } from 'node:crypto';
import { sealRecordFields, type AuditEvent } from '../../src/audit/record';
import { syslogFrame, SYSLOG_SD_ID } from '../../src/audit/syslog-format';

const origin = { hostname: 'auth 1', appName: 'cardauth', procId: '42' };

/** The message of one octet-counted frame, after checking its length prefix. */
function message(frame: Buffer): string {
  const space = frame.indexOf(0x20);
  const len = Number(frame.subarray(0, space).toString('ascii'));
  expect(frame.length - space - 1).toBe(len);
  return frame.subarray(space + 1).toString('utf8');
}

const fields = (over: Record<string, unknown> = {}): string[] =>
  sealRecordFields(
    {
      type: 'password.checked',
      outcome: 'failure',
      reason: 'bad_credentials',
      subject: { login: 'iv"an]\\ова' },
      source: { ip: '10.0.0.7', agentId: 'agt_0123456789abcdef' },
      cardUid: '04A22BB25C6180',
      ...over,
    } as AuditEvent,
    { seq: 7, ts: '2026-12-04T19:00:00.123Z', prev: '0'.repeat(64) },
  ).fields;

describe('syslogFrame', () => {
  it('frames an RFC 5424 message with the record in structured data and its canonical JSON as the message', () => {
    const f = fields();
    const m = message(syslogFrame(f, origin));
    // authpriv.notice = 10*8+5 for a failure; the host name loses its space.
    expect(m.startsWith('<85>1 2026-12-04T19:00:00.123Z auth1 cardauth 42 password.checked [')).toBe(true);
    expect(m).toContain(`[${SYSLOG_SD_ID} seq="7" hash="${f[3]}" prev="${'0'.repeat(64)}" outcome="failure" reason="bad_credentials" login="iv\\"an\\]\\\\ова" agent="agt_0123456789abcdef" ip="10.0.0.7" cardUid="04A22BB25C6180"]`);
    const json = m.slice(m.indexOf('] \uFEFF') + 3);
    expect(json).toBe(f[1]);
    expect(createHash('sha256').update(json).digest('hex')).toBe(f[3]);
  });

  it('marks a success as info and an edited entry as not intact, still sending it as stored', () => {
    const f = fields({ type: 'session.created', outcome: 'success', reason: undefined });
    expect(message(syslogFrame(f, origin)).startsWith('<86>1 ')).toBe(true);
    const edited = [...f];
    edited[1] = edited[1]!.replace('10.0.0.7', '10.0.0.8');
    const m = message(syslogFrame(edited, origin));
    expect(m).toContain('intact="false"');
    expect(m.endsWith(edited[1]!)).toBe(true);
  });

  it('sends an unreadable entry with what it has', () => {
    const m = message(syslogFrame(['x', 'not json', 'h', 'zz'], origin));
    expect(m).toMatch(/^<85>1 - auth1 cardauth 42 audit\.unreadable \[cardauth@32473 hash="zz" intact="false"\] \uFEFFnot json$/);
  });
});
