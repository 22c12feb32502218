import type { Knex } from 'knex';
import type { Logger } from '../logger';
import type { DailyStatisticsStore } from '../store/daily-statistics-store';
import type { Engine } from '../store/database';
import type { ProcessingStateStore } from '../store/processing-state-store';
import { retryingLockConflicts } from '../store/lock-retries';
import type { ReportQueries } from '../store/report-queries';
import { hourStart, HOUR_MS } from '../store/statistics-store';
import { compareTotals, ConsistencyReport } from './consistency-check';
import { rollUpLocked, RollupResult } from './hourly-rollup';
import type { ReportingCalendar, ReportingDate } from './reporting-calendar';

/** What nightly processing needs, passed in by the composition root. */
export interface NightlyDeps {
  knex: Knex;
  engine: Engine;
  processingState: ProcessingStateStore;
  dailyStatistics: DailyStatisticsStore;
  reports: ReportQueries;
  calendar: ReportingCalendar;
  now: () => number;
  logger?: Pick<Logger, 'info' | 'warn' | 'error'>;
  /** Called once the window is open (flag committed) and before the work: for observers such as tests. */
  onWindowOpened?: () => Promise<void>;
}

/** What a completed nightly run did. */
export interface NightlyReport {
  date: ReportingDate;
  timeZone: string;
  /** The UTC hours the day is made of: `from` ≤ hour < `to`. */
  hours: { from: number; to: number };
  startedAt: number;
  completedAt: number;
  rollup: RollupResult;
  /** Daily statistics rows (campaign × affiliate) the day has. */
  dailyRows: number;
  /** Earlier days already processed whose statistics changed since, recomputed by this run. */
  refreshedDates: ReportingDate[];
  consistency: ConsistencyReport;
}

/** A nightly run's answer. Refusals are values; database trouble throws. */
export type NightlyOutcome =
  | { kind: 'completed'; report: NightlyReport }
  | { kind: 'already_in_progress'; startedAt: number | null }
  | { kind: 'already_completed'; date: ReportingDate }
  | { kind: 'day_not_over'; date: ReportingDate; hoursEndAt: number };

// Changes are found by their created_at, written from each node's clock: look back this much further
// than the previous run's start so a node whose clock runs behind cannot slip past.
const CLOCK_SKEW_MARGIN_MS = HOUR_MS;

/**
 * Nightly processing of one reporting day: opens the nightly window (the flag every modification
 * checks), rolls the day's hours up if needed, computes its daily statistics from the hourly ones,
 * checks them against the transactions, and closes the window — also when the work fails.
 */
export class NightlyProcessing {
  constructor(private readonly deps: NightlyDeps) {}

  /**
   * Runs nightly processing for `date` (default: the previous day in the reporting time zone). With
   * `onlyIfNotCompleted` (the scheduler) a day already completed is left alone.
   */
  async run(options: { date?: ReportingDate; onlyIfNotCompleted?: boolean } = {}): Promise<NightlyOutcome> {
    const { deps } = this;
    const now = deps.now();
    const date = options.date ?? deps.calendar.previousDate(now);
    const hours = deps.calendar.hoursOf(date);
    // The day's last hour must be over, or its statistics would be incomplete.
    if (hours.to > hourStart(now)) return { kind: 'day_not_over', date, hoursEndAt: hours.to };

    const claim = await this.openWindow(date, options.onlyIfNotCompleted ?? false);
    if (claim.kind !== 'claimed') return claim;
    const { startedAt } = claim;
    deps.logger?.info({ date, timeZone: deps.calendar.timeZone }, 'nightly processing started');
    let report: NightlyReport;
    try {
      await deps.onWindowOpened?.();
      const work = await retryingLockConflicts(() => deps.knex.transaction((trx) => this.process(trx, date, hours)));
      report = { date, timeZone: deps.calendar.timeZone, hours, startedAt, completedAt: deps.now(), ...work };
    } catch (error) {
      // The work's own error is the one to report; closeWindow logs its own failure.
      await this.closeWindow(startedAt, null).catch(() => undefined);
      throw error;
    }
    await this.closeWindow(startedAt, { date, completedAt: report.completedAt, differences: report.consistency.differences.length });
    if (!report.consistency.ok) {
      deps.logger?.warn({ date, differences: report.consistency.differences.length }, 'nightly consistency check found statistics that differ from the transactions');
    }
    deps.logger?.info({ date, dailyRows: report.dailyRows, refreshedDates: report.refreshedDates }, 'nightly processing completed');
    return { kind: 'completed', report };
  }

