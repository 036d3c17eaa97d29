import { hash, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import { AUDIT_EVENT_TYPES, auditReasons, type AuditEventType } from './events';

/**
 * The audit record: its shape, input validation, canonical hashing and its
 * encoding as stream fields. Pure; no Redis here.
 *
 * A record is the validated event plus `v`, `seq`, `ts` and `prev`;
 * `hash` is the SHA-256 of the canonical JSON of all of those (everything
 * except `hash` itself), so editing any field, the order (`seq`) or the link
 * (`prev`) changes it.
 */

/** `prev` of the first record in a chain. */
export const GENESIS_PREV = '0'.repeat(64);

/** Format version, inside the hashed body so a later format cannot be passed off as this one. */
export const RECORD_VERSION = 1 as const;

export type AuditOutcome = 'success' | 'failure';

/**
 * Extra facts about an event: at most 32 keys, each `[A-Za-z][A-Za-z0-9_]*`
 * up to 64 characters; a key that looks like a secret (`pass`, `pwd`,
 * `secret`, any case) is refused. Undefined values are dropped (so details
 * can be spread together).
 */
export type AuditDetails = { readonly [key: string]: string | number | boolean | undefined } & { readonly password?: never };

/**
 * What a caller hands to the audit log.
 *
 * - `reason` is a snake_case code (≤ 64), required when `outcome` is
 *   `failure`, and one of the event's listed reasons where it lists some.
 * - Free text (`subject.*`, `actor`, `source.*`, `cardUid`, string
 *   `details`) may come from a request, so it is never refused: control
 *   characters and lone surrogates become U+FFFD and it is cut to its bound
 *   (128; `reader` 256, `userAgent` 512, `ip` and `cardUid` 64, details 256),
 *   ending in `…`. A refusal there would let a client keep its failed
 *   attempts out of the audit.
 * - `sessionId` is the raw session id; only its SHA-256 hex is stored
 *   (`sessionIdHash`).
 * - Passwords never reach the audit: `password` is `never` at every level
 *   and any key not listed here is refused at run time.
 *
 * A malformed input is a programming mistake and throws `TypeError`; its
 * message names the path, never the value.
 */
export interface AuditEventInput {
  type: AuditEventType;
  outcome: AuditOutcome;
  reason?: string;
  /** The account, or the claimed login when no account matched. */
  subject?: { accountId?: string; login?: string; password?: never };
  /** Who did an administrative action: `os:root`, or an account id. */
  actor?: string;
  source?: { agentId?: string; reader?: string; ip?: string; userAgent?: string; workstation?: string; password?: never };
  /** The card UID when one was presented, as presented. */
  cardUid?: string;
  sessionId?: string;
  details?: AuditDetails;
  password?: never;
}

/**
 * Where audit events go: the audit log, or anything that appends like it (the
 * log wrapped to record write failures). The one type every component takes.
 *
 * @example
 * function createThing(deps: { audit: AuditSink }) { … await deps.audit.append({ type: 'session.logout', outcome: 'success' }); }
 */
export interface AuditSink {
  append(input: AuditEventInput): Promise<unknown>;
}

/** A validated, normalised event: what is stored, before chaining. */
export interface AuditEvent {
  type: AuditEventType;
  outcome: AuditOutcome;
  reason?: string;
  subject?: { accountId?: string; login?: string };
  actor?: string;
  source?: { agentId?: string; reader?: string; ip?: string; userAgent?: string; workstation?: string };
  cardUid?: string;
  /** SHA-256 hex of the session id. */
  sessionIdHash?: string;
  details?: Readonly<Record<string, string | number | boolean>>;
}

/** A record as stored in the chain. */
export interface AuditRecord extends AuditEvent {
  v: typeof RECORD_VERSION;
  /** 1-based position in the chain. */
  seq: number;
  /** ISO-8601 UTC with milliseconds, from the injected clock. */
  ts: string;
  /** `hash` of the previous record; {@link GENESIS_PREV} for the first. */
  prev: string;
  /**
   * The chain's intake cursor (src/audit/log.ts): the id of the last
   * `audit:intake` entry chained at or before this record; the entry this
   * record was chained from when it differs from `prev`'s. Absent until the
   * chain first takes an intake entry (and in records from before the intake).
   */
  intake?: string;
  /** SHA-256 hex of the canonical JSON of every other field. */
  hash: string;
}

const HEX64 = /^[0-9a-f]{64}$/;
// C0, DEL, C1, the JS line separators, and lone surrogates (which UTF-8 would silently rewrite).
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;
const SECRETISH = /pass|pwd|secret/i;

function clip(s: string, max: number): string {
  const clean = s.replace(UNSAFE, '\ufffd');
  // At most `length` code points: a string this short fits without counting them.
  if (clean.length <= max) return clean;
  const points = Array.from(clean);
  return points.length <= max ? clean : `${points.slice(0, max - 1).join('')}…`;
}

const text = (max: number) => z.string().transform((s) => clip(s, max));
const code = z.string().max(64).regex(/^[a-z][a-z0-9_]*$/, 'must be a snake_case code');
const detailKey = z
  .string()
  .regex(/^[A-Za-z][A-Za-z0-9_]{0,63}$/, 'must be [A-Za-z][A-Za-z0-9_]* up to 64 characters')
  .refine((k) => !SECRETISH.test(k), 'must not name a secret');
const details = z
  .record(detailKey, z.union([text(256), z.number(), z.boolean()]).optional())
  .refine((d) => Object.keys(d).length <= 32, 'at most 32 keys');

const inputSchema = z
  .strictObject({
    type: z.enum(AUDIT_EVENT_TYPES),
    outcome: z.enum(['success', 'failure']),
    reason: code.optional(),
    subject: z.strictObject({ accountId: text(128).optional(), login: text(128).optional() }).optional(),
    actor: text(128).optional(),
    source: z
      .strictObject({
        agentId: text(128).optional(),
        reader: text(256).optional(),
        ip: text(64).optional(),
        userAgent: text(512).optional(),
        workstation: text(128).optional(),
      })
      .optional(),
    cardUid: text(64).optional(),
    sessionId: z.string().min(1).max(1024).optional(),
    details: details.optional(),
  })
  .superRefine((e, ctx) => {
    if (e.outcome === 'failure' && e.reason === undefined) {
      ctx.addIssue({ code: 'custom', path: ['reason'], message: 'a failure needs a reason code' });
    }
    const allowed = auditReasons(e.type);
    if (e.reason !== undefined && allowed && !allowed.includes(e.reason)) {
      ctx.addIssue({ code: 'custom', path: ['reason'], message: `not a listed reason of ${e.type}` });
    }
  });

/**
 * Drops undefined values and empty objects, so equal events serialise equally, and lists every
 * object's keys in sorted order, so {@link canonicalJson} takes its JSON.stringify path.
 */
function prune<T>(value: T): T {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return value;
  const out: Record<string, unknown> = {};
  let kept = 0;
  for (const k of Object.keys(value).sort()) {
    const p = prune((value as Record<string, unknown>)[k]);
    if (p === undefined || (typeof p === 'object' && p !== null && Object.keys(p).length === 0)) continue;
    out[k] = p;
    kept++;
  }
  return (kept === 0 ? {} : out) as T;
}

/** SHA-256 of a UTF-8 string, lowercase hex. */
export function sha256Hex(s: string): string {
  return hash('sha256', s, 'hex');
}

/**
 * Validates and normalises what a caller wants audited. Throws `TypeError`
 * (see {@link AuditEventInput} for the rules).
 *
 * @example
 * parseAuditInput({ type: 'password.checked', outcome: 'failure', reason: 'wrong_password', subject: { login: 'ivanova' } })
 */
export function parseAuditInput(input: AuditEventInput): AuditEvent {
  const r = inputSchema.safeParse(input);
  if (!r.success) {
    const issue = r.error.issues[0];
    const path = issue?.path.join('.') || '(input)';
    throw new TypeError(`audit input ${path}: ${issue?.message ?? 'invalid'}`);
  }
  const { sessionId } = r.data;
  // r.data is zod's new object. prune drops the undefined members (sessionId, and the undefined detail values the input type allows).
  return prune(Object.assign(r.data, { sessionId: undefined, sessionIdHash: sessionId === undefined ? undefined : sha256Hex(sessionId) })) as AuditEvent;
}

/**
 * An event as stored (a record without its chain fields), if it is exactly what
 * {@link parseAuditInput} writes: a listed type, outcome and reason, only listed keys,
 * text already clean and within its bounds, `sessionIdHash` 64 hex digits. Else undefined.
 * For events read back from where only nodes should have written them (the intake).
 *
 * @example
 * storedEvent(JSON.parse('{"outcome":"success","type":"session.logout"}')) // => the event
 * storedEvent({ type: 'session.logout', outcome: 'success', password: 'x' }) // => undefined
 */
export function storedEvent(value: unknown): AuditEvent | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const { sessionIdHash, ...input } = value as Record<string, unknown>;
  if (sessionIdHash !== undefined && (typeof sessionIdHash !== 'string' || !HEX64.test(sessionIdHash))) return undefined;
  let event: AuditEvent;
  try {
    event = parseAuditInput(input as unknown as AuditEventInput);
  } catch {
    return undefined;
  }
  if (sessionIdHash !== undefined) event = prune(Object.assign(event, { sessionIdHash }));
  try {
    return canonicalJson(event) === canonicalJson(value) ? event : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Whether JSON.stringify writes `value` exactly as {@link canonicalJson} does: strings, finite
 * numbers, booleans, null, arrays of those, and plain objects (no `toJSON`) listing their keys in
 * sorted order, undefined members allowed (both leave them out). Integer-like keys, which objects
 * list first, fail the order check unless they sort there too.
 */
function stringifiesCanonically(value: unknown): boolean {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return true;
    case 'number':
      return Number.isFinite(value);
    case 'object': {
      if (value === null) return true;
      // Every index and nothing else: no holes, no own toJSON.
      if (Array.isArray(value)) return Object.keys(value).length === value.length && value.every((v) => v !== undefined && stringifiesCanonically(v));
      const proto: unknown = Object.getPrototypeOf(value);
      if (proto !== Object.prototype && proto !== null) return false;
      let last: string | undefined;
      for (const k of Object.keys(value)) {
        const v = (value as Record<string, unknown>)[k];
        if ((last !== undefined && !(last < k)) || (v !== undefined && !stringifiesCanonically(v))) return false;
        last = k;
      }
      return true;
    }
    default:
      return false;
  }
}

/**
 * Deterministic JSON: object keys sorted (UTF-16 order), undefined members
 * left out, no whitespace. Refuses values JSON cannot carry exactly
 * (non-finite numbers, undefined in arrays, functions, bigints).
 *
 * A value that JSON.stringify already writes so (keys in sorted order, as
 * audit events come from parseAuditInput) goes to it, which is cheaper than
 * building the text here, on every append.
 *
 * @example
 * canonicalJson({ b: 1, a: { d: true, c: undefined } }) // => '{"a":{"d":true},"b":1}'
 */
export function canonicalJson(value: unknown): string {
  return stringifiesCanonically(value) ? JSON.stringify(value) : canonicalText(value);
}

function canonicalText(value: unknown): string {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return JSON.stringify(value);
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new TypeError('canonicalJson: non-finite number');
    return JSON.stringify(value);
  }
  if (Array.isArray(value)) return `[${value.map(canonicalText).join(',')}]`;
  if (typeof value === 'object') {
    const obj = value as Record<string, unknown>;
    let json = '';
    for (const k of Object.keys(obj).sort()) {
      const v = obj[k];
      if (v !== undefined) json += `${json === '' ? '' : ','}${JSON.stringify(k)}:${canonicalText(v)}`;
    }
    return `{${json}}`;
  }
  throw new TypeError(`canonicalJson: cannot serialise ${typeof value}`);
}

