import { signTapout } from '../../src/card-agent/sign-statement';
import { auditEventDef, type AuditEventType } from '../../src/audit/events';
import { auditRecords } from '../helpers/audit';
import { manualClock, suiteServer, TestClient, type TestAgent, type TestServer } from '../helpers/app';

// Issue 11 §1: the records the login flows write carry the fields domain.md §7 asks for, and
// only the `details` keys their entry in src/audit/events.ts lists.

const PASSWORD = 'Верный-пароль-2026!';
const CARD_I = '04A22BB25C6180';
const CARD_P = '04B33CC36D7291';
const UNKNOWN_CARD = '04C44DD47E83A2';
const CARD_S = '04D55EE58F94B3';
const BROWSER = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/131.0.0.0';
const AGENT_UA = 'cardauth-agent/test';
const READER = 'Virtual PCD 00 00';

describe('the login flows write the fields domain.md §7 lists, and the details their events list', () => {
  let srv: TestServer;
  let agent: TestAgent;
  const ids: Record<string, string> = {};
  const clock = manualClock();
  suiteServer({ clock, env: { CARDAUTH_SESSION_IDLE_SEC: '600', CARDAUTH_LOCKOUT_ATTEMPTS: '3', CARDAUTH_CARD_LOCKOUT_ATTEMPTS: '3', CARDAUTH_IP_ATTEMPTS: '1000' } }, async (s, a) => {
    [srv, agent] = [s, a];
    ids.ivanova = (await srv.account('ivanova', PASSWORD, CARD_I)).id;
    ids.petrov = (await srv.account('petrov', PASSWORD, CARD_P)).id;
    ids.security = (await srv.account('security', PASSWORD, CARD_S, ['security_officer'])).id;
  });
  const browser = () => srv.client({ 'user-agent': BROWSER });
  const tapout = async (uid: string) =>
    new TestClient(srv.url, null, { 'user-agent': AGENT_UA }).post('/agents/events', { statement: await signTapout(agent.key, { aud: srv.config.CARDAUTH_PUBLIC_ORIGIN, uid, reader: READER, signal: 'tap' }, clock) });

  let records: Array<Record<string, any>>;
  beforeAll(async () => {
    // Log in, lock by idle, fail and pass the unlock, log out.
    const c = browser();
    expect((await srv.login(c, agent, CARD_I, 'ivanova', PASSWORD)).status).toBe(200);
    clock.advance(601_000);
    expect((await c.get('/auth/session')).status).toBe(401);
    expect((await srv.login(c, agent, CARD_I, 'ivanova', 'неверный-пароль')).status).toBe(401);
    expect((await srv.login(c, agent, CARD_I, 'ivanova', PASSWORD)).status).toBe(200);
    expect((await c.post('/auth/logout')).status).toBe(204);
    // Log in, tap the card out.
    const d = browser();
    expect((await srv.login(d, agent, CARD_I, 'ivanova', PASSWORD)).status).toBe(200);
    expect((await tapout(CARD_I)).status).toBe(200);
    // An unknown card; three wrong passwords lock the account and the card.
    expect((await srv.login(browser(), agent, UNKNOWN_CARD, 'ivanova', PASSWORD)).status).toBe(401);
    for (let i = 0; i < 3; i++) expect((await srv.login(browser(), agent, CARD_P, 'petrov', `неверный-${i}`)).status).toBe(401);
    // An officer unlocks them from the pages' API.
    const officer = browser();
    expect((await srv.login(officer, agent, CARD_S, 'security', PASSWORD)).status).toBe(200);
    expect((await officer.post('/admin/api/accounts/petrov/unlock', {})).status).toBe(200);
    expect((await officer.post(`/admin/api/cards/${CARD_P}/unlock`, {})).status).toBe(200);
    records = await auditRecords(srv.redis);
  });
  const byOfficer = (r: Record<string, any>) => String(r.actor).startsWith('acct:');
  const of = (type: AuditEventType, reason?: string) => records.filter((r) => r.type === type && (reason === undefined || r.reason === reason));

  it('writes each of the login events', () => {
    const seen = (type: AuditEventType, reason?: string) => ({ type, reason, n: of(type, reason).length > 0 });
    const expected: Array<[AuditEventType, string?]> = [
      ['card.presented'],
      ['card.presented', 'unknown_card'],
      ['password.checked'],
      ['password.checked', 'wrong_password'],
      ['session.created'],
      ['session.locked', 'idle'],
      ['session.locked', 'tapout'],
      ['session.unlocked'],
      ['session.unlocked', 'login_failed'],
      ['session.logout'],
      ['card.tapout'],
      ['account.locked'],
      ['card.locked'],
      ['account.unlocked'],
      ['card.unlocked'],
    ];
    for (const [type, reason] of expected) expect(seen(type, reason)).toEqual({ type, reason, n: true });
  });

  it('every record carries only the details keys its event lists', () => {
    for (const r of records) {
      const listed = Object.keys(auditEventDef(r.type).fields ?? {});
      expect({ type: r.type, unlisted: Object.keys(r.details ?? {}).filter((k) => !listed.includes(k)) }).toEqual({ type: r.type, unlisted: [] });
    }
  });

  it('every record of a request names where it came from: its IP and user agent, and the agent of the session or the card', () => {
    for (const r of records.filter((x) => !byOfficer(x))) {
      const ua = r.type === 'card.tapout' || r.reason === 'tapout' ? AGENT_UA : BROWSER;
      expect({ type: r.type, reason: r.reason, source: r.source }).toEqual({ type: r.type, reason: r.reason, source: expect.objectContaining({ ip: expect.any(String), userAgent: ua, agentId: agent.id }) });
    }
  });

  it('every record where a card was presented names the card, its reader, the session (hashed) and, for a known card, its account', () => {
    const withCard = records.filter((r) => ['card.presented', 'password.checked', 'session.created', 'session.unlocked', 'card.tapout', 'account.locked', 'card.locked'].includes(r.type) || r.reason === 'tapout');
    expect(withCard.length).toBeGreaterThan(10);
    for (const r of withCard) {
      const expected = {
        cardUid: expect.stringMatching(/^04[0-9A-F]{12}$/),
        source: expect.objectContaining({ reader: READER }),
        ...(r.type === 'card.tapout' ? {} : { sessionIdHash: expect.stringMatching(/^[0-9a-f]{64}$/) }),
        ...(r.reason === 'unknown_card' ? {} : { subject: expect.objectContaining({ accountId: expect.stringMatching(/^acc_/) }) }),
      };
      expect({ type: r.type, reason: r.reason, ...r }).toMatchObject({ type: r.type, reason: r.reason, ...expected });
    }
  });

  it('a tap-out and the lock it makes name the card holder; a lockout names its rule as the actor', () => {
    expect(of('card.tapout')).toEqual([expect.objectContaining({ subject: { accountId: ids.ivanova } })]);
    expect(of('session.locked', 'tapout')).toEqual([expect.objectContaining({ subject: { accountId: ids.ivanova } })]);
    for (const type of ['account.locked', 'card.locked'] as const) {
      expect(of(type)).toEqual([expect.objectContaining({ actor: 'system:lockout', subject: { accountId: ids.petrov }, cardUid: CARD_P })]);
    }
  });

  it('every session record after login names the account and the session (hashed)', () => {
    for (const r of [...of('session.created'), ...of('session.locked'), ...of('session.unlocked'), ...of('session.logout')]) {
      expect({ type: r.type, ...r }).toMatchObject({ type: r.type, subject: { accountId: expect.stringMatching(/^acc_/) }, sessionIdHash: expect.stringMatching(/^[0-9a-f]{64}$/) });
    }
  });

  it("an officer's change from the pages names the officer and where they were: IP and user agent", () => {
    const changes = records.filter(byOfficer);
    expect(changes.map((r) => r.type)).toEqual(['account.unlocked', 'card.unlocked']);
    for (const r of changes) {
      expect(r).toMatchObject({ actor: `acct:${ids.security}`, subject: { accountId: ids.petrov }, details: expect.objectContaining({ via: 'web', ip: expect.any(String), userAgent: BROWSER }) });
    }
  });
});
