import type { Config } from '../config';
import type { Logger } from '../logger';
import type { DailyStatistics, DailyStatisticsStore } from '../store/daily-statistics-store';
import type { ProcessingStateStore } from '../store/processing-state-store';
import { retryingLockConflicts } from '../store/lock-retries';
import type { HourlyReversals, HourlyStatistics, ReportFilter, ReportQueries } from '../store/report-queries';
import type { UnitOfWork } from '../store/unit-of-work';
import { runHourlyRollup, RollupResult } from './hourly-rollup';
import type { AfterChange } from '../store/after-change';
import { NightlyOutcome, NightlyProcessing, NightlyWork } from './nightly-processing';
import { ReportingCalendar, ReportingDate } from './reporting-calendar';

/** The processing state as the admin API shows it (epoch ms; null: never / nothing yet). */
export interface ProcessingStatus {
  nightly: {
    /** Modifications are refused: held by hand, or a run holds a live lease. */
    inProgress: boolean;
    /** The live run's start, else when the hold was (last) set. */
    startedAt: number | null;
    lastCompletedAt: number | null;
    /** Held by hand; no run clears it. */
    held: boolean;
    /** The run holding the lease (`live` false: expired unrenewed, not yet ended); null: none. */
    run: { date: ReportingDate; startedAt: number; leaseExpiresAt: number; live: boolean } | null;
    /** Runs found interrupted, ever. */
    interruptions: number;
    /** The latest interrupted days: when found, and when done again since (null: still to do). */
    interruptedDays: Array<{ date: ReportingDate; interruptedAt: number; completedAt: number | null }>;
  };
  hourly: { rolledUpThrough: number | null; lastRunAt: number | null };
}

/** How many interrupted days the status lists. */
const INTERRUPTED_DAYS_SHOWN = 10;

/** What the processing service needs. */
export interface ProcessingServiceDeps {
  units: UnitOfWork;
  processingState: ProcessingStateStore;
  dailyStatistics: DailyStatisticsStore;
  reports: ReportQueries;
  calendar: ReportingCalendar;
  now?: () => number;
  logger?: Pick<Logger, 'info' | 'warn' | 'error'>;
  /** See NightlyDeps.onWindowOpened. */
  onNightlyWindowOpened?: () => Promise<void>;
  /** See NightlyDeps.leaseMs. */
  nightlyLeaseMs?: number;
}

/** Hourly roll-up, nightly processing, the nightly flag held by hand, and the statistics reports. */
export class ProcessingService {
  private readonly now: () => number;
  private readonly nightly: NightlyProcessing;

  constructor(private readonly deps: ProcessingServiceDeps) {
    this.now = deps.now ?? Date.now;
    this.nightly = new NightlyProcessing({
      ...deps,
      now: this.now,
      onWindowOpened: deps.onNightlyWindowOpened,
      leaseMs: deps.nightlyLeaseMs,
    });
  }

  /** The reporting time zone's calendar. */
  get calendar(): ReportingCalendar {
    return this.deps.calendar;
  }

  /**
   * Rolls up every complete hour through `through` (default and ceiling: the start of the current hour).
   * `afterChange` (an audit row) commits with the roll-up or not at all.
   */
  async runHourly(options: { through?: number } = {}, afterChange?: AfterChange<RollupResult>): Promise<RollupResult> {
    return runHourlyRollup(this.deps, { through: options.through, now: this.now() }, afterChange);
  }

  /**
   * Nightly processing for a day (default: the previous one in the reporting time zone). `afterChange`
   * (an audit row) commits with the day's statistics or not at all; a refused run calls nothing.
   */
  async runNightly(
    options: { date?: ReportingDate } = {},
    afterChange?: AfterChange<NightlyWork>,
  ): Promise<NightlyOutcome> {
    return this.nightly.run({ ...options, afterChange });
  }

  /**
   * Runs again, oldest first, every day whose run was interrupted and not done since — after ending a
   * run whose lease has expired unrenewed. Stops at the first day another run holds the lease for.
   */
  async redoInterruptedNightly(): Promise<Array<{ date: ReportingDate; outcome: NightlyOutcome }>> {
    await this.nightly.endDeadRun();
    const redone = [];
    for (const date of await this.deps.dailyStatistics.interruptedDays()) {
      const outcome = await this.nightly.run({ date });
      redone.push({ date, outcome });
      if (outcome.kind === 'already_in_progress') break;
    }
    return redone;
  }