/** An object's members as {@link canonicalJson} writes them, in its order: each key and its `"key":value`. */
export type CanonicalMembers = ReadonlyArray<readonly [key: string, member: string]>;

/**
 * The members of an object's {@link canonicalJson} (undefined members left out): the JSON
 * is `{` + the members joined by `,` + `}`. The audit log takes them once per event and
 * merges in each record's chain fields when it seals.
 *
 * @example
 * canonicalMembers({ b: 1, a: true }) // => [['a', '"a":true'], ['b', '"b":1']]
 */
export function canonicalMembers(obj: object): CanonicalMembers {
  const o = obj as Record<string, unknown>;
  const out: Array<[string, string]> = [];
  for (const k of Object.keys(o).sort()) {
    const v = o[k];
    if (v !== undefined) out.push([k, `${JSON.stringify(k)}:${canonicalJson(v)}`]);
  }
  return out;
}

/**
 * The hash of a record body (every field but `hash`).
 *
 * @example
 * recordHash({ v: 1, seq: 1, ts: '2026-03-01T08:00:00.000Z', prev: GENESIS_PREV, type: 'session.logout', outcome: 'success' })
 */
export function recordHash(body: object): string {
  return sha256Hex(canonicalJson(body));
}

/**
 * Compares two hex hashes in constant time. Chain hashes are not secret; this
 * keeps one way of comparing hashes in the project.
 *
 * @example
 * sameHash(record.prev, GENESIS_PREV)
 */
