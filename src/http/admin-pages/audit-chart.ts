import { Router } from 'express';
import { MAX_CHART_DAYS, type AuditDay } from '../../audit/query-service';
import { DAY_MS, dayOf } from '../../days';
import type { MessageKey } from '../i18n';
import { auditReader } from '../audit-read';
import type { AuditPagesDeps } from './audit-access';
import { parseAuditFilter } from './audit-filter';
import { type AdminPage, type AdminPageKit } from './kit';
import { AUDITOR_ROLES } from '../../admin/permissions';

/** The chart's series, in the legend's order. */
const SERIES = ['logins', 'failures', 'lockouts'] as const;

/** The SVG's geometry: a plot `PLOT_H` high, each day a group of one bar per series. */
const PLOT_H = 200;
const BAR_W = 6;
const DAY_W = BAR_W * SERIES.length + 4;
const LEFT = 40;
const BOTTOM = 24;

/** One bar of the SVG, computed here so the template only draws. */
interface ChartBar {
  series: (typeof SERIES)[number];
  day: string;
  value: number;
  x: number;
  y: number;
  height: number;
}

/**
 * The bars of `days` scaled to the tallest value (at least 1), with the y-axis's top value.
 *
 * @example
 * chartBars([{ day: '2026-12-01', logins: 4, failures: 2, lockouts: 0 }]).bars[1] // => { series: 'failures', value: 2, height: 100, … }
 */
function chartBars(days: readonly AuditDay[]): { bars: ChartBar[]; max: number; width: number; height: number; plotH: number; left: number } {
  const max = Math.max(1, ...days.flatMap((d) => SERIES.map((s) => d[s])));
  const bars = days.flatMap((d, i) =>
    SERIES.map((series, j) => {
      const height = Math.round((d[series] / max) * PLOT_H);
      return { series, day: d.day, value: d[series], x: LEFT + i * DAY_W + j * BAR_W, y: PLOT_H - height, height };
    }),
  );
  return { bars, max, width: LEFT + days.length * DAY_W + 4, height: PLOT_H + BOTTOM, plotH: PLOT_H, left: LEFT };
}

/**
 * The chart (`/admin/audit/chart?since=&until=`, issue 11 §8): logins, failures and lockouts per
 * UTC day (the query service's `days`), as a server-drawn SVG of bars with a legend, and the same
 * numbers as a table for those who do not read pictures. The range is days, both included;
 * default the last 30, at most MAX_CHART_DAYS (the texts say so from it). A view is recorded as `audit.viewed` (`filter`
 * `chart since=… until=…`, `count` the days).
 *
 * @example
 * const { page, router } = createAuditChartPage(kit, deps);
 */
export function createAuditChartPage(kit: AdminPageKit, deps: AuditPagesDeps): { page: AdminPage; router: Router } {
  const router = Router();
  const page: AdminPage = {
    path: '/admin/audit/chart',
    label: 'nav_audit_chart',
    roles: AUDITOR_ROLES,
    async show(req, res, shown) {
      const today = Math.floor(kit.now() / DAY_MS) * DAY_MS;
      // The days read as the log viewer reads them (a day that does not exist, `until` before
      // `since`, a repeated one: its message); then the defaults, the range's end first.
      const parsed = parseAuditFilter({ since: req.query.since, until: req.query.until });
      const asked = parsed.ok ? parsed.filter : {};
      const until = asked.until !== undefined ? asked.until - DAY_MS : today; // the filter's until is the day after
      const since = asked.since ?? until - 29 * DAY_MS;
      const problem: MessageKey | null = !parsed.ok ? parsed.message : until < since ? 'audit_bad_until' : (until - since) / DAY_MS + 1 > MAX_CHART_DAYS ? 'audit_bad_range' : null;
      if (problem) {
        const form = { since: parsed.form.since, until: parsed.form.until };
        return kit.render(req, res, { ...shown, status: 400 }, page, 'audit-chart', { form, filterError: { message: problem }, days: [], chart: null, maxDays: MAX_CHART_DAYS });
      }
      const range = { since: dayOf(since), until: dayOf(until) };
      const record = await auditReader(deps, req);
      const days = await deps.query.days(since, until + DAY_MS);
      await record({ type: 'audit.viewed', outcome: 'success', details: { count: days.length, filter: `chart since=${range.since} until=${range.until}` } });
      kit.render(req, res, shown, page, 'audit-chart', { form: range, filterError: null, days, chart: chartBars(days), series: SERIES, maxDays: MAX_CHART_DAYS });
    },
  };
  kit.page(router, page);
  return { page, router };
}
