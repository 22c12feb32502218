import crypto from 'node:crypto';
import os from 'node:os';
import type { Logger } from '../logger';
import type { AfterChange } from '../store/after-change';
import type { DailyStatisticsStore } from '../store/daily-statistics-store';
import type { NightlyRunLease, ProcessingStateStore } from '../store/processing-state-store';
import { retryingLockConflicts } from '../store/lock-retries';
import type { ReportQueries } from '../store/report-queries';
import { hourStart, HOUR_MS } from '../core/hours';
import type { Sql, UnitOfWork } from '../store/unit-of-work';
import type { ConsistencyReport } from './consistency-check';
import { computeDay, DayResult, FailedGroup } from './day-statistics';
import { rollUpLocked, RollupResult } from './hourly-rollup';
import type { ReportingCalendar, ReportingDate } from './reporting-calendar';

/** What nightly processing needs, passed in by the composition root. */
export interface NightlyDeps {
  units: UnitOfWork;
  processingState: ProcessingStateStore;
  dailyStatistics: DailyStatisticsStore;
  reports: ReportQueries;
  calendar: ReportingCalendar;
  now: () => number;
  logger?: Pick<Logger, 'info' | 'warn' | 'error'>;
  /** Called once the window is open (lease committed) and before the work: for observers such as tests. */
  onWindowOpened?: () => Promise<void>;
  /** How long a run's lease holds unrenewed (default 120 s). */
  leaseMs?: number;
  /** This process's name in the leases it takes (default `host:pid`). */
  holder?: string;
}

const DEFAULT_LEASE_MS = 120_000;
const DEFAULT_HOLDER = `${os.hostname()}:${process.pid}`;

/** What a completed nightly run did. */
export interface NightlyReport {
  date: ReportingDate;
  timeZone: string;
  /** The instants the day spans, `from` (its local midnight) ≤ t < `to` (the next one). */
  hours: { from: number; to: number };
  startedAt: number;
  completedAt: number;
  rollup: RollupResult;
  /** Daily statistics rows (campaign × affiliate) the day has. */
  dailyRows: number;
  /** Campaigns whose daily statistics could not be computed (this day or a refreshed one); the rest were. */
  failedGroups: FailedGroup[];
  /** Earlier days already processed whose statistics changed since, recomputed by this run. */
  refreshedDates: ReportingDate[];
  consistency: ConsistencyReport;
}

/** What the work of a run produced, in its own transaction (where `afterChange` sees it). */
export type NightlyWork = Pick<
  NightlyReport,
  'rollup' | 'dailyRows' | 'failedGroups' | 'refreshedDates' | 'consistency'
>;

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
 * Nightly processing of one reporting day: takes the run's lease (what every modification checks, with
 * the hold an admin may set by hand), rolls the day's hours up if needed, computes its daily statistics
 * from the hourly ones, checks them against the transactions, and gives the lease back — also when the
 * work fails. It never touches the hold.
 */
export class NightlyProcessing {
  constructor(private readonly deps: NightlyDeps) {}

  /**
   * Runs nightly processing for `date` (default: the previous day in the reporting time zone). With
   * `onlyIfNotCompleted` (the scheduler) a day already completed is left alone. `afterChange` (the
   * console's audit row) runs in the work's transaction, so it commits with the day's statistics.
   */
  async run(
    options: { date?: ReportingDate; onlyIfNotCompleted?: boolean; afterChange?: AfterChange<NightlyWork> } = {},
  ): Promise<NightlyOutcome> {
    const { deps } = this;
    const now = deps.now();
    const date = options.date ?? deps.calendar.previousDate(now);
    const hours = deps.calendar.spanOf(date);
    // The day must be over, or its statistics would be incomplete.
    if (hours.to > now) return { kind: 'day_not_over', date, hoursEndAt: hours.to };

    const holder = `${deps.holder ?? DEFAULT_HOLDER}:${crypto.randomBytes(3).toString('hex')}`;
    const claim = await this.openWindow(date, holder, options.onlyIfNotCompleted ?? false);
    if (claim.kind !== 'claimed') return claim;
    const { startedAt } = claim;
    deps.logger?.info({ date, timeZone: deps.calendar.timeZone, holder }, 'nightly processing started');
    const lease = this.keepLease(holder);
    let report: NightlyReport;
    try {
      await deps.onWindowOpened?.();
      lease.working = true;
      // Retried whole after a deadlock or lock timeout (a concurrent admin write), like every unit of work.
      const work = await retryingLockConflicts(() =>
        deps.units.run(async (sql) => {
          const done = await this.process(sql, date, hours);
          await options.afterChange?.(sql, done);
          // Renewed with the work's commit: whoever gets the state row next finds the lease fresh.
          await deps.processingState.renewRun(sql, holder, this.leaseMs);
          return done;
        }),
      );
      lease.working = false;
      report = { date, timeZone: deps.calendar.timeZone, hours, startedAt, completedAt: deps.now(), ...work };
    } catch (error) {
      lease.stop();
      // The work's own error is the one to report; closeWindow logs its own failure.
      await this.closeWindow(holder, null).catch(() => undefined);
      throw error;
    }
    lease.stop();
    await this.closeWindow(holder, {
      date,
      completedAt: report.completedAt,
      differences: report.consistency.differences.length,
    });
    if (report.failedGroups.length > 0) {
      deps.logger?.error(
        { date, failedGroups: report.failedGroups },
        'nightly processing completed without the daily statistics of some campaigns',
      );
    }
    if (!report.consistency.ok) {
      deps.logger?.warn(
        { date, differences: report.consistency.differences.length },
        'nightly consistency check found statistics that differ from the transactions',
      );
    }
    deps.logger?.info(
      { date, dailyRows: report.dailyRows, refreshedDates: report.refreshedDates },
      'nightly processing completed',
    );
    return { kind: 'completed', report };
  }

