import { escapeInvisible } from '../escape-invisible';

/**
 * Output helpers for the CLI: results go to stdout (a table, or a JSON array
 * with `--json`), problems to stderr as one `cardauth: …` line.
 */

/** Where the CLI writes. */
export interface Out {
  write(s: string): unknown;
}

/** Control, format and other invisible code points: shown as `?` so a stored value cannot drive the terminal. */
const UNSAFE = /\p{C}/gu;

/** One column of a table: its heading and how to render a row's cell. */
export interface Column<T> {
  heading: string;
  /** The cell's text. Rows read back from storage may hold anything; a value that is not text is shown as JSON. */
  cell(row: T): string | undefined;
}

const cellText = (v: unknown): string => (typeof v === 'string' ? v : v === undefined || v === null ? '' : (JSON.stringify(v) ?? String(v)));

const width = (s: string) => [...s].length;

/**
 * Renders rows as a table aligned with spaces, one row per line, headings in
 * capitals, empty cells as `-`. Control characters in values become `?`.
 *
 * @example
 * table([{ id: 'ag_1', name: 'РМ-101' }], [{ heading: 'ID', cell: (r) => r.id }, { heading: 'NAME', cell: (r) => r.name }]);
 * // 'ID    NAME\nag_1  РМ-101\n'
 */
export function table<T>(rows: readonly T[], columns: readonly Column<T>[]): string {
  const cells = rows.map((row) => columns.map((c) => (cellText(c.cell(row)) || '-').replace(UNSAFE, '?')));
  const all = [columns.map((c) => c.heading), ...cells];
  // A reduce, not Math.max(...): a table of a large import report has more rows than a call takes arguments.
  const widths = columns.map((_, i) => all.reduce((w, line) => Math.max(w, width(line[i] ?? '')), 0));
  return all
    .map((line) => line.map((cell, i) => (i === line.length - 1 ? cell : cell + ' '.repeat((widths[i] ?? 0) - width(cell)))).join('  ').trimEnd())
    .map((line) => `${line}\n`)
    .join('');
}

/**
 * Prints a list: a JSON array (one line) with `--json`, otherwise a table,
 * or `empty` when there is nothing to show.
 *
 * @example
 * printList(io.stdout, accounts.map(accountView), columns, { json: args.json, empty: 'no accounts' });
 */
export function printList<T>(out: Out, rows: readonly T[], columns: readonly Column<T>[], opts: { json: boolean; empty: string }): void {
  if (opts.json) out.write(`${terminalSafeJson(rows)}\n`);
  else if (rows.length === 0) out.write(`${opts.empty}\n`);
  else out.write(table(rows, columns));
}

/**
 * JSON with every control, format or unassigned code point written as a
 * `\\u` escape: the same data, but nothing that can drive a terminal or
 * reorder the text (C1 controls, bidi overrides) reaches it raw.
 *
 * @example
 * terminalSafeJson(['a\u202eb']) // => '["a\\u202eb"]'
 */
export function terminalSafeJson(value: unknown): string {
  return escapeInvisible(JSON.stringify(value));
}

export { isoTime } from '../clock';

/** How many open sessions a block or a revocation ended, for its output line. */
export const endedPhrase = (n: number): string => (n === 0 ? 'no open session' : `${n} open session(s) ended`);
