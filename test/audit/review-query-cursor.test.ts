import { createAuditLog } from '../../src/audit/log';
import { createAuditQueryService } from '../../src/audit/query-service';
import { suiteRedis } from '../helpers/redis';
import { codeOf } from '../store/support';

// Review finding: a cursor or record id that passes the service's own STREAM_ID pattern but that
// Redis refuses (0-0 as an exclusive start of XREVRANGE; a part past 2^64-1) is reported as the
// trail being down (audit_unavailable: the pages' 503 with a request_failed error line), not as bad input.
describe('the audit query service, a cursor Redis refuses', () => {
  const redis = suiteRedis();
  it('is bad_request, not audit_unavailable', async () => {
    await createAuditLog({ redis: redis(), clock: { now: () => Date.parse('2026-11-25T08:00:00.000Z') } }).append({ type: 'session.created', outcome: 'success', subject: { login: 'a' } });
    const q = createAuditQueryService({ redis: redis() });
    expect(await codeOf(q.page({}, { limit: 5, cursor: '0-0' }))).toBe('bad_request');
    expect(await codeOf(q.page({}, { limit: 5, cursor: '99999999999999999999-0' }))).toBe('bad_request');
  });
  it('a record id past 2^64 is no record (null), not audit_unavailable', async () => {
    const q = createAuditQueryService({ redis: redis() });
    await expect(q.get('99999999999999999999-0')).resolves.toBeNull();
  });
});
