import type { Knex } from 'knex';
import type { Config } from '../config';
import type { Logger } from '../logger';
import { DailyStatistics, DailyStatisticsStore } from '../store/daily-statistics-store';
import type { Database, Engine } from '../store/database';
import type { ProcessingStateStore } from '../store/processing-state-store';
import { retryingLockConflicts } from '../store/lock-retries';
import { HourlyStatistics, ReportFilter, ReportQueries } from '../store/report-queries';
import { runHourlyRollup, RollupResult } from './hourly-rollup';
import { NightlyOutcome, NightlyProcessing } from './nightly-processing';
import { ReportingCalendar, ReportingDate } from './reporting-calendar';

/** The processing state as the admin API shows it (epoch ms; null: never / nothing yet). */
export interface ProcessingStatus {
  nightly: { inProgress: boolean; startedAt: number | null; lastCompletedAt: number | null };
  hourly: { rolledUpThrough: number | null; lastRunAt: number | null };
}

/** What the processing service needs. */
export interface ProcessingServiceDeps {
  knex: Knex;
  engine: Engine;
  processingState: ProcessingStateStore;
  dailyStatistics: DailyStatisticsStore;
  reports: ReportQueries;
  calendar: ReportingCalendar;
  now?: () => number;
  logger?: Pick<Logger, 'info' | 'warn' | 'error'>;
  /** See NightlyDeps.onWindowOpened. */
  onNightlyWindowOpened?: () => Promise<void>;
}

/** Hourly roll-up, nightly processing, the nightly flag held by hand, and the statistics reports. */
export class ProcessingService {
  private readonly now: () => number;
  private readonly nightly: NightlyProcessing;

  constructor(private readonly deps: ProcessingServiceDeps) {
    this.now = deps.now ?? Date.now;
    this.nightly = new NightlyProcessing({ ...deps, now: this.now, onWindowOpened: deps.onNightlyWindowOpened });
  }

  /** The reporting time zone's calendar. */
  get calendar(): ReportingCalendar {
    return this.deps.calendar;
  }

  /** Rolls up every complete hour through `through` (default and ceiling: the start of the current hour). */
  async runHourly(options: { through?: number } = {}): Promise<RollupResult> {
    return runHourlyRollup(this.deps, { through: options.through, now: this.now() });
  }

  /** Nightly processing for a day (default: the previous one in the reporting time zone). */
  async runNightly(options: { date?: ReportingDate } = {}): Promise<NightlyOutcome> {
    return this.nightly.run(options);
  }

  /** Nightly processing as the scheduler runs it: a day some node has already completed is skipped. */
  async runScheduledNightly(date: ReportingDate): Promise<NightlyOutcome> {
    return this.nightly.run({ date, onlyIfNotCompleted: true });
  }

  /**
   * Holds or releases the nightly state by hand (networks whose nightly job lives elsewhere). Setting it
   * waits, like a real run, for modifications in flight to commit; releasing it records the completion.
   * Releasing also clears a flag left behind by a run that died.
   */
  async holdNightly(inProgress: boolean): Promise<ProcessingStatus> {
    const { processingState } = this.deps;
    await retryingLockConflicts(() =>
      this.deps.knex.transaction(async (trx) => {
        const state = await processingState.readForUpdate(trx);
        if (inProgress && !state.nightlyInProgress) await processingState.update({ nightlyInProgress: true, nightlyStartedAt: this.now() }, trx);
        if (!inProgress && state.nightlyInProgress) await processingState.update({ nightlyInProgress: false, nightlyLastCompletedAt: this.now() }, trx);
      }),
    );
    return this.status();
  }

  /** Where nightly processing and the hourly roll-up stand. */
  async status(): Promise<ProcessingStatus> {
    const state = await this.deps.processingState.read();
    return {
      nightly: { inProgress: state.nightlyInProgress, startedAt: state.nightlyStartedAt, lastCompletedAt: state.nightlyLastCompletedAt },
      // A watermark of 0 means no roll-up has run yet.
      hourly: { rolledUpThrough: state.rolledUpThrough > 0 ? state.rolledUpThrough : null, lastRunAt: state.hourlyLastRunAt },
    };
  }

  /** Hourly statistics for a report. */
  async hourlyReport(filter: ReportFilter<number>): Promise<HourlyStatistics[]> {
    return this.deps.reports.hourly(filter);
  }

  /** Daily statistics for a report. */
  async dailyReport(filter: ReportFilter<ReportingDate>): Promise<DailyStatistics[]> {
    return this.deps.reports.daily(filter);
  }
}

/** Builds the processing service over a database from the processing slice of the config. */
export function createProcessingService(
  settings: Config['processing'],
  db: Database,
  processingState: ProcessingStateStore,
  options: { now?: () => number; logger?: Logger } = {},
): ProcessingService {
  return new ProcessingService({
    knex: db.knex,
    engine: db.engine,
    processingState,
    dailyStatistics: new DailyStatisticsStore(db.knex),
    reports: new ReportQueries(db.knex, db.engine),
    calendar: new ReportingCalendar(settings.reportingTimezone),
    now: options.now,
    logger: options.logger,
  });
}
