import { fromStreamFields } from './record';

/**
 * One audit record as an RFC 5424 syslog message, framed by octet counting
 * (RFC 6587 §3.4.1: `LEN SP MSG`, what rsyslog's imtcp and most SIEM
 * collectors read on TCP and TLS). Pure.
 *
 * - PRI: facility authpriv (10); severity info (6) for a success, notice (5)
 *   for a failure.
 * - TIMESTAMP: the record's `ts` (UTC, milliseconds); MSGID: its event type.
 * - Structured data `[cardauth@32473 …]` (32473 is the enterprise number
 *   RFC 5612 reserves for documentation): `seq`, `hash`, `prev`, `outcome`,
 *   `reason`, and whichever of account, login, actor, agent, workstation, ip,
 *   cardUid and session (its hash) the record has, so a SIEM can filter
 *   without parsing the message; `intact="false"` marks a stored entry whose
 *   text no longer matches its hash (it is sent as stored all the same).
 * - MSG: a UTF-8 BOM, then the record's canonical JSON exactly as stored: with
 *   `hash` from the structured data, a receiver can recompute and check it.
 */

export const SYSLOG_SD_ID = 'cardauth@32473';
const FACILITY_AUTHPRIV = 10;
const BOM = '\uFEFF';

/** Who sends: HOSTNAME, APP-NAME and PROCID of the header. */
export interface SyslogOrigin {
  hostname: string;
  appName: string;
  procId: string;
}

/** RFC 5424 header fields are printable US-ASCII without spaces, at most `max` long; `-` when empty. */
function headerField(value: string, max: number): string {
  const clean = value.replace(/[^\x21-\x7e]/g, '').slice(0, max);
  return clean === '' ? '-' : clean;
}

/** PARAM-VALUE escaping (RFC 5424 §6.3.3): `"`, `\` and `]` get a backslash. */
const paramValue = (v: string) => v.replace(/["\\\]]/g, (c) => `\\${c}`);

/**
 * The frame for one stream entry (its fields as XRANGE/XREADGROUP return them).
 *
 * @example
 * socket.write(syslogFrame(fields, { hostname: 'auth1', appName: 'cardauth', procId: '4242' }));
 */
export function syslogFrame(fields: readonly string[], origin: SyslogOrigin): Buffer {
  const decoded = fromStreamFields(fields);
  const text = fields[1] ?? '';
  const params: [string, string | number | undefined][] = [];
  let severity = 5;
  let ts = '-';
  let msgId = 'audit.unreadable';
  if (decoded.ok) {
    const r = decoded.record;
    severity = r.outcome === 'success' ? 6 : 5;
    ts = headerField(r.ts, 64);
    msgId = r.type;
    params.push(
      ['seq', r.seq],
      ['hash', r.hash],
      ['prev', r.prev],
      ['outcome', r.outcome],
      ['reason', r.reason],
      ['account', r.subject?.accountId],
      ['login', r.subject?.login],
      ['actor', r.actor],
      ['agent', r.source?.agentId],
      ['workstation', r.source?.workstation],
      ['ip', r.source?.ip],
      ['cardUid', r.cardUid],
      ['session', r.sessionIdHash],
    );
    if (!decoded.intact) params.push(['intact', 'false']);
  } else {
    params.push(['seq', decoded.seq], ['hash', fields[3]], ['intact', 'false']);
  }
  const sd = params
    .filter((p): p is [string, string | number] => p[1] !== undefined && p[1] !== '')
    .map(([k, v]) => ` ${k}="${paramValue(String(v))}"`)
    .join('');
  const header = `<${FACILITY_AUTHPRIV * 8 + severity}>1 ${ts} ${headerField(origin.hostname, 255)} ${headerField(origin.appName, 48)} ${headerField(origin.procId, 128)} ${headerField(msgId, 32)}`;
  const message = Buffer.from(`${header} [${SYSLOG_SD_ID}${sd}] ${BOM}${text}`, 'utf8');
  return Buffer.concat([Buffer.from(`${message.length} `, 'ascii'), message]);
}