  /** Nightly processing as the scheduler runs it: a day some node has already completed is skipped. */
  async runScheduledNightly(date: ReportingDate): Promise<NightlyOutcome> {
    return this.nightly.run({ date, onlyIfNotCompleted: true });
  }

  /**
   * Holds or releases the nightly state by hand (maintenance; networks whose nightly job lives elsewhere).
   * Setting the hold waits, like a run, for modifications in flight to commit; no run clears it. Releasing
   * clears the hold and records the completion, and also ends a run's lease (a run that died need not be
   * waited out): that run's day counts as interrupted and is run again, and a run still alive carries on
   * but no longer keeps modifications out. `afterChange` (an audit row) commits with the change.
   */
  async holdNightly(inProgress: boolean, afterChange?: AfterChange<void>): Promise<ProcessingStatus> {
    const { processingState } = this.deps;
    await retryingLockConflicts(() =>
      this.deps.units.run(async (sql) => {
        const state = await processingState.readForUpdate(sql);
        if (inProgress && !state.nightlyHeld)
          await processingState.update(sql, { nightlyHeld: true, nightlyStartedAt: this.now() });
        if (!inProgress && state.nightlyHeld)
          await processingState.update(sql, { nightlyHeld: false, nightlyLastCompletedAt: this.now() });
        if (!inProgress && state.nightlyRun)
          await this.nightly.endInterruptedRun(
            sql,
            state.nightlyRun,
            state.nightlyRun.live ? 'released' : 'lease_expired',
          );
        await afterChange?.(sql);
      }),
    );
    return this.status();
  }

  /** Where nightly processing and the hourly roll-up stand. */
  async status(): Promise<ProcessingStatus> {
    const state = await this.deps.processingState.read();
    const run = state.nightlyRun;
    return {
      nightly: {
        inProgress: state.nightlyInProgress,
        startedAt: run?.live ? run.startedAt : state.nightlyStartedAt,
        lastCompletedAt: state.nightlyLastCompletedAt,
        held: state.nightlyHeld,
        run: run && { date: run.date, startedAt: run.startedAt, leaseExpiresAt: run.leaseExpiresAt, live: run.live },
        interruptions: state.nightlyInterruptions,
        interruptedDays: await this.deps.dailyStatistics.recentInterruptions(INTERRUPTED_DAYS_SHOWN),
      },
      // A watermark of 0 means no roll-up has run yet.
      hourly: {
        rolledUpThrough: state.rolledUpThrough > 0 ? state.rolledUpThrough : null,
        lastRunAt: state.hourlyLastRunAt,
      },
    };
  }

  /** Hourly statistics for a report. */
  async hourlyReport(filter: ReportFilter<number>): Promise<HourlyStatistics[]> {
    return this.deps.reports.hourly(filter);
  }

  /** REVERSED impact actions per UTC hour and disposition code, for a report's reversals columns. */
  async reversalsReport(
    filter: Omit<ReportFilter<number>, 'limit' | 'from' | 'to'> & { from: number; to: number },
  ): Promise<HourlyReversals[]> {
    return this.deps.reports.reversals(filter);
  }

  /** Daily statistics for a report. */
  async dailyReport(filter: ReportFilter<ReportingDate>): Promise<DailyStatistics[]> {
    return this.deps.reports.daily(filter);
  }
}

/** The stores the processing service works through (the composition root builds them). */
export type ProcessingStores = Pick<ProcessingServiceDeps, 'units' | 'processingState' | 'dailyStatistics' | 'reports'>;

/** Builds the processing service over its stores from the processing slice of the config. */
export function createProcessingService(
  settings: Config['processing'],
  stores: ProcessingStores,
  options: { now?: () => number; logger?: Logger } = {},
): ProcessingService {
  return new ProcessingService({
    units: stores.units,
    processingState: stores.processingState,
    dailyStatistics: stores.dailyStatistics,
    reports: stores.reports,
    calendar: new ReportingCalendar(settings.reportingTimezone),
    now: options.now,
    logger: options.logger,
    nightlyLeaseMs: settings.nightlyLeaseMs,
  });
}
