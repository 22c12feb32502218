import type { Config } from '../config';
import type { Logger } from '../logger';
import { hourStart, HOUR_MS } from '../core/hours';
import type { RollupResult } from './hourly-rollup';
import type { NightlyOutcome } from './nightly-processing';
import { addDays, ReportingCalendar, ReportingDate } from './reporting-calendar';

/** The timer functions the scheduler uses: real ones in the server, a hand-driven fake in tests. */
export interface SchedulerTimers {
  set(callback: () => void, delayMs: number): unknown;
  clear(handle: unknown): void;
}

/** Node's timers, unref'd so that a pending wake-up never keeps the process alive. */
export const nodeTimers: SchedulerTimers = {
  set: (callback, delayMs) => setTimeout(callback, delayMs).unref(),
  clear: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

/** The jobs the scheduler runs (the processing service). */
export interface ScheduledJobs {
  runHourly(options: { through?: number }): Promise<RollupResult>;
  runScheduledNightly(date: ReportingDate): Promise<NightlyOutcome>;
  /** Runs again the days whose run was interrupted (its lease expired unrenewed). */
  redoInterruptedNightly(): Promise<Array<{ date: ReportingDate; outcome: NightlyOutcome }>>;
}

/** Everything the scheduler needs. */
export interface SchedulerOptions {
  jobs: ScheduledJobs;
  /** Seconds after each hour boundary to roll up; null: no roll-ups. */
  rollupDelaySeconds: number | null;
  /** Local `HH:MM` at which nightly processing runs for the previous day; null: no nightly runs. */
  nightlyAt: string | null;
  calendar: ReportingCalendar;
  now: () => number;
  timers: SchedulerTimers;
  logger: Pick<Logger, 'info' | 'warn' | 'error'>;
  /** How long to wait before trying a failed or refused nightly run again (default 10 minutes). */
  nightlyRetryMs?: number;
}

const MINUTE_MS = 60_000;

/**
 * Runs the hourly roll-up `rollupDelaySeconds` after each hour boundary (and once at start, to catch up)
 * and nightly processing at `nightlyAt` local time for the previous local day (at start too, when that
 * time has passed and the day is not done). It wakes at least once a minute, so clock jumps, sleeps and
 * DST changes cost at most a minute; jobs run one at a time. Several nodes may each run a scheduler: a
 * roll-up with nothing to do is a no-op, and a day some node already completed is skipped.
 */
export class ProcessingScheduler {
  private readonly nightlyMinute: number | null;
  private readonly nightlyRetryMs: number;
  private timer: unknown = null;
  private running: Promise<void> | null = null;
  private stopped = true;
  private nextRollupAt = Number.NEGATIVE_INFINITY;
  /** The local date on which the nightly run (for the day before) is done. */
  private nightlyDoneOn: ReportingDate | null = null;
  private nightlyRetryAt = Number.NEGATIVE_INFINITY;
  private redoRetryAt = Number.NEGATIVE_INFINITY;

  constructor(private readonly options: SchedulerOptions) {
    this.nightlyMinute =
      options.nightlyAt === null
        ? null
        : Number(options.nightlyAt.slice(0, 2)) * 60 + Number(options.nightlyAt.slice(3, 5));
    this.nightlyRetryMs = options.nightlyRetryMs ?? 10 * MINUTE_MS;
  }

  /** Starts: runs what is due now (the catch-up), then keeps waking up. */
  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.wake();
  }

  /** Stops waking up and waits for a job in progress to finish. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer !== null) this.options.timers.clear(this.timer);
    this.timer = null;
    await this.running;
  }

  /** Resolves when no pass is running (tests drive the fake timers with it). */
  async idle(): Promise<void> {
    await this.running;
  }

  private wake(): void {
    this.timer = null;
    this.running = this.runDueJobs().finally(() => {
      this.running = null;
      if (!this.stopped) this.sleep();
    });
  }

  private sleep(): void {
    const now = this.options.now();
    // Whole minutes, so a nightly time HH:MM is met at HH:MM:00.
    let next = Math.floor(now / MINUTE_MS) * MINUTE_MS + MINUTE_MS;
    if (this.options.rollupDelaySeconds !== null) next = Math.min(next, this.nextRollupAt);
    this.timer = this.options.timers.set(() => this.wake(), Math.max(0, next - now));
  }

  private async runDueJobs(): Promise<void> {
    await this.rollUpIfDue();
    await this.runNightlyIfDue();
    await this.redoInterruptedNightly();
  }

  /**
   * Every pass (at least once a minute) of a scheduler that runs nightly processing: a run whose lease
   * expired unrenewed is ended, and its day — any interrupted day not done since — is run again.
   */
  private async redoInterruptedNightly(): Promise<void> {
    const { now, jobs, logger } = this.options;
    if (this.nightlyMinute === null) return;
    const at = now();
    if (at < this.redoRetryAt) return;
    try {
      for (const { date, outcome } of await jobs.redoInterruptedNightly()) {
        if (outcome.kind === 'completed') logger.info({ date }, 'interrupted nightly processing day processed again');
      }
    } catch (error) {
      logger.error({ err: error }, 'running interrupted nightly processing days again failed; will try again');
      this.redoRetryAt = at + this.nightlyRetryMs;
    }
  }

  private async rollUpIfDue(): Promise<void> {
    const { rollupDelaySeconds, now, jobs, logger } = this.options;
    if (rollupDelaySeconds === null) return;
    const at = now();
    if (at < this.nextRollupAt) return;
    // The hour that ended less than the delay ago waits for its late arrivals.
    const through = hourStart(at - rollupDelaySeconds * 1000);
    try {
      const result = await jobs.runHourly({ through });
      if (result.through > result.from)
        logger.info(
          { from: new Date(result.from).toISOString(), through: new Date(result.through).toISOString() },
          'hourly roll-up done',
        );
      this.nextRollupAt = through + HOUR_MS + rollupDelaySeconds * 1000;
    } catch (error) {
      logger.error({ err: error }, 'hourly roll-up failed; trying again in a minute');
      this.nextRollupAt = Math.floor(at / MINUTE_MS) * MINUTE_MS + MINUTE_MS;
    }
  }

  private async runNightlyIfDue(): Promise<void> {
    const { calendar, now, jobs, logger } = this.options;
    if (this.nightlyMinute === null) return;
    const at = now();
    const { date: today, minuteOfDay } = calendar.localTime(at);
    if (minuteOfDay < this.nightlyMinute || this.nightlyDoneOn === today || at < this.nightlyRetryAt) return;
    const date = addDays(today, -1);
    try {
      const outcome = await jobs.runScheduledNightly(date);
      if (outcome.kind === 'completed' || outcome.kind === 'already_completed') {
        this.nightlyDoneOn = today;
      } else if (outcome.kind === 'day_not_over') {
        // A zone whose midnight is not on a UTC hour: the day's last hour ends a little after midnight.
        this.nightlyRetryAt = outcome.hoursEndAt;
      } else {
        logger.warn(
          { date, startedAt: outcome.startedAt },
          'nightly processing not started: already in progress elsewhere; will try again',
        );
        this.nightlyRetryAt = at + this.nightlyRetryMs;
      }
    } catch (error) {
      logger.error({ err: error, date }, 'nightly processing failed; will try again');
      this.nightlyRetryAt = at + this.nightlyRetryMs;
    }
  }
}

/** The server's scheduler: config's processing settings, real clock and timers. */
export function createProcessingScheduler(
  jobs: ScheduledJobs,
  settings: Config['processing'],
  logger: Pick<Logger, 'info' | 'warn' | 'error'>,
): ProcessingScheduler {
  return new ProcessingScheduler({
    jobs,
    rollupDelaySeconds: settings.rollupDelaySeconds,
    nightlyAt: settings.nightlyAt,
    calendar: new ReportingCalendar(settings.reportingTimezone),
    now: Date.now,
    timers: nodeTimers,
    logger,
  });
}
