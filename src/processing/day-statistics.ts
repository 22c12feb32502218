import type { Logger } from '../logger';
import { MoneyColumnError } from '../core/money';
import { classifyDatabaseError } from '../store/database-errors';
import type { DailyStatisticsStore } from '../store/daily-statistics-store';
import type { ReportQueries } from '../store/report-queries';
import { inSavepoint, type Sql } from '../store/unit-of-work';
import { compareTotals, ConsistencyReport } from './consistency-check';
import type { ReportingDate } from './reporting-calendar';

/** A campaign whose daily statistics could not be computed for a day; every other campaign's were. */
export interface FailedGroup {
  date: ReportingDate;
  campaignId: number;
  /** The database's or the reader's own words, without the statement. */
  reason: string;
}

/** What computing one day did. */
export interface DayResult {
  /** Daily statistics rows (campaign × affiliate) the day has now. */
  rows: number;
  failedGroups: FailedGroup[];
  /** The day's statistics against its transactions (failed campaigns left out); null unless asked for. */
  consistency: ConsistencyReport | null;
}

/** What computing a day needs. */
export interface DayDeps {
  dailyStatistics: DailyStatisticsStore;
  reports: ReportQueries;
  logger?: Pick<Logger, 'error'>;
}

/** One day to compute: its date, the instants it spans, and whether to check it against the transactions. */
export interface DaySpec {
  date: ReportingDate;
  span: { from: number; to: number };
  now: number;
  check: boolean;
}

/** A failure that is one group's data's fault (a total past BIGINT, a corrupt amount), not the database's. */
const isGroupsFault = (error: unknown) =>
  error instanceof MoneyColumnError || classifyDatabaseError(error) === 'bad_value';

// knex puts the statement in front of the driver's message ("insert into … - integer overflow").
const reasonOf = (error: unknown) =>
  String(error instanceof Error ? error.message : error)
    .split(' - ')
    .pop()
    ?.slice(0, 200) ?? '';

/**
 * Computes a day's daily statistics inside the caller's unit of work, and checks them when asked: the
 * whole day at once, and when that fails for a value some row's data cannot hold, campaign by campaign,
 * each in a savepoint. A campaign whose statistics cannot be summed or read (a corrupt row, a total past
 * BIGINT) is then named, logged and left as it was, and every other campaign of the day is processed.
 * Any other failure (the database's trouble, a bug) fails the whole run, which is then tried again.
 */
export async function computeDay(sql: Sql, deps: DayDeps, day: DaySpec): Promise<DayResult> {
  try {
    return await inSavepoint(sql, (savepoint) => computeGroup(savepoint, deps, day));
  } catch (error) {
    if (!isGroupsFault(error)) throw error;
  }
  const result: DayResult = {
    rows: 0,
    failedGroups: [],
    consistency: day.check ? { ok: true, differences: [] } : null,
  };
  for (const campaignId of await deps.dailyStatistics.campaignsOfDay(sql, day.date, day.span)) {
    try {
      const group = await inSavepoint(sql, (savepoint) => computeGroup(savepoint, deps, day, campaignId));
      result.rows += group.rows;
      if (result.consistency && group.consistency)
        result.consistency.differences.push(...group.consistency.differences);
    } catch (error) {
      if (!isGroupsFault(error)) throw error;
      const failed = { date: day.date, campaignId, reason: reasonOf(error) };
      deps.logger?.error(
        { err: error, ...failed },
        'nightly processing could not compute a campaign’s daily statistics; the other campaigns were processed',
      );
      result.failedGroups.push(failed);
    }
  }
  if (result.consistency) result.consistency.ok = result.consistency.differences.length === 0;
  return result;
}

async function computeGroup(sql: Sql, deps: DayDeps, day: DaySpec, campaignId?: number): Promise<DayResult> {
  const rows = await deps.dailyStatistics.replaceDay(sql, day.date, day.span, day.now, campaignId);
  if (!day.check) return { rows, failedGroups: [], consistency: null };
  const statistics = await deps.dailyStatistics.listDay(sql, day.date, campaignId);
  const transactions = await deps.reports.transactionTotals(sql, day.span, campaignId);
  return { rows, failedGroups: [], consistency: compareTotals(statistics, transactions) };
}
