import { escapeInvisible, escapeInvisibleText } from '../escape-invisible';
import type { AuditEntry } from './query';

/**
 * How `cardauth audit export` writes records:
 *
 * - `jsonl`: one JSON object per line, `{"id", "intact", "record"}`, the
 *   record as stored with its `hash`, so its hash can be checked again from
 *   the file: parse the line and hash `canonicalJson` of the record without
 *   `hash` (not the bytes of the line, which are not the canonical text);
 * - `csv`: for the spreadsheets of a Russian office: `;` between cells
 *   (what Excel expects in the Russian locale, where `,` is the decimal
 *   mark), CRLF, UTF-8 with a byte-order mark so that Excel shows Cyrillic,
 *   one column per field, `details` as JSON, the header in Russian (the
 *   auditor's language: «Время (UTC)», «Событие», «Итог», «Причина», …; the
 *   cells are the record's values as stored, codes included). Otherwise RFC 4180: a
 *   cell holding `;`, `,`, a quote, a tab or a line break is quoted, so that it
 *   stays one cell whichever separator a program guesses. A cell that a
 *   spreadsheet would run as a formula (`=`, `+`, `-`, `@`, tab, CR first)
 *   gets a leading `'`: logins and user agents come from requests.
 *
 * In both, an invisible or text-reordering character (bidi overrides and
 * isolates, zero-width characters, other controls: see `escapeInvisible`)
 * is written as a `\uXXXX` escape, as the CLI shows it, so that a look-alike
 * login (a claimed login is recorded as typed) cannot pass for another in the
 * file. In JSON lines these are JSON escapes: the record parses to exactly
 * what is stored, and its hash checks out. In CSV text cells a backslash that
 * would read as the start of such an escape is doubled (`escapeInvisibleText`),
 * so a login typed as the six characters `\u200b` shows as `\\u200b`.
 */
export const AUDIT_EXPORT_FORMATS = ['jsonl', 'csv'] as const;
export type AuditExportFormat = (typeof AUDIT_EXPORT_FORMATS)[number];

const CSV_COLUMNS: ReadonlyArray<[string, (e: AuditEntry) => unknown]> = [
  ['Идентификатор записи', (e) => e.id],
  ['Номер', (e) => e.record.seq],
  ['Время (UTC)', (e) => e.record.ts],
  ['Событие', (e) => e.record.type],
  ['Итог', (e) => e.record.outcome],
  ['Причина', (e) => e.record.reason],
  ['Кто действовал', (e) => e.record.actor],
  ['Логин', (e) => e.record.subject?.login],
  ['Учётная запись', (e) => e.record.subject?.accountId],
  ['UID карты', (e) => e.record.cardUid],
  ['Агент', (e) => e.record.source?.agentId],
  ['Рабочая станция', (e) => e.record.source?.workstation],
  ['Считыватель', (e) => e.record.source?.reader],
  ['IP-адрес', (e) => e.record.source?.ip],
  ['Браузер (User-Agent)', (e) => e.record.source?.userAgent],
  ['Хеш сессии', (e) => e.record.sessionIdHash],
  ['Подробности', (e) => e.record.details],
  ['Запись цела', (e) => e.intact],
  ['Хеш записи', (e) => e.record.hash],
];

/**
 * One CSV cell: invisible characters escaped (in text, a backslash that would
 * read as the start of such an escape doubled; an object is JSON, whose
 * backslashes are doubled already), quoted when it holds a comma, quote or
 * line break, and defused when a spreadsheet would read it as a formula.
 *
 * @example
 * csvCell('=HYPERLINK("x")') // => `"'=HYPERLINK(""x"")"`
 * csvCell('x;=1') // => '"x;=1"' (one cell, never split)
 * csvCell('admin\u200b') // => 'admin\\u200b'
 * csvCell('admin\\u200b') // => 'admin\\\\u200b' (typed as the six characters)
 */
export function csvCell(value: unknown): string {
  if (value === undefined || value === null) return '';
  let s = typeof value === 'string' ? escapeInvisibleText(value) : escapeInvisible(typeof value === 'object' ? JSON.stringify(value) : String(value));
  if (/^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[";,\t\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** What the file starts with: the BOM and header for CSV, nothing for JSON lines. */
export function exportHeader(format: AuditExportFormat): string {
  return format === 'csv' ? `\ufeff${CSV_COLUMNS.map(([name]) => name).join(';')}\r\n` : '';
}

/**
 * One record as a line of the export.
 *
 * @example
 * exportLine('jsonl', entry) // => '{"id":"1764…-0","intact":true,"record":{…}}\n'
 */
export function exportLine(format: AuditExportFormat, entry: AuditEntry): string {
  if (format === 'jsonl') return `${escapeInvisible(JSON.stringify({ id: entry.id, intact: entry.intact, record: entry.record }))}\n`;
  return `${CSV_COLUMNS.map(([, cell]) => csvCell(cell(entry))).join(';')}\r\n`;
}
