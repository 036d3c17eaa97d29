import {
  canonicalJson,
  canonicalMembers,
  fromStreamFields,
  GENESIS_PREV,
  parseAuditInput,
  sealRecord,
  sealRecordFields,
  sha256Hex,
  toStreamFields,
  type AuditDetails,
  type AuditEvent,
  type AuditEventInput,
} from '../../src/audit/record';

const TS = '2026-03-01T08:00:00.000Z';
const base: AuditEventInput = { type: 'password.checked', outcome: 'failure', reason: 'wrong_password' };

/** The error a call throws, or 'no-error'. */
const thrown = (f: () => unknown): unknown => {
  try {
    f();
  } catch (e) {
    return e;
  }
  return 'no-error';
};

describe('parseAuditInput refuses (TypeError)', () => {
  it('a password at any level, by type and at run time', () => {
    const attempts = [
      // @ts-expect-error password is never
      { ...base, password: 'hunter2hunter2' } satisfies AuditEventInput,
      // @ts-expect-error password is never
      { ...base, subject: { login: 'ivanova', password: 'hunter2hunter2' } } satisfies AuditEventInput,
      // @ts-expect-error password is never
      { ...base, source: { ip: '10.0.0.5', password: 'hunter2hunter2' } } satisfies AuditEventInput,
      // @ts-expect-error password is never
      { ...base, details: { password: 'hunter2hunter2' } } satisfies AuditEventInput,
    ];
    for (const input of attempts) {
      const e = thrown(() => parseAuditInput(input as unknown as AuditEventInput));
      expect(e).toBeInstanceOf(TypeError);
      expect(String((e as Error).message)).not.toContain('hunter2');
    }
    // a non-literal object carrying a password does not type-check either
    const form = { login: 'ivanova', password: 'hunter2hunter2' };
    // @ts-expect-error password is never
    expect(thrown(() => parseAuditInput({ ...base, subject: form }))).toBeInstanceOf(TypeError);
  });
  it('any other unknown key, and details keys that name a secret', () => {
    for (const input of [
      { ...base, extra: 1 },
      { ...base, subject: { accountId: 'a1', role: 'x' } },
      { ...base, details: { userPassword: 'x' } },
      { ...base, details: { pwd: 'x' } },
      { ...base, details: { apiSecret: 'x' } },
      { ...base, details: { 'bad key': 'x' } },
    ]) {
      expect(thrown(() => parseAuditInput(input as AuditEventInput))).toBeInstanceOf(TypeError);
    }
  });
  it('an overlong, non-code or unlisted reason, and a failure without one', () => {
    for (const reason of ['x'.repeat(65), 'Wrong Password', 'wrong\npassword', 'not_a_password_reason']) {
      expect(thrown(() => parseAuditInput({ ...base, reason }))).toBeInstanceOf(TypeError);
    }
    expect(thrown(() => parseAuditInput({ type: 'session.logout', outcome: 'failure' }))).toBeInstanceOf(TypeError);
    expect(thrown(() => parseAuditInput({ type: 'card.bound', outcome: 'failure', reason: 'card_limit' }))).toBe('no-error');
  });
  it('an unknown type or outcome, and too many details', () => {
    expect(thrown(() => parseAuditInput({ ...base, type: 'login.ok' as never }))).toBeInstanceOf(TypeError);
    expect(thrown(() => parseAuditInput({ ...base, outcome: 'maybe' as never }))).toBeInstanceOf(TypeError);
    const many = Object.fromEntries(Array.from({ length: 33 }, (_, i) => [`k${i}`, i]));
    expect(thrown(() => parseAuditInput({ ...base, details: many }))).toBeInstanceOf(TypeError);
  });
});