  /**
   * Ends a run whose lease is no longer kept (it expired unrenewed, or an admin released it), inside the
   * caller's unit of work holding the state row: the lease is cleared, the interruption counted and
   * marked on the day's run record (so the next scheduled pass runs the day again), and logged.
   */
  async endInterruptedRun(sql: Sql, run: NightlyRunLease, why: 'lease_expired' | 'released'): Promise<void> {
    const { deps } = this;
    await deps.processingState.releaseRun(sql, run.holder);
    await deps.processingState.countInterruption(sql);
    await deps.dailyStatistics.recordRunInterrupted(sql, run.date, run.startedAt, deps.now());
    const what =
      why === 'released'
        ? 'its lease was released by hand'
        : 'its lease expired unrenewed (the process died or lost its database)';
    deps.logger?.warn(
      {
        date: run.date,
        holder: run.holder,
        startedAt: new Date(run.startedAt).toISOString(),
        leaseExpiresAt: new Date(run.leaseExpiresAt).toISOString(),
        why,
      },
      `nightly processing of ${run.date} was interrupted: ${what}; the day will be processed again`,
    );
  }

  /**
   * Takes the run's lease. Claiming it is an UPDATE of the state row, which waits for every modification
   * holding the shared lock on that row to commit (MySQL/MariaDB; SQLite's single writer gives the same),
   * and every modification after it sees the lease: so none commits inside the window. A hold, or a live
   * lease of another run, refuses this run, so two runs never interleave; a lease that expired unrenewed
   * is ended as interrupted first.
   */
  private async openWindow(date: ReportingDate, holder: string, onlyIfNotCompleted: boolean) {
    const { deps } = this;
    // Retried whole after a deadlock or lock timeout (a concurrent admin write), like every unit of work.
    const claim = () =>
      deps.units.run(async (sql) => {
        const state = await deps.processingState.readForUpdate(sql);
        const run = state.nightlyRun;
        if (run && !run.live) await this.endInterruptedRun(sql, run, 'lease_expired');
        if (run?.live) return { kind: 'already_in_progress', startedAt: run.startedAt } as const;
        if (state.nightlyHeld) return { kind: 'already_in_progress', startedAt: state.nightlyStartedAt } as const;
        if (onlyIfNotCompleted && (await deps.dailyStatistics.isCompleted(sql, date)))
          return { kind: 'already_completed', date } as const;
        // Read the clock under the lock: every modification that got in before has committed by now.
        const startedAt = deps.now();
        await deps.processingState.claimRun(sql, { date, holder, startedAt, leaseMs: this.leaseMs });
        await deps.dailyStatistics.recordRunStarted(sql, date, deps.calendar.timeZone, startedAt);
        return { kind: 'claimed', startedAt } as const;
      });
    return retryingLockConflicts(claim);
  }

  /**
   * If the run's lease has expired unrenewed (its process died), ends it as interrupted. Read without a
   * lock first, so a pass that finds nothing to do never waits for modifications.
   */
  async endDeadRun(): Promise<void> {
    const { deps } = this;
    const seen = (await deps.processingState.read()).nightlyRun;
    if (!seen || seen.live) return;
    await deps.units.run(async (sql) => {
      const run = (await deps.processingState.readForUpdate(sql)).nightlyRun;
      if (run && !run.live) await this.endInterruptedRun(sql, run, 'lease_expired');
    });
  }

