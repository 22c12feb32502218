import type { Money } from '../core/money';
import { addDays, isReportingDate, ReportingCalendar, ReportingDate } from '../processing/reporting-calendar';
import type { ProcessingService } from '../processing/processing-service';

/** Rows per report page; more are cut off (and the page says so). */
export const REPORT_ROW_LIMIT = 1000;
/** The span shown when no dates are given: the last week of reporting days. */
const DEFAULT_DAYS = 7;

/** What a statistics report shows: hours or days of one span, of one campaign and/or affiliate. */
export interface StatisticsReportQuery {
  granularity: 'hour' | 'day';
  campaignId?: number;
  affiliateId?: number;
  /** First reporting day (REPORTING_TIMEZONE), inclusive. */
  from: ReportingDate;
  /** Last reporting day, inclusive. */
  to: ReportingDate;
}

/** One row of a statistics report: a period (local to the reporting time zone), campaign and affiliate. */
export interface StatisticsReportRow {
  /** `YYYY-MM-DD` (days) or `YYYY-MM-DD HH:00` (hours), in the reporting time zone. */
  period: string;
  campaignId: number;
  affiliateId: number;
  transactions: number;
  approved: number;
  /** Affiliate payout of all transactions, exact. */
  payout: Money;
  /** Merchant revenue of all transactions, exact. */
  revenue: Money;
  /** impact actions of the period (their own time) that are now REVERSED. */
  reversals: number;
  /**
   * Those reversals per the disposition code that reversed them (only codes with some). A Map: a custom
   * code may be any `[A-Za-z0-9_.-]` word, `__proto__` included.
   */
  reversalsByCode: Map<string, number>;
}

/** The code shown for a reversal with no code kept (reversed before codes were, with no history row). */
export const NO_CODE = '(none)';

/** A report: its rows, oldest first, and whether the row limit cut it short. */
export interface StatisticsReport {
  query: StatisticsReportQuery;
  timeZone: string;
  rows: StatisticsReportRow[];
  truncated: boolean;
  /** The disposition codes of the rows' reversals, sorted: one column each. */
  dispositionCodes: string[];
}

/** A report query from what a form sent; problems name each field that could not be read. */
export function statisticsReportQueryOf(
  input: Record<string, string>,
  today: ReportingDate,
): { query: StatisticsReportQuery; problems: string[] } {
  const problems: string[] = [];
  const id = (name: string, label: string): number | undefined => {
    const text = (input[name] ?? '').trim();
    if (text === '') return undefined;
    if (/^[1-9][0-9]{0,9}$/.test(text) && Number(text) <= 4294967295) return Number(text);
    problems.push(`${label} must be a whole number such as 12.`);
    return undefined;
  };
  const date = (name: string, label: string, fallback: ReportingDate): ReportingDate => {
    const text = (input[name] ?? '').trim();
    if (text === '') return fallback;
    if (isReportingDate(text)) return text;
    problems.push(`${label} must be a date written YYYY-MM-DD, such as ${today}.`);
    return fallback;
  };
  const to = date('to', 'To', today);
  const from = date('from', 'From', addDays(to, -(DEFAULT_DAYS - 1)));
  if (from > to) problems.push('From must not be after To.');
  const query: StatisticsReportQuery = {
    granularity: input.granularity === 'hour' ? 'hour' : 'day',
    from: from > to ? to : from,
    to,
  };
  const campaignId = id('campaignId', 'Campaign ID');
  const affiliateId = id('affiliateId', 'Affiliate ID');
  if (campaignId !== undefined) query.campaignId = campaignId;
  if (affiliateId !== undefined) query.affiliateId = affiliateId;
  return { query, problems };
}

/** The hour an epoch-ms hour start begins at, written in the reporting time zone. */
function localHour(calendar: ReportingCalendar, at: number): string {
  const { date, minuteOfDay } = calendar.localTime(at);
  const hour = Math.floor(minuteOfDay / 60);
  const minute = minuteOfDay % 60;
  return `${date} ${String(hour).padStart(2, '0')}:${String(minute).padStart(2, '0')}`;
}