describe('parseAuditInput normalises', () => {
  it('keeps request text but replaces control characters and clips it', () => {
    const e = parseAuditInput({
      ...base,
      subject: { login: `ivanova\r\n${'x'.repeat(300)}` },
      source: { userAgent: 'Mozilla\u0000/5.0\ud800', ip: '10.0.0.5' },
      cardUid: 'zz\u001b[31m',
    });
    expect(e.subject?.login).toHaveLength(128);
    expect(e.subject?.login).toMatch(/^ivanova\ufffd\ufffdx+…$/);
    expect(e.source).toEqual({ userAgent: 'Mozilla\ufffd/5.0\ufffd', ip: '10.0.0.5' });
    expect(e.cardUid).toBe('zz\ufffd[31m');
  });
  it('stores the session id only as its SHA-256', () => {
    const e = parseAuditInput({ type: 'session.created', outcome: 'success', sessionId: 'raw-session-id' });
    expect(e).toEqual({ type: 'session.created', outcome: 'success', sessionIdHash: sha256Hex('raw-session-id') });
    expect(JSON.stringify(e)).not.toContain('raw-session-id');
  });
  it('lets details be spread together, dropping undefined values', () => {
    const extra = { reason2: 'x' } as AuditDetails | undefined;
    const details: AuditDetails = { ...extra, via: 'cli', attempts: 2, note: undefined };
    expect(parseAuditInput({ ...base, details }).details).toEqual({ reason2: 'x', via: 'cli', attempts: 2 });
  });
  it('drops undefined members and empty objects', () => {
    expect(parseAuditInput({ type: 'session.logout', outcome: 'success', reason: undefined, subject: {}, source: { ip: undefined } })).toEqual({
      type: 'session.logout',
      outcome: 'success',
    });
  });
});

