import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { AUDIT_EVENT_TYPES } from '../../src/audit/events';
import { auditEventsDoc, exampleRecord } from '../../src/audit/events-doc';
import { fromStreamFields, toStreamFields } from '../../src/audit/record';

describe('docs/audit-events.md', () => {
  const doc = readFileSync(join(__dirname, '..', '..', 'docs', 'audit-events.md'), 'utf8');

  it('is the page rendered from src/audit/events.ts (node scripts/audit-docs.js writes it)', () => {
    expect(doc).toBe(auditEventsDoc());
  });

  it('has a section per event type, in table order, each with when it fires, its reasons, its fields and an example', () => {
    const sections = doc.split('\n### ').slice(1);
    expect(sections.map((s) => /^`([^`]+)`/.exec(s)?.[1])).toEqual(AUDIT_EVENT_TYPES);
    for (const s of sections) {
      expect(s).toMatch(/\n\*\*When:\*\* .+\n/);
      expect(s).toMatch(/\n\*\*Reasons:\*\* .+\n/);
      expect(s).toMatch(/\n(\| `details` field \| holds \|\n|\*\*Fields:\*\* none beyond the common ones\.\n)/);
      expect(s).toMatch(/\n```json\n\{[\s\S]+\}\n```/);
    }
  });

  it('shows each example as a stored record that reads back intact', () => {
    for (const type of AUDIT_EVENT_TYPES) {
      const record = exampleRecord(type);
      expect(fromStreamFields(toStreamFields(record))).toMatchObject({ ok: true, intact: true, seq: record.seq });
      expect(doc).toContain(`"hash": "${record.hash}"`);
    }
  });
});