  /**
   * Renews the run's lease every third of its length until stopped. Not while the work's transaction
   * runs: that transaction holds the state row, which keeps modifications and other runs out by itself
   * (and which a renewal would only queue behind), and it renews the lease as it commits.
   */
  private keepLease(holder: string): { working: boolean; stop(): void } {
    const { deps } = this;
    const lease = { working: false, stop: () => clearInterval(timer) };
    let renewing = false;
    const timer = setInterval(
      () => {
        if (lease.working || renewing) return;
        renewing = true;
        deps.processingState
          .renewRun(deps.units.alone, holder, this.leaseMs)
          .then(
            (kept) =>
              kept ||
              deps.logger?.warn(
                { holder },
                'nightly processing lost its lease (released by hand, or expired and taken over); it carries on, but no longer keeps modifications out',
              ),
            (error) =>
              deps.logger?.warn({ err: error, holder }, 'nightly processing could not renew its lease; trying again'),
          )
          .finally(() => (renewing = false));
      },
      Math.max(1, Math.floor(this.leaseMs / 3)),
    );
    timer.unref();
    return lease;
  }

  private get leaseMs(): number {
    return this.deps.leaseMs ?? DEFAULT_LEASE_MS;
  }

  /** The work, in one database transaction holding the state row: nothing changes statistics meanwhile. */
  private async process(sql: Sql, date: ReportingDate, hours: { from: number; to: number }) {
    const { deps } = this;
    const now = deps.now();
    const state = await deps.processingState.readForUpdate(sql);
    // The whole UTC hours of the day come from the roll-up (a part-hour at either end, from the transactions).
    const rollup = await rollUpLocked(sql, deps, {
      from: state.rolledUpThrough,
      through: Math.max(state.rolledUpThrough, hourStart(hours.to)),
      now,
    });
    const day = await computeDay(sql, deps, { date, span: hours, now, check: true });
    const refreshed = await this.refreshChangedDays(sql, date, rollup.through, now);
    const failedGroups = [...day.failedGroups, ...refreshed.flatMap((result) => result.failedGroups)];
    const consistency = day.consistency as ConsistencyReport;
    return {
      rollup,
      dailyRows: day.rows,
      failedGroups,
      refreshedDates: refreshed.map((result) => result.date),
      consistency,
    };
  }

  /**
   * Modifications and late transactions adjust hourly statistics at once; days already processed are
   * brought up to date here, so daily reports agree with the hourly ones after each nightly run.
   */
  private async refreshChangedDays(
    sql: Sql,
    date: ReportingDate,
    rolledUpThrough: number,
    now: number,
  ): Promise<Array<DayResult & { date: ReportingDate }>> {
    const { deps } = this;
    const previousStart = await deps.dailyStatistics.lastCompletedRunStartedAt(sql);
    if (previousStart === null) return [];
    const hours = await deps.reports.hoursTouchedSince(sql, previousStart - CLOCK_SKEW_MARGIN_MS, rolledUpThrough);
    // An hour may straddle two local days (zones with a :30 or :45 offset): both may have changed.
    const dates = [
      ...new Set(hours.flatMap((hour) => [deps.calendar.dateOf(hour), deps.calendar.dateOf(hour + HOUR_MS - 1)])),
    ].filter((d) => d !== date);
    const processed = await deps.dailyStatistics.completedAmong(sql, dates);
    const refreshed = dates.filter((d) => processed.has(d)).sort();
    const results = [];
    for (const day of refreshed)
      results.push({
        date: day,
        ...(await computeDay(sql, deps, { date: day, span: deps.calendar.spanOf(day), now, check: false })),
      });
    return results;
  }

  /**
   * Gives this run's lease back (not another run's, nor the hold) and, on success, records the
   * completion. Retried a few times; should it still fail, the lease expires by itself.
   */
  private async closeWindow(
    holder: string,
    completion: { date: ReportingDate; completedAt: number; differences: number } | null,
  ): Promise<void> {
    const { deps } = this;
    for (let attempt = 1; ; attempt++) {
      try {
        await deps.units.run(async (sql) => {
          await deps.processingState.readForUpdate(sql);
          await deps.processingState.releaseRun(sql, holder);
          if (completion) {
            await deps.processingState.update(sql, { nightlyLastCompletedAt: completion.completedAt });
            await deps.dailyStatistics.recordRunCompleted(
              sql,
              completion.date,
              completion.completedAt,
              completion.differences,
            );
          }
        });
        return;
      } catch (error) {
        if (attempt >= 3) {
          deps.logger?.error(
            { err: error },
            'could not give the nightly processing lease back: it expires by itself (NIGHTLY_LEASE_SECONDS), or release it with PUT /api/v1/processing/nightly {"inProgress": false}',
          );
          throw error;
        }
        await new Promise((resolve) => setTimeout(resolve, 250 * attempt));
      }
    }
  }
}