describe('canonical hashing', () => {
  it('serialises the same data the same way whatever the key order', () => {
    expect(canonicalJson({ b: 1, a: { d: true, c: undefined, b: 'x' } })).toBe('{"a":{"b":"x","d":true},"b":1}');
    expect(canonicalJson({ a: { b: 'x', d: true }, b: 1 })).toBe(canonicalJson({ b: 1, a: { d: true, b: 'x' } }));
    expect(() => canonicalJson({ a: Number.NaN })).toThrow(TypeError);
  });
  it('writes keys already in order exactly as keys out of order, including the values JSON.stringify would write otherwise', () => {
    // in order at every level (JSON.stringify's path) and not: the same text
    expect(canonicalJson({ a: [1, 'x', null, { b: false, c: undefined }], d: { e: -0.5 } })).toBe('{"a":[1,"x",null,{"b":false}],"d":{"e":-0.5}}');
    expect(canonicalJson({ d: { e: -0.5 }, a: [1, 'x', null, { c: undefined, b: false }] })).toBe('{"a":[1,"x",null,{"b":false}],"d":{"e":-0.5}}');
    // integer-like keys, which objects list first: UTF-16 order all the same
    expect(canonicalJson({ 9: 'a', 10: 'b', x: 1 })).toBe('{"10":"b","9":"a","x":1}');
    // what JSON.stringify writes but canonical JSON refuses, in sorted objects too
    expect(() => canonicalJson({ a: Infinity })).toThrow(TypeError);
    expect(() => canonicalJson({ a: [undefined] })).toThrow(TypeError);
    expect(() => canonicalJson({ a: () => 1 })).toThrow(TypeError);
    expect(() => canonicalJson({ a: 1n })).toThrow(TypeError);
    // toJSON is not called: a Date is an object without members, whatever JSON.stringify makes of it
    expect(canonicalJson({ a: new Date(0) })).toBe('{"a":{}}');
    expect(() => canonicalJson({ a: { toJSON: () => 'x' } })).toThrow(TypeError);
    expect(canonicalJson({ a: Object.assign([1], { toJSON: () => 'x' }) })).toBe('{"a":[1]}');
  });
  it('changes the hash when any field, the position or the link changes', () => {
    const event = parseAuditInput({ ...base, subject: { login: 'ivanova' } });
    const at = { seq: 1, prev: GENESIS_PREV, ts: TS };
    const h = sealRecord(event, at).hash;
    expect(h).toMatch(/^[0-9a-f]{64}$/);
    expect(sealRecord(parseAuditInput({ ...base, subject: { login: 'ivanova' } }), at).hash).toBe(h);
    expect(sealRecord(event, { ...at, seq: 2 }).hash).not.toBe(h);
    expect(sealRecord(event, { ...at, prev: 'f'.repeat(64) }).hash).not.toBe(h);
    expect(sealRecord(event, { ...at, ts: '2026-03-01T08:00:00.001Z' }).hash).not.toBe(h);
    expect(sealRecord({ ...event, outcome: 'success' }, at).hash).not.toBe(h);
  });
  it('sealRecordFields gives the record of sealRecord and the fields of toStreamFields', () => {
    const event = parseAuditInput({ ...base, details: { attempts: 3, n: 0.1 } });
    const at = { seq: 7, prev: 'a'.repeat(64), ts: TS };
    const { record, fields } = sealRecordFields(event, at);
    expect(record).toEqual(sealRecord(event, at));
    expect(fields).toEqual(toStreamFields(record));
    expect(() => sealRecordFields(event, { ...at, seq: 0 })).toThrow(TypeError);
  });
  it('sealRecordFields with the event\'s canonical members taken beforehand writes exactly canonicalJson of the body', () => {
    // An event as the log seals it, and one read from the intake (any JSON object) with keys
    // named like the chain fields, keys sorting before, between and after them, and nesting.
    const events = [
      parseAuditInput({ ...base, subject: { accountId: 'acc_1', login: 'Иванова' }, source: { ip: '10.0.0.1', workstation: 'РМ-1' }, cardUid: '04A2', sessionId: 's', details: { b: 1, a: 'x' } }),
      { type: 'x', outcome: 'success', v: 9, seq: 's', ts: 0, prev: [], intake: 'evil', zz: 1, '\u0001': 2, é: 3, aa: [1, { b: 2, a: null }], intake2: true },
      { type: 'x', outcome: 'failure', intake: 'kept when the record has none' },
    ] as unknown as AuditEvent[];
    for (const event of events) {
      for (const at of [{ seq: 5, prev: 'a'.repeat(64), ts: TS, intake: '1-2' }, { seq: 1, prev: GENESIS_PREV, ts: TS }]) {
        const body = { ...event, v: 1, seq: at.seq, ts: at.ts, prev: at.prev, ...(at.intake === undefined ? {} : { intake: at.intake }) };
        const sealed = sealRecordFields(event, at, canonicalMembers(event));
        expect(sealed.fields[1]).toBe(canonicalJson(body));
        expect(sealed.fields[3]).toBe(sha256Hex(canonicalJson(body)));
        expect(sealed).toEqual(sealRecordFields(event, at));
      }
    }
    expect(`{${canonicalMembers(events[1] as object).map((m) => m[1]).join(',')}}`).toBe(canonicalJson(events[1]));
  });
  it('round-trips a record through the stream fields', () => {
    const record = sealRecord(parseAuditInput({ ...base, details: { attempts: 3, n: 0.1 } }), { seq: 7, prev: 'a'.repeat(64), ts: TS });
    const fields = toStreamFields(record);
    expect(fields[0]).toBe('r');
    expect(fields[2]).toBe('h');
    expect(fromStreamFields(fields)).toEqual({ ok: true, seq: 7, prev: 'a'.repeat(64), hash: record.hash, intact: true, record });
  });
  it('a record with invisible characters in its text is canonical as written, and reads back intact', () => {
    const record = sealRecord(parseAuditInput({ ...base, subject: { login: 'ivanova\u202e\u200b\u2066\ufeff' } }), { seq: 1, prev: GENESIS_PREV, ts: TS });
    expect(fromStreamFields(toStreamFields(record))).toMatchObject({ ok: true, intact: true, record });
  });
});

describe('fromStreamFields: stored text rewritten to the same value is not intact', () => {
  const record = sealRecord(parseAuditInput({ ...base, subject: { login: 'ivanova' } }), { seq: 3, prev: 'a'.repeat(64), ts: TS });
  const [, json, , hash] = toStreamFields(record);
  it.each<[string, string]>([
    ['extra whitespace', json.replace(',', ', ')],
    ['keys reordered', `{${json.slice(1, -1).split(',').reverse().join(',')}}`],
    ['an escape for a plain letter', json.replace('"failure"', '"f\\u0061ilure"')],
    ['a duplicate key, its first copy another value', json.replace('{', '{"outcome":"success",')],
  ])('%s: with the old hash, and with its own hash', (_name, rewritten) => {
    expect(rewritten).not.toBe(json);
    expect(JSON.parse(rewritten)).toEqual(JSON.parse(json));
    expect(fromStreamFields(['r', rewritten, 'h', hash])).toMatchObject({ ok: true, seq: 3, intact: false });
    expect(fromStreamFields(['r', rewritten, 'h', sha256Hex(rewritten)])).toMatchObject({ ok: true, seq: 3, intact: false });
  });
});