/**
 * Hourly and daily statistics for the console's Reports page and its CSV: the same rows for both, so the
 * download is exactly what the page shows. Days are nightly processing's days of REPORTING_TIMEZONE;
 * hours are the roll-up's UTC hours, labelled in that time zone.
 */
export async function statisticsReport(
  processing: Pick<ProcessingService, 'hourlyReport' | 'dailyReport' | 'reversalsReport' | 'calendar'>,
  query: StatisticsReportQuery,
  scope: ReadonlySet<number> | null = null,
): Promise<StatisticsReport> {
  const calendar = processing.calendar;
  // A merchant's scope narrows every query to its campaigns: another merchant's campaign named in the
  // filter then finds nothing, exactly as a campaign that does not exist.
  const filter = {
    campaignId: query.campaignId,
    affiliateId: query.affiliateId,
    limit: REPORT_ROW_LIMIT + 1,
    ...(scope === null ? {} : { campaignIds: [...scope] }),
  };
  const span = { from: calendar.spanOf(query.from).from, to: calendar.spanOf(query.to).to };
  const rows: StatisticsReportRow[] =
    query.granularity === 'day'
      ? (await processing.dailyReport({ ...filter, from: query.from, to: query.to })).map((r) => ({
          period: r.date,
          campaignId: r.campaignId,
          affiliateId: r.affiliateId,
          transactions: r.transactions,
          approved: r.approvedTransactions,
          payout: r.affiliatePayout,
          revenue: r.merchantRevenue,
          reversals: 0,
          reversalsByCode: new Map(),
        }))
      : (
          await processing.hourlyReport({
            ...filter,
            ...span,
          })
        ).map((r) => ({
          period: localHour(calendar, r.hour),
          campaignId: r.campaignId,
          affiliateId: r.affiliateId,
          transactions: r.transactions,
          approved: r.approvedTransactions,
          payout: r.affiliatePayout,
          revenue: r.merchantRevenue,
          reversals: 0,
          reversalsByCode: new Map(),
        }));
  const truncated = rows.length > REPORT_ROW_LIMIT;
  const shown = rows.slice(0, REPORT_ROW_LIMIT);
  // Reversals join the statistics rows of their period, campaign and affiliate (a reversed action is one
  // of that row's transactions). Hours fold into days by the same calendar as the rows' labels.
  const byKey = new Map(shown.map((row) => [`${row.period}|${row.campaignId}|${row.affiliateId}`, row]));
  const codes = new Set<string>();
  for (const r of await processing.reversalsReport({ ...filter, ...span })) {
    const period = query.granularity === 'day' ? calendar.dateOf(r.hour) : localHour(calendar, r.hour);
    const row = byKey.get(`${period}|${r.campaignId}|${r.affiliateId}`);
    if (!row) continue;
    const code = r.dispositionCode ?? NO_CODE;
    row.reversals += r.reversals;
    row.reversalsByCode.set(code, (row.reversalsByCode.get(code) ?? 0) + r.reversals);
    codes.add(code);
  }
  return { query, timeZone: calendar.timeZone, rows: shown, truncated, dispositionCodes: [...codes].sort() };
}

/** Totals per period across campaigns and affiliates, oldest first: what the charts draw. */
export function totalsByPeriod(rows: StatisticsReportRow[]): StatisticsReportRow[] {
  const byPeriod = new Map<string, StatisticsReportRow>();
  for (const row of rows) {
    const sum = byPeriod.get(row.period);
    if (!sum) {
      byPeriod.set(row.period, {
        ...row,
        campaignId: 0,
        affiliateId: 0,
        reversalsByCode: new Map(row.reversalsByCode),
      });
      continue;
    }
    sum.reversals += row.reversals;
    for (const [code, count] of row.reversalsByCode)
      sum.reversalsByCode.set(code, (sum.reversalsByCode.get(code) ?? 0) + count);
    sum.transactions += row.transactions;
    sum.approved += row.approved;
    sum.payout += row.payout;
    sum.revenue += row.revenue;
  }
  return [...byPeriod.values()];
}
