import { auditRecords, lastAudit } from '../helpers/audit';
import { suitePeople, type TestServer } from '../helpers/app';

// The auditor's JSON API over the audit trail, end to end: the auditor role only, each answer
// recorded first (503 when it cannot be), the filters and paging of the query service, 400s.
describe('audit API: /admin/api/audit', () => {
  let srv: TestServer;
  const PEOPLE: Array<[string, string, string[]]> = [
    ['ivanova', '04D1D1D1D1D1D1', ['clinician']],
    ['security', '04D2D2D2D2D2D2', ['security_officer']],
    ['auditor', '04D3D3D3D3D3D3', ['auditor']],
  ];
  const { ids, logIn } = suitePeople(PEOPLE, { env: { CARDAUTH_IP_ATTEMPTS: '1000' } }, (s) => {
    srv = s;
  });

  const error = (r: { status: number; json: any }, status: number, code: string) => {
    expect({ status: r.status, code: r.json?.error?.code }).toEqual({ status, code });
  };

  it("an auditor pages one account's logins newest first, opens a record, sees the chart; each view recorded first", async () => {
    await logIn('ivanova');
    await logIn('ivanova');
    const c = await logIn('auditor');
    const q = `account=${ids.ivanova}&type=session.*`;
    const first = await c.get(`/admin/api/audit?${q}&limit=1`);
    expect(first.status).toBe(200);
    expect(first.headers.get('cache-control')).toBe('no-store');
    expect(first.json.entries).toHaveLength(1);
    expect(first.json.entries[0]).toMatchObject({ id: expect.stringMatching(/^\d+-\d+$/), intact: true, record: { type: 'session.created', subject: { accountId: ids.ivanova } } });
    expect(first.json.next).toBe(first.json.entries[0].id);
    expect(await lastAudit(srv.redis, 'audit.viewed')).toMatchObject({
      outcome: 'success',
      actor: `acct:${ids.auditor}`,
      source: { ip: '127.0.0.1' },
      details: { via: 'web', count: 1, filter: `account=${ids.ivanova} type=session.*` },
    });
    const second = await c.get(`/admin/api/audit?${q}&limit=1&cursor=${first.json.next}`);
    expect(second.json.entries[0].record.seq).toBeLessThan(first.json.entries[0].record.seq);
    expect(second.json.next).toBeNull(); // two logins: the last page

    const one = await c.get(`/admin/api/audit/records/${first.json.entries[0].id}`);
    expect(one.json).toEqual(first.json.entries[0]);
    expect(await lastAudit(srv.redis, 'audit.viewed')).toMatchObject({ details: { via: 'web', count: 1, filter: `id=${first.json.entries[0].id}` } });
    error(await c.get('/admin/api/audit/records/1-0'), 404, 'not_found');

    const today = new Date().toISOString().slice(0, 10);
    const days = await c.get(`/admin/api/audit/days?since=${today}&until=${new Date(Date.now() + 86_400_000).toISOString().slice(0, 10)}`);
    expect(days.status).toBe(200);
    expect(days.json.days).toEqual([{ day: today, logins: expect.any(Number), failures: 0, lockouts: 0 }]);
    expect(days.json.days[0].logins).toBeGreaterThanOrEqual(3);
    expect(await lastAudit(srv.redis, 'audit.viewed')).toMatchObject({ details: { count: 1, filter: expect.stringMatching(/^days since=/) } });
  });

  it('others are refused: no session 401, a clinician and a security officer 403 forbidden; nothing recorded', async () => {
    const before = (await auditRecords(srv.redis, 'audit.viewed')).length;
    error(await srv.client().get('/admin/api/audit'), 401, 'unauthenticated');
    for (const login of ['ivanova', 'security']) {
      const c = await logIn(login);
      error(await c.get('/admin/api/audit'), 403, 'forbidden');
      error(await c.get('/admin/api/audit/days?since=2026-11-01&until=2026-11-02'), 403, 'forbidden');
      error(await c.get('/admin/api/audit/records/1-0'), 403, 'forbidden');
    }
    expect((await auditRecords(srv.redis, 'audit.viewed')).length).toBe(before);
  });

  it('bad parameters: 400 bad_request naming the parameter', async () => {
    const c = await logIn('auditor');
    const cases: Array<[string, RegExp]> = [
      ['limit=0', /limit/],
      ['limit=501', /limit/],
      ['since=2026-02-30', /since/],
      ['since=yesterday', /since/],
      ['type=card.nope', /type/],
      ['outcome=maybe', /outcome/],
      ['uid=zz', /uid/],
      ['cursor=DROP', /cursor/],
      ['since=2026-11-02&until=2026-11-01', /until/],
      ['password=x', /query/],
      ['login=a&login=b', /login/],
    ];
    for (const [q, field] of cases) {
      const r = await c.get(`/admin/api/audit?${q}`);
      error(r, 400, 'bad_request');
      expect({ q, message: r.json.error.message }).toEqual({ q, message: expect.stringMatching(field) });
    }
    // At most 366 days (MAX_CHART_DAYS): 2025-01-01 to 2026-01-02 (exclusive) is 366, to 2026-01-03 one too many.
    expect((await c.get('/admin/api/audit/days?since=2025-01-01&until=2026-01-02')).json.days).toHaveLength(366);
    error(await c.get('/admin/api/audit/days?since=2025-01-01&until=2026-01-03'), 400, 'bad_request');
    error(await c.get('/admin/api/audit/days?since=2026-01-01'), 400, 'bad_request');
    error(await c.get('/admin/api/audit/records/DROP'), 400, 'bad_request');
  });

  it('when the view cannot be recorded, nothing is answered: 503 audit_unavailable', async () => {
    const c = await logIn('auditor');
    // A damaged head: the log cannot chain onto it, while the trail still reads.
    const junk = await srv.redis.xadd('audit:log', '*', 'r', 'not a record');
    try {
      for (const path of ['/admin/api/audit', `/admin/api/audit/records/${junk}`, '/admin/api/audit/days?since=2026-11-01&until=2026-11-02']) {
        const r = await c.get(path);
        error(r, 503, 'audit_unavailable');
        expect(JSON.stringify(r.json)).not.toContain('"entries"');
      }
    } finally {
      await srv.redis.xdel('audit:log', junk!);
    }
  });
});
