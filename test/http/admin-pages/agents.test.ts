import { exportJWK, generateKeyPair } from 'jose';
import { auditRecords, lastAudit } from '../../helpers/audit';
import { manualClock, suitePeople, type TestServer } from '../../helpers/app';
import { errorCodeOf, postForm, statusOf, submitFrom } from '../../helpers/pages';
import type { TestRedis } from '../../helpers/redis';
import { cliEnv, OS_ACTOR, runCli } from '../../cli/support';

// The workbench's workstations page (/admin/agents) and its JSON twins (/admin/api/agents...).
describe('workbench: the agents page and /admin/api/agents', () => {
  const clock = manualClock();
  let srv: TestServer;
  let redis: TestRedis;
  const XSS = '<img src=x onerror=alert(1)>';
  const PEOPLE: Array<[string, string, string[]]> = [
    ['ivanova', '04D1D1D1D1D1D1', ['clinician']],
    ['security', '04D2D2D2D2D2D2', ['security_officer']],
    ['auditor', '04D4D4D4D4D4D4', ['auditor']],
  ];
  const { logIn } = suitePeople(PEOPLE, { clock, env: { CARDAUTH_SESSION_IDLE_SEC: '3600', CARDAUTH_IP_ATTEMPTS: '1000' } }, (s, _a, r) => {
    [srv, redis] = [s, r];
  });
  /** A pending agent, enrolled from `ip`, as an enrollment over HTTP registers it. */
  const pending = async (name: string, ip = '192.0.2.44') => {
    const { publicKey } = await generateKeyPair('EdDSA', { extractable: true });
    return srv.services.agents.register({ name, publicJwk: await exportJWK(publicKey), ip });
  };

  it('shows a pending agent with its fingerprint and the IP it enrolled from; its name is text; a clinician and an auditor are refused', async () => {
    const a = await pending(XSS);
    const r = await (await logIn('security')).get('/admin/agents');
    expect(r.status).toBe(200);
    expect(r.text).toContain('<h1>Рабочие станции</h1>');
    expect(r.text).toMatch(/<table id="pending"[\s\S]*<caption>Ожидают подтверждения<\/caption>/);
    const row = new RegExp(`<tr>\\s*<th scope="row">&lt;img src=x onerror=alert\\(1\\)&gt;</th>\\s*<td><code>${a.id}</code></td>\\s*<td><code class="fingerprint">${a.fingerprint}</code></td>\\s*<td>192.0.2.44</td>`);
    expect(r.text).toMatch(row);
    expect(r.text).not.toContain(XSS);
    expect(r.text).not.toMatch(/<script(?![^>]*\bsrc=)|<style|<[a-z][^>]*\s(?:style|on[a-z]+)=/i);
    for (const who of ['ivanova', 'auditor']) {
      const c = await logIn(who);
      expect((await c.get('/admin/agents')).status).toBe(403);
      const w = await postForm(c, `/admin/agents/${a.id}/approve`, { _csrf: 'x', fingerprint: a.fingerprint });
      expect([who, w.status, errorCodeOf(w.text)]).toEqual([who, 403, 'forbidden']);
    }
    expect((await srv.services.agents.get(a.id))!.status).toBe('pending');
  });

  it('approve names the fingerprint shown (a key changed since is 409 agent_state); the page and the CLI write the same state and event; revoke; CSRF', async () => {
    const officer = await logIn('security');
    const [viaPage, viaCli] = [await pending('РМ-201'), await pending('РМ-202')];
    const stale = await submitFrom(officer, '/admin/agents', `/admin/agents/${viaPage.id}/approve`, { fingerprint: viaCli.fingerprint });
    expect([stale.status, errorCodeOf(stale.text)]).toEqual([409, 'agent_state']);
    const noToken = await postForm(officer, `/admin/agents/${viaPage.id}/approve`, { fingerprint: viaPage.fingerprint });
    expect([noToken.status, errorCodeOf(noToken.text)]).toEqual([403, 'csrf_failed']);
    expect((await srv.services.agents.get(viaPage.id))!.status).toBe('pending');
    const ok = await submitFrom(officer, '/admin/agents', `/admin/agents/${viaPage.id}/approve`, { fingerprint: viaPage.fingerprint });
    expect([ok.status, ok.headers.get('location')]).toEqual([303, '/admin/agents']);
    const page = await officer.get('/admin/agents');
    expect(statusOf(page.text)).toBe('Рабочая станция РМ-201 подтверждена.');
    expect(page.text).toMatch(new RegExp(`<table id="approved">[\\s\\S]*${viaPage.id}`));
    expect((await runCli(['agent', 'approve', viaCli.id, '--fingerprint', viaCli.fingerprint], { env: cliEnv({ REDIS_URL: redis.url }) })).code).toBe(0);
    const strip = ({ id: _i, name: _n, publicJwk: _k, fingerprint: _f, createdAt: _c, approvedAt: _a, approvedBy, enrolledFrom: _e, ...rest }: Record<string, unknown>) => ({ rest, approvedBy });
    const [p, c] = [strip({ ...(await srv.services.agents.get(viaPage.id))! }), strip({ ...(await srv.services.agents.get(viaCli.id))! })];
    expect(p.rest).toEqual(c.rest);
    expect([p.approvedBy, c.approvedBy]).toEqual([expect.stringMatching(/^acct:acc_/), OS_ACTOR]);
    const records = (await auditRecords(srv.redis, 'agent.approved')).slice(-2);
    const event = ({ type, outcome, reason, details }: Record<string, any>) => ({ type, outcome, reason, details: { before: details.before, after: details.after } });
    expect(event(records[0]!)).toEqual(event(records[1]!));
    expect([records[0]!.details.via, records[1]!.details.via]).toEqual(['web', 'cli']);

    const revoked = await submitFrom(officer, '/admin/agents', `/admin/agents/${viaPage.id}/revoke`);
    expect(revoked.status).toBe(303);
    expect((await srv.services.agents.get(viaPage.id))!.status).toBe('revoked');
    expect(await lastAudit(srv.redis, 'agent.revoked')).toMatchObject({ actor: expect.stringMatching(/^acct:/), source: { agentId: viaPage.id } });
    expect((await officer.get('/admin/agents')).text).toMatch(new RegExp(`<table id="revoked">[\\s\\S]*${viaPage.id}`));
  });

  it('an agent the abuse rule suspended is listed as suspended; unsuspend brings it back (audited via web); the same as `agent unsuspend`', async () => {
    const officer = await logIn('security');
    const a = await pending('РМ-401');
    await srv.services.agents.approve(a.id, 'os:test');
    expect(await srv.services.agents.countRefusal(a.id, { max: 1, windowSec: 60 })).toMatchObject({ suspended: true });
    const page = await officer.get('/admin/agents');
    expect(page.text).toMatch(new RegExp(`<table id="suspended"[\\s\\S]*${a.id}[\\s\\S]*</table>`));
    expect(page.text).not.toMatch(new RegExp(`<table id="approved">[\\s\\S]*${a.id}`));
    const r = await submitFrom(officer, '/admin/agents', `/admin/agents/${a.id}/unsuspend`);
    expect(r.status).toBe(303);
    expect(statusOf((await officer.get('/admin/agents')).text)).toBe('Рабочая станция РМ-401 снова допущена.');
    expect((await srv.services.agents.get(a.id))!.status).toBe('approved');
    expect(await lastAudit(srv.redis, 'agent.unsuspended')).toMatchObject({ actor: expect.stringMatching(/^acct:/), details: expect.objectContaining({ before: 'suspended', after: 'approved', via: 'web' }) });
    const again = await submitFrom(officer, '/admin/agents', `/admin/agents/${a.id}/unsuspend`);
    expect([again.status, errorCodeOf(again.text)]).toEqual([409, 'agent_state']);
    // The CLI reaches the same state for another one.
    const b = await pending('РМ-402');
    await srv.services.agents.approve(b.id, 'os:test');
    await srv.services.agents.countRefusal(b.id, { max: 1, windowSec: 60 });
    expect((await runCli(['agent', 'unsuspend', b.id], { env: cliEnv({ REDIS_URL: redis.url }) })).code).toBe(0);
    const last = (await auditRecords(srv.redis, 'agent.unsuspended')).slice(-2);
    expect(last.map((e) => [e.outcome, e.details.before, e.details.after, e.details.via])).toEqual([
      ['success', 'suspended', 'approved', 'web'],
      ['success', 'suspended', 'approved', 'cli'],
    ]);
  });

  it('both pages in English (?lang=en), every text there (no key left undefined), every status and fate named', async () => {
    const officer = await logIn('security');
    await pending('РМ-501');
    for (const [path, h1] of [['/admin/cards', 'Cards'], ['/admin/agents', 'Workstations']] as const) {
      for (const lang of ['en', 'ru']) {
        const r = await officer.get(`${path}?lang=${lang}`);
        expect([path, lang, r.status, /undefined/.test(r.text)]).toEqual([path, lang, 200, false]);
      }
      expect((await officer.get(`${path}?lang=en`)).text).toContain(`<h1>${h1}</h1>`);
    }
    const dry = await submitFrom(officer, '/admin/cards?lang=en', '/admin/cards/import', { csv: 'login,uid\nnobody,zz\nnobody,04AAAAAAAAAAAA\n', mode: 'dry_run' });
    expect(/undefined/.test(dry.text)).toBe(false);
  });

  it('the JSON twins: list (with enrolledFrom), approve with a fingerprint, revoke', async () => {
    const officer = await logIn('security');
    const a = await pending('РМ-301', '198.51.100.9');
    const list = await officer.get('/admin/api/agents');
    expect(list.json.agents.find((x: { id: string }) => x.id === a.id)).toMatchObject({ status: 'pending', fingerprint: a.fingerprint, enrolledFrom: '198.51.100.9' });
    expect((await officer.post(`/admin/api/agents/${a.id}/approve`, { fingerprint: 'x'.repeat(43) })).json.error.code).toBe('agent_state');
    expect((await officer.post(`/admin/api/agents/${a.id}/approve`, { fingerprint: a.fingerprint })).json).toMatchObject({ id: a.id, status: 'approved' });
    expect((await officer.post(`/admin/api/agents/${a.id}/revoke`)).json).toMatchObject({ agent: { id: a.id, status: 'revoked' }, already: false });
    expect((await officer.post('/admin/api/agents/nope/revoke')).json.error.code).toBe('agent_not_found');
  });
});