export function sameHash(a: string, b: string): boolean {
  const x = Buffer.from(a, 'utf8');
  const y = Buffer.from(b, 'utf8');
  return x.length === y.length && timingSafeEqual(x, y);
}

/**
 * Places an event in the chain: adds `v`, `seq`, `ts`, `prev` and the hash.
 * Throws `TypeError` on a bad position.
 *
 * @example
 * const first = sealRecord(event, { seq: 1, prev: GENESIS_PREV, ts: '2026-03-01T08:00:00.000Z' });
 * const second = sealRecord(other, { seq: 2, prev: first.hash, ts: '2026-03-01T08:00:01.000Z' });
 */
export function sealRecord(event: AuditEvent, at: { seq: number; prev: string; ts: string; intake?: string }): AuditRecord {
  return sealRecordFields(event, at).record;
}

/**
 * {@link sealRecord} and {@link toStreamFields} at once, building the
 * canonical JSON only once (the audit log's write path).
 *
 * @example
 * const { record, fields } = sealRecordFields(event, { seq: 1, prev: GENESIS_PREV, ts: '2026-03-01T08:00:00.000Z' });
 * await redis.xadd('audit:log', '*', ...fields);
 */
export function sealRecordFields(
  event: AuditEvent,
  at: { seq: number; prev: string; ts: string; intake?: string },
  members: CanonicalMembers = canonicalMembers(event),
): { record: AuditRecord; fields: [string, string, string, string] } {
  if (!Number.isSafeInteger(at.seq) || at.seq < 1) throw new TypeError('sealRecord: seq must be a positive integer');
  if (!HEX64.test(at.prev)) throw new TypeError('sealRecord: prev must be 64 lowercase hex digits');
  const json = mergeChainFields(members, at);
  const hash = sha256Hex(json);
  // Object.assign, not spread syntax: on Node 20 a spread followed by more members takes V8's slow path, about 20× the cost here (docs/audit.md).
  const record: AuditRecord = Object.assign({}, event, { v: RECORD_VERSION, seq: at.seq, ts: at.ts, prev: at.prev }, at.intake === undefined ? {} : { intake: at.intake }, { hash });
  return { record, fields: [STREAM_FIELD_RECORD, json, STREAM_FIELD_HASH, hash] };
}

