import { AUDIT_EVENT_TYPES, COMMON_FIELDS, auditEventDef, auditReasons, notWrittenYet, type AuditEventType } from './events';
import { canonicalJson, parseAuditInput, sealRecord, sha256Hex, type AuditRecord } from './record';

/**
 * docs/audit-events.md, rendered from the events table (src/audit/events.ts):
 * for each event type when it fires, its reasons, its `details` fields and an
 * example record as stored. `node scripts/audit-docs.js` (after `npm run
 * build`) writes it; test/docs/audit-events.test.ts keeps the two equal.
 */

/** Where the examples sit in a chain: each its own seq, the same time, a made-up previous hash. */
const EXAMPLE_TS = '2026-03-02T07:41:09.512Z';
const EXAMPLE_FIRST_SEQ = 18_301;

/**
 * An event type's example as the audit log stores it: validated and
 * normalised as any input (so the session id becomes its hash), then sealed
 * at a made-up place in a chain. Throws `TypeError` when the example does not
 * pass the record schema, and when the type has none.
 *
 * @example
 * exampleRecord('session.created').sessionIdHash // 64 hex digits
 */
export function exampleRecord(type: AuditEventType): AuditRecord {
  const example = auditEventDef(type).example;
  if (!example) throw new TypeError(`${type}: no example in src/audit/events.ts`);
  const seq = EXAMPLE_FIRST_SEQ + AUDIT_EVENT_TYPES.indexOf(type);
  return sealRecord(parseAuditInput({ type, ...example }), { seq, prev: sha256Hex(`example before ${type}`), ts: EXAMPLE_TS });
}

const code = (s: string) => `\`${s}\``;

function section(type: AuditEventType): string[] {
  const def = auditEventDef(type);
  const reasons = auditReasons(type);
  const fields = Object.entries(def.fields ?? {});
  return [
    `### ${code(type)}`,
    '',
    `**When:** ${def.meaning}${notWrittenYet(type) ? ' *Not written yet: reserved for the command that will make this change.*' : ''}`,
    '',
    `**Reasons:** ${reasons ? reasons.map(code).join(', ') : 'any snake_case code (one is required with `failure`)'}.`,
    '',
    ...(fields.length > 0 ? ['| `details` field | holds |', '|---|---|', ...fields.map(([k, v]) => `| ${code(k)} | ${v} |`)] : ['**Fields:** none beyond the common ones.']),
    '',
    '**Example** (as stored):',
    '',
    '```json',
    JSON.stringify(JSON.parse(canonicalJson(exampleRecord(type))), null, 2),
    '```',
  ];
}

/**
 * The whole page, Markdown.
 *
 * @example
 * writeFileSync('docs/audit-events.md', auditEventsDoc());
 */
export function auditEventsDoc(): string {
  return [
    '# Audit events',
    '',
    '<!-- Generated from src/audit/events.ts by `node scripts/audit-docs.js` (after `npm run build`); test/docs/audit-events.test.ts keeps them equal. Edit the events table, not this file. -->',
    '',
    'Every record in the audit trail (docs/audit.md) is one of the event types below (domain.md §7, РСБ.1). The README lists them in short.',
    '',
    '## Fields of every record',
    '',
    '| field | holds |',
    '|---|---|',
    ...Object.entries(COMMON_FIELDS).map(([k, v]) => `| ${code(k)} | ${v} |`),
    '| `details` | the event\'s own fields, listed with each event below; a key never names a password or a secret |',
    '',
    'A field that does not apply, or that the request did not carry, is left out (never empty). Free text is cut to its bound and control characters are replaced, never refused (src/audit/record.ts).',
    '',
    '## Events',
    '',
    ...AUDIT_EVENT_TYPES.flatMap((t) => [...section(t), '']),
  ].join('\n');
}
