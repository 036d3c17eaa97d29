import { fmt } from './stats';
import type { Row, Target } from './types';

const num = (n: number) => (Math.abs(n) >= 100 ? fmt(n, 0) : Math.abs(n) >= 10 ? fmt(n, 1) : fmt(n, 2));

export function verdict(row: Row): 'PASS' | 'MISS' | '' {
  const t = row.target;
  if (!t) return '';
  const x = t.of === 'ratio' ? row.ratio : row.value;
  if (x === undefined || !Number.isFinite(x)) return 'MISS';
  const ok = t.op === '>=' ? x >= t.value : t.op === '>' ? x > t.value : t.op === '<=' ? x <= t.value : x < t.value;
  return ok ? 'PASS' : 'MISS';
}

const targetText = (t: Target | undefined) => (t ? `${t.of === 'ratio' ? 'ratio' : 'value'} ${t.op} ${t.value}` : '');

/** A plain-text table, one line per row, columns padded. */
export function renderTable(rows: Array<Row & { section: string }>): string {
  const header = ['section', 'metric', 'measured', 'baseline (same run)', 'ratio', 'target', '', 'note'];
  const lines = rows.map((r) => [
    r.section,
    r.metric,
    `${num(r.value)} ${r.unit}`,
    r.baseline ? `${num(r.baseline.value)} ${r.baseline.unit} (${r.baseline.label})` : '',
    r.ratio !== undefined ? fmt(r.ratio, 3) : '',
    targetText(r.target),
    verdict(r),
    r.note ?? '',
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === 2 || i === 3 || i === 4 ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...lines.map(line)].join('\n');
}