/** The chain fields' keys, in sorted order (`intake` only when given). */
const CHAIN_KEYS = ['intake', 'prev', 'seq', 'ts', 'v'] as const;

/**
 * The canonical JSON of a record body from its event's {@link canonicalMembers} and its chain
 * fields: the two sorted lists merged, an event member named like a chain field left out (the
 * chain field wins, as in the body's spread). Equal, byte for byte, to `canonicalJson(body)`.
 */
function mergeChainFields(members: CanonicalMembers, at: { seq: number; prev: string; ts: string; intake?: string }): string {
  const chain: Record<(typeof CHAIN_KEYS)[number], string | undefined> = {
    intake: at.intake === undefined ? undefined : JSON.stringify(at.intake),
    prev: JSON.stringify(at.prev),
    seq: String(at.seq),
    ts: JSON.stringify(at.ts),
    v: String(RECORD_VERSION),
  };
  let json = '{';
  let sep = '';
  let c = 0;
  for (const [key, m] of members) {
    for (; c < CHAIN_KEYS.length && CHAIN_KEYS[c]! <= key; c++) {
      const v = chain[CHAIN_KEYS[c]!];
      if (v !== undefined) {
        json += `${sep}"${CHAIN_KEYS[c]}":${v}`;
        sep = ',';
      }
    }
    if (c > 0 && CHAIN_KEYS[c - 1] === key && chain[key as (typeof CHAIN_KEYS)[number]] !== undefined) continue;
    json += sep + m;
    sep = ',';
  }
  for (; c < CHAIN_KEYS.length; c++) {
    const v = chain[CHAIN_KEYS[c]!];
    if (v !== undefined) {
      json += `${sep}"${CHAIN_KEYS[c]}":${v}`;
      sep = ',';
    }
  }
  return `${json}}`;
}