  /**
   * Sets the flag. The exclusive lock waits for every modification holding the shared lock on the state
   * row to commit (MySQL/MariaDB; SQLite's single writer gives the same), and every modification after
   * it sees the flag: so none commits inside the window. A flag already set — another run, or held by
   * hand — refuses this run, so two runs never interleave.
   */
  private async openWindow(date: ReportingDate, onlyIfNotCompleted: boolean) {
    const { deps } = this;
    // Retried whole after a deadlock or lock timeout (a concurrent admin write), like every unit of work.
    const claim = () =>
      deps.knex.transaction(async (trx) => {
        const state = await deps.processingState.readForUpdate(trx);
        if (state.nightlyInProgress) return { kind: 'already_in_progress', startedAt: state.nightlyStartedAt } as const;
        if (onlyIfNotCompleted && (await deps.dailyStatistics.isCompleted(date, trx))) return { kind: 'already_completed', date } as const;
        // Read the clock under the lock: every modification that got in before has committed by now.
        const startedAt = deps.now();
        await deps.processingState.update({ nightlyInProgress: true, nightlyStartedAt: startedAt }, trx);
        await deps.dailyStatistics.recordRunStarted(trx, date, deps.calendar.timeZone, startedAt);
        return { kind: 'claimed', startedAt } as const;
      });
    return retryingLockConflicts(claim);
  }

  /** The work, in one database transaction holding the state row: nothing changes statistics meanwhile. */
  private async process(trx: Knex.Transaction, date: ReportingDate, hours: { from: number; to: number }) {
    const { deps } = this;
    const now = deps.now();
    const state = await deps.processingState.readForUpdate(trx);
    const rollup = await rollUpLocked(trx, deps, { from: state.rolledUpThrough, through: Math.max(state.rolledUpThrough, hours.to), now });
    const dailyRows = await deps.dailyStatistics.replaceDay(trx, date, hours, now);
    const refreshedDates = await this.refreshChangedDays(trx, date, rollup.through, now);
    const statistics = await deps.dailyStatistics.listDay(date, trx);
    const transactions = await deps.reports.transactionTotals(trx, hours);
    return { rollup, dailyRows, refreshedDates, consistency: compareTotals(statistics, transactions) };
  }

  /**
   * Modifications and late transactions adjust hourly statistics at once; days already processed are
   * brought up to date here, so daily reports agree with the hourly ones after each nightly run.
   */
  private async refreshChangedDays(trx: Knex.Transaction, date: ReportingDate, rolledUpThrough: number, now: number): Promise<ReportingDate[]> {
    const { deps } = this;
    const previousStart = await deps.dailyStatistics.lastCompletedRunStartedAt(trx);
    if (previousStart === null) return [];
    const hours = await deps.reports.hoursTouchedSince(trx, previousStart - CLOCK_SKEW_MARGIN_MS, rolledUpThrough);
    const dates = [...new Set(hours.map((hour) => deps.calendar.dateOf(hour)))].filter((d) => d !== date);
    const processed = await deps.dailyStatistics.completedAmong(dates, trx);
    const refreshed = dates.filter((d) => processed.has(d)).sort();
    for (const day of refreshed) await deps.dailyStatistics.replaceDay(trx, day, deps.calendar.hoursOf(day), now);
    return refreshed;
  }

  /**
   * Clears the flag this run set (not one set again since by someone else) and, on success, records the
   * completion. Retried a few times: a flag left set would refuse every modification.
   */
  private async closeWindow(startedAt: number, completion: { date: ReportingDate; completedAt: number; differences: number } | null): Promise<void> {
    const { deps } = this;
    for (let attempt = 1; ; attempt++) {
      try {
        await deps.knex.transaction(async (trx) => {
          const state = await deps.processingState.readForUpdate(trx);
          const ours = state.nightlyInProgress && state.nightlyStartedAt === startedAt;
          const changes = { ...(ours ? { nightlyInProgress: false } : {}), ...(completion ? { nightlyLastCompletedAt: completion.completedAt } : {}) };
          if (Object.keys(changes).length > 0) await deps.processingState.update(changes, trx);
          if (completion) await deps.dailyStatistics.recordRunCompleted(trx, completion.date, completion.completedAt, completion.differences);
        });
        return;
      } catch (error) {
        if (attempt >= 3) {
          deps.logger?.error({ err: error }, 'could not clear the nightly processing flag; clear it with PUT /api/v1/processing/nightly {"inProgress": false}');
          throw error;
        }
        await new Promise((resolve) => setTimeout(resolve, 250 * attempt));
      }
    }
  }
}
