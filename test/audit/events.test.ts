import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { AUDIT_EVENTS, AUDIT_EVENT_TYPES, auditEventDef, auditEventsTable, auditReasons, COMMON_FIELDS, notWrittenYet } from '../../src/audit/events';
import { parseAuditInput } from '../../src/audit/record';

/** Every TypeScript source under src/ but the events table itself and the demo (which writes as a stand-in), as one text. */
function sourcesWritingEvents(): string {
  const src = join(__dirname, '..', '..', 'src');
  return (readdirSync(src, { recursive: true }) as string[])
    .filter((f) => f.endsWith('.ts') && join(src, f) !== join(src, 'audit', 'events.ts') && !f.startsWith(`demo/`))
    .map((f) => readFileSync(join(src, f), 'utf8'))
    .join('\n');
}

describe('audit events table', () => {
  it('renders one row per event type, in table order', () => {
    const lines = auditEventsTable().split('\n');
    expect(lines.slice(0, 2)).toEqual(['| event | meaning |', '|---|---|']);
    const rowTypes = lines.slice(2).map((l) => /^\| `([^`]+)` \| .+ \|$/.exec(l)?.[1]);
    expect(rowTypes).toEqual(AUDIT_EVENT_TYPES);
    expect(AUDIT_EVENT_TYPES).toHaveLength(60);
  });
  it('names every type in dotted lower case with a one-line meaning', () => {
    for (const type of AUDIT_EVENT_TYPES) {
      expect(type).toMatch(/^[a-z]+\.[a-z_]+$/);
      expect(AUDIT_EVENTS[type].meaning).toMatch(/^[^|\n]+\.$/);
    }
  });
  it('lists the reasons of the events that have a closed set, in the table too', () => {
    expect(auditReasons('session.ended')).toEqual(['limit', 'admin', 'unlock_failures', 'expired', 'read_only', 'presence_exit']);
    expect(auditReasons('card.bound')).toBeUndefined();
    expect(auditEventsTable()).toContain('`replayed_nonce`');
    for (const type of AUDIT_EVENT_TYPES) for (const r of auditReasons(type) ?? []) expect(r).toMatch(/^[a-z][a-z0-9_]*$/);
  });
  it('marks as not written yet exactly the types no source names as a string literal', () => {
    const sources = sourcesWritingEvents();
    const written = (type: string) => sources.includes(`'${type}'`);
    const unwritten = AUDIT_EVENT_TYPES.filter((t) => !written(t));
    expect(AUDIT_EVENT_TYPES.filter(notWrittenYet)).toEqual(unwritten);
    expect(unwritten.length).toBeLessThan(AUDIT_EVENT_TYPES.length);
    expect(auditEventsTable()).not.toMatch(/\| `config\.changed` \| .*Not written yet/);
    expect(auditEventsTable()).not.toMatch(/\| `audit\.exported` \| .*Not written yet/);
  });

  it('gives every type its details fields and an example that passes the record schema, using only those fields', () => {
    for (const type of AUDIT_EVENT_TYPES) {
      const { fields, example } = auditEventDef(type);
      expect({ type, fields: fields !== undefined, example: example !== undefined }).toEqual({ type, fields: true, example: true });
      const keys = Object.keys(fields ?? {});
      for (const k of keys) expect({ type, k, holds: fields?.[k] }).toEqual({ type, k, holds: expect.stringMatching(/^[^|\n]+$/) });
      // Every listed key is one a record may carry (the schema's key rules and its 32-key bound).
      expect(() => parseAuditInput({ type, outcome: 'success', details: Object.fromEntries(keys.map((k) => [k, 'x'])) })).not.toThrow();
      expect(() => parseAuditInput({ type, ...example! })).not.toThrow();
      expect({ type, extra: Object.keys(example?.details ?? {}).filter((k) => !keys.includes(k)) }).toEqual({ type, extra: [] });
      expect(Object.keys(fields ?? {}).filter((k) => Object.hasOwn(COMMON_FIELDS, k))).toEqual([]);
    }
  });
});