/**
 * The stream layout: exactly two fields, in this order.
 * - `r`: the canonical JSON of the record without `hash`;
 * - `h`: `hash`, 64 lowercase hex digits.
 */
export const STREAM_FIELD_RECORD = 'r';
export const STREAM_FIELD_HASH = 'h';

/**
 * The XADD field/value list of a record.
 *
 * @example
 * await redis.xadd('audit:log', '*', ...toStreamFields(record));
 */
export function toStreamFields(record: AuditRecord): [string, string, string, string] {
  const { hash, ...body } = record;
  return [STREAM_FIELD_RECORD, canonicalJson(body), STREAM_FIELD_HASH, hash];
}

/**
 * A stream entry read back. `ok: false` means it cannot be read as a record
 * (`seq` given when the JSON at least had one). `intact` says whether `r`
 * is, byte for byte, the canonical JSON of its own value and `h` its hash;
 * `record` is `r` as stored (only its chain fields checked) with `h` as its
 * `hash`.
 */
export type DecodedEntry = { ok: true; seq: number; prev: string; hash: string; intact: boolean; record: AuditRecord } | { ok: false; seq?: number };

/** The chain fields of a parsed record (`v`, `seq`, `ts`, `prev`, `type`, `outcome` present and well-typed), or undefined. By hand, not zod: it runs per record in `audit verify`. */
function chainFields(parsed: unknown): { seq: number; prev: string } | undefined {
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return undefined;
  const r = parsed as Record<string, unknown>;
  const { seq, prev } = r;
  const ok =
    r.v === RECORD_VERSION &&
    Number.isSafeInteger(seq) &&
    (seq as number) > 0 &&
    typeof r.ts === 'string' &&
    typeof prev === 'string' &&
    HEX64.test(prev) &&
    typeof r.type === 'string' &&
    (r.outcome === 'success' || r.outcome === 'failure');
  return ok ? { seq: seq as number, prev: prev as string } : undefined;
}

/** Whether `text` is the canonical JSON of `value` (what JSON.parse made of it); a value none can have (a number JSON.parse made Infinity) is not. */
function isCanonical(value: unknown, text: string): boolean {
  try {
    return canonicalJson(value) === text;
  } catch {
    return false;
  }
}

/**
 * Reads the fields of one stream entry (as XRANGE returns them).
 *
 * The hash covers the stored text, and that text must be the canonical JSON
 * of the value it parses to. Hashing only the parsed value would let the
 * text be rewritten (whitespace, key order, `\u` escapes, a duplicate key
 * whose first copy another parser would read) without breaking the hash.
 * The check costs one parse and one re-encoding, as recomputing the hash
 * did.
 *
 * `{ canonical: false }` leaves the re-encoding out (`intact`: `h` is the
 * hash of the text): for the chain walk, where a record the next one links
 * to cannot have been rewritten (its hash would differ), so only the head
 * and a record before a break need the full check.
 *
 * @example
 * const [[id, fields]] = await redis.xrevrange('audit:log', '+', '-', 'COUNT', 1);
 * const head = fromStreamFields(fields);
 */
export function fromStreamFields(fields: readonly string[], opts: { canonical?: boolean } = {}): DecodedEntry {
  const [rKey, json, hKey, hash] = fields;
  if (fields.length !== 4 || rKey !== STREAM_FIELD_RECORD || hKey !== STREAM_FIELD_HASH || json === undefined || hash === undefined) {
    return { ok: false };
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch {
    return { ok: false };
  }
  const c = chainFields(parsed);
  if (!c) {
    const seq = (parsed as { seq?: unknown } | null)?.seq;
    return typeof seq === 'number' && Number.isSafeInteger(seq) ? { ok: false, seq } : { ok: false };
  }
  // A hash equal to the text's is 64 hex digits; only another one needs the pattern.
  const hashed = sameHash(sha256Hex(json), hash);
  if (!hashed && !HEX64.test(hash)) return { ok: false, seq: c.seq };
  const intact = hashed && (opts.canonical === false || isCanonical(parsed, json));
  return { ok: true, seq: c.seq, prev: c.prev, hash, intact, record: { ...(parsed as Omit<AuditRecord, 'hash'>), hash } };
}
