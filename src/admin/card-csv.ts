import { z } from 'zod';
import { normaliseUid, type Uid } from '../contract/uid';
import { CardauthError, isCardauthError } from '../errors';
import { normaliseLogin } from '../store/accounts';
import { printable } from '../store/script';

/**
 * The CSV file of `card import`: a header line naming the columns `login`,
 * `uid` and optionally `label` (any case, any order; other columns are
 * refused), then one card per line. Cells are separated by `,` or by `;` (a
 * Russian-locale spreadsheet's separator), whichever the header uses;
 * RFC 4180 quoting (`"a;b"`, `""` for a quote inside). UTF-8, with or without
 * a byte-order mark; CRLF or LF. Blank lines are skipped.
 */

/** Why a line of the file cannot be imported, found before Redis is asked. */
export type CsvLineProblem = 'bad_line' | 'bad_login' | 'bad_uid' | 'bad_label' | 'duplicate_in_file';

/** One line of the file after the header: the card it asks for, or what is wrong with it. */
export type CsvLine =
  | { line: number; login: string; uid: Uid; label: string }
  | { line: number; login: string; uid: string; problem: CsvLineProblem; detail: string };

/** Largest file `card import` reads (about 150,000 lines of a typical length). */
export const CARD_CSV_MAX_BYTES = 8 * 1024 * 1024;

/** Largest page form carrying such a file (urlencoded: percent-encoding at most triples a byte). */
export const CARD_CSV_FORM_MAX_BYTES = 3 * CARD_CSV_MAX_BYTES;

const Row = z.object({
  login: z.string().transform(check((v) => (normaliseLogin(v), v.trim()))),
  uid: z.string().transform(check((v) => normaliseUid(v))),
  label: z.string().transform(check((v) => printable(v, 'label', 64, { allowEmpty: true }))),
});
const PROBLEM_OF: Record<string, CsvLineProblem> = { login: 'bad_login', uid: 'bad_uid', label: 'bad_label' };

/** A store checker as a zod transform: its CardauthError becomes the issue (`code: message`). */
function check<T>(f: (v: string) => T) {
  return (v: string, ctx: z.RefinementCtx): T => {
    try {
      return f(v);
    } catch (err) {
      if (!isCardauthError(err)) throw err;
      ctx.addIssue({ code: 'custom', message: `${err.code}: ${err.message}` });
      return z.NEVER;
    }
  };
}

/**
 * Splits CSV text into records of cells, each with the line it starts on.
 * Throws `bad_request` for a quote left open at the end of the file (no
 * later line could be told apart from it).
 */
function records(text: string, sep: string): Array<{ line: number; cells: string[] }> {
  const out: Array<{ line: number; cells: string[] }> = [];
  let cells: string[] = [];
  let cell = '';
  let quoted = false;
  let line = 1;
  let start = 1;
  let i = 0;
  const end = () => {
    cells.push(cell);
    if (cells.length > 1 || cells[0] !== '') out.push({ line: start, cells });
    cells = [];
    cell = '';
  };
  while (i < text.length) {
    const ch = text[i] as string;
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        cell += '"';
        i += 2;
        continue;
      }
      if (ch === '"') quoted = false;
      else {
        if (ch === '\n') line++;
        cell += ch;
      }
      i++;
      continue;
    }
    if (ch === '"' && cell === '') quoted = true;
    else if (ch === sep) {
      cells.push(cell);
      cell = '';
    } else if (ch === '\n' || ch === '\r') {
      if (ch === '\r' && text[i + 1] === '\n') i++;
      end();
      start = ++line;
    } else cell += ch;
    i++;
  }
  if (quoted) throw new CardauthError('bad_request', `line ${start}: a quoted cell is not closed`);
  end();
  return out;
}

/**
 * Reads the import file: its header, then each line as the card it asks for
 * or its problem (a bad login, UID or label, the wrong number of cells, a
 * UID that an earlier line of the file names too). Bad lines never throw;
 * a file that cannot be read as a whole does, with `bad_request`: not UTF-8,
 * larger than {@link CARD_CSV_MAX_BYTES}, no header naming `login` and
 * `uid`, a quote left open.
 *
 * @example
 * parseCardCsv(Buffer.from('login;uid;label\nivanova;04A22BB25C6180;ЕКП\n'))
 * // => [{ line: 2, login: 'ivanova', uid: '04A22BB25C6180', label: 'ЕКП' }]
 */
export function parseCardCsv(bytes: Uint8Array): CsvLine[] {
  if (bytes.length > CARD_CSV_MAX_BYTES) throw new CardauthError('bad_request', `the file is larger than ${CARD_CSV_MAX_BYTES / 1024 / 1024} MB; split it`);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch {
    throw new CardauthError('bad_request', 'the file is not UTF-8 text; save it as "CSV UTF-8"');
  }
  const firstLine = text.slice(0, text.search(/\r|\n|$/));
  const sep = firstLine.includes(';') ? ';' : ',';
  const [header, ...rows] = records(text, sep);
  const names = (header?.cells ?? []).map((c) => c.trim().toLowerCase());
  const col = { login: names.indexOf('login'), uid: names.indexOf('uid'), label: names.indexOf('label') };
  const unknown = names.filter((n) => !(n in col));
  if (col.login < 0 || col.uid < 0 || unknown.length > 0 || new Set(names).size !== names.length) {
    throw new CardauthError('bad_request', 'the first line must be the header: login, uid and optionally label (separated by , or ;)');
  }
  const firstOf = new Map<string, number>();
  return rows.map(({ line, cells }): CsvLine => {
    const raw = { login: cells[col.login] ?? '', uid: cells[col.uid] ?? '', label: col.label < 0 ? '' : (cells[col.label] ?? '') };
    const shown = { line, login: raw.login.slice(0, 64), uid: raw.uid.slice(0, 40) };
    if (cells.length !== names.length) return { ...shown, problem: 'bad_line', detail: `${cells.length} cell(s), the header has ${names.length}` };
    const r = Row.safeParse(raw);
    if (!r.success) {
      const issue = r.error.issues[0];
      return { ...shown, problem: PROBLEM_OF[String(issue?.path[0])] ?? 'bad_line', detail: issue?.message ?? 'invalid' };
    }
    const first = firstOf.get(r.data.uid);
    if (first !== undefined) return { ...shown, uid: r.data.uid, problem: 'duplicate_in_file', detail: `line ${first} names this card too` };
    firstOf.set(r.data.uid, line);
    return { line, ...r.data };
  });
}
