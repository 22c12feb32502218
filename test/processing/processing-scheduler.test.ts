import type { RollupResult } from '../../src/processing/hourly-rollup';
import type { NightlyOutcome } from '../../src/processing/nightly-processing';
import { ProcessingScheduler, ScheduledJobs, SchedulerTimers } from '../../src/processing/processing-scheduler';
import { ReportingCalendar } from '../../src/processing/reporting-calendar';

const at = (text: string) => Date.parse(text);
const iso = (ms: number) => new Date(ms).toISOString();

/** A clock and one-shot timers the test moves by hand. */
class FakeTime implements SchedulerTimers {
  now: number;
  private pending: { callback: () => void; dueAt: number } | null = null;

  constructor(start: string) {
    this.now = at(start);
  }

  set(callback: () => void, delayMs: number): unknown {
    this.pending = { callback, dueAt: this.now + delayMs };
    return this.pending;
  }

  clear(handle: unknown): void {
    if (this.pending === handle) this.pending = null;
  }

  get hasPendingTimer(): boolean {
    return this.pending !== null;
  }

  /** Fires every timer due up to `until`, letting the scheduler finish each pass. */
  async advanceTo(until: string, scheduler: ProcessingScheduler): Promise<void> {
    const target = at(until);
    while (this.pending && this.pending.dueAt <= target) {
      const { callback, dueAt } = this.pending;
      this.pending = null;
      this.now = dueAt;
      callback();
      await scheduler.idle();
    }
    this.now = target;
  }
}

/** Records what the scheduler ran and when; answers as told. */
class RecordingJobs implements ScheduledJobs {
  rollups: Array<{ at: string; through: string }> = [];
  nightlies: Array<{ at: string; date: string }> = [];
  rollupFailures = 0;
  nightlyAnswers: Array<NightlyOutcome['kind'] | 'throw'> = [];

  constructor(private readonly time: FakeTime) {}

  async runHourly(options: { through?: number }): Promise<RollupResult> {
    if (this.rollupFailures > 0) {
      this.rollupFailures--;
      throw new Error('database unavailable');
    }
    this.rollups.push({ at: iso(this.time.now), through: iso(options.through as number) });
    return { from: 0, through: options.through as number };
  }

  /** Days the fake says were interrupted; each pass "runs" and forgets them. */
  interrupted: string[] = [];
  redone: Array<{ at: string; date: string }> = [];

  async redoInterruptedNightly(): Promise<Array<{ date: string; outcome: NightlyOutcome }>> {
    const days = this.interrupted.splice(0);
    for (const date of days) this.redone.push({ at: iso(this.time.now), date });
    return days.map((date) => ({ date, outcome: { kind: 'completed', report: {} as never } }));
  }

  async runScheduledNightly(date: string): Promise<NightlyOutcome> {
    this.nightlies.push({ at: iso(this.time.now), date });
    const answer = this.nightlyAnswers.shift() ?? 'completed';
    if (answer === 'throw') throw new Error('database unavailable');
    if (answer === 'already_in_progress') return { kind: 'already_in_progress', startedAt: null };
    if (answer === 'already_completed') return { kind: 'already_completed', date };
    return { kind: 'completed', report: {} as never };
  }
}

const silent = { info: () => undefined, warn: () => undefined, error: () => undefined };

function build(
  start: string,
  settings: { rollupDelaySeconds?: number | null; nightlyAt?: string | null; timeZone?: string } = {},
) {
  const time = new FakeTime(start);
  const jobs = new RecordingJobs(time);
  const scheduler = new ProcessingScheduler({
    jobs,
    rollupDelaySeconds: settings.rollupDelaySeconds === undefined ? 60 : settings.rollupDelaySeconds,
    nightlyAt: settings.nightlyAt === undefined ? null : settings.nightlyAt,
    calendar: new ReportingCalendar(settings.timeZone ?? 'UTC'),
    now: () => time.now,
    timers: time,
    logger: silent,
  });
  return { time, jobs, scheduler };
}

describe('ProcessingScheduler', () => {
  it('rolls up once at start, then the delay after each hour boundary', async () => {
    const { time, jobs, scheduler } = build('2026-11-25T10:20:00Z', { rollupDelaySeconds: 90 });
    scheduler.start();
    await scheduler.idle();
    expect(jobs.rollups).toEqual([{ at: '2026-11-25T10:20:00.000Z', through: '2026-11-25T10:00:00.000Z' }]);
    await time.advanceTo('2026-11-25T11:01:29Z', scheduler);
    expect(jobs.rollups).toHaveLength(1);
    await time.advanceTo('2026-11-25T13:05:00Z', scheduler);
    expect(jobs.rollups.slice(1)).toEqual([
      { at: '2026-11-25T11:01:30.000Z', through: '2026-11-25T11:00:00.000Z' },
      { at: '2026-11-25T12:01:30.000Z', through: '2026-11-25T12:00:00.000Z' },
      { at: '2026-11-25T13:01:30.000Z', through: '2026-11-25T13:00:00.000Z' },
    ]);
    await scheduler.stop();
  });

  it('at start within the delay, leaves the hour just ended for its late arrivals', async () => {
    const { time, jobs, scheduler } = build('2026-11-25T10:00:30Z', { rollupDelaySeconds: 60 });
    scheduler.start();
    await scheduler.idle();
    await time.advanceTo('2026-11-25T10:02:00Z', scheduler);
    expect(jobs.rollups).toEqual([
      { at: '2026-11-25T10:00:30.000Z', through: '2026-11-25T09:00:00.000Z' },
      { at: '2026-11-25T10:01:00.000Z', through: '2026-11-25T10:00:00.000Z' },
    ]);
    await scheduler.stop();
  });

  it('tries a failed roll-up again at the next minute', async () => {
    const { time, jobs, scheduler } = build('2026-11-25T10:20:00Z');
    jobs.rollupFailures = 2;
    scheduler.start();
    await scheduler.idle();
    await time.advanceTo('2026-11-25T10:25:00Z', scheduler);
    expect(jobs.rollups).toEqual([{ at: '2026-11-25T10:22:00.000Z', through: '2026-11-25T10:00:00.000Z' }]);
    await scheduler.stop();
  });

  it('runs nightly processing at the local time, once a day, for the previous local day', async () => {
    // 00:10 on July 10th in Denver (MDT, UTC−6).
    const { time, jobs, scheduler } = build('2026-07-10T06:10:00Z', {
      rollupDelaySeconds: null,
      nightlyAt: '00:30',
      timeZone: 'America/Denver',
    });
    scheduler.start();
    await scheduler.idle();
    expect(jobs.nightlies).toEqual([]);
    await time.advanceTo('2026-07-11T12:00:00Z', scheduler);
    expect(jobs.nightlies).toEqual([
      { at: '2026-07-10T06:30:00.000Z', date: '2026-07-09' },
      { at: '2026-07-11T06:30:00.000Z', date: '2026-07-10' },
    ]);
    expect(jobs.rollups).toEqual([]);
    await scheduler.stop();
  });

  it('catches up at start when the nightly time has passed, and leaves a completed day alone', async () => {
    const { time, jobs, scheduler } = build('2026-11-25T15:00:00Z', { rollupDelaySeconds: null, nightlyAt: '00:30' });
    jobs.nightlyAnswers = ['already_completed'];
    scheduler.start();
    await scheduler.idle();
    await time.advanceTo('2026-11-25T23:59:00Z', scheduler);
    expect(jobs.nightlies).toEqual([{ at: '2026-11-25T15:00:00.000Z', date: '2026-11-24' }]);
    await scheduler.stop();
  });

  it('tries again later when the run is refused as in progress or fails', async () => {
    const { time, jobs, scheduler } = build('2026-11-25T00:29:00Z', { rollupDelaySeconds: null, nightlyAt: '00:30' });
    jobs.nightlyAnswers = ['already_in_progress', 'throw', 'completed'];
    scheduler.start();
    await scheduler.idle();
    await time.advanceTo('2026-11-25T02:00:00Z', scheduler);
    expect(jobs.nightlies.map((n) => n.at)).toEqual([
      '2026-11-25T00:30:00.000Z',
      '2026-11-25T00:40:00.000Z',
      '2026-11-25T00:50:00.000Z',
    ]);
    await scheduler.stop();
  });

  it('runs interrupted days again on its next pass, whatever the time of day, and only with nightly processing scheduled', async () => {
    const { time, jobs, scheduler } = build('2026-11-25T15:00:00Z', { rollupDelaySeconds: null, nightlyAt: '00:30' });
    scheduler.start();
    await scheduler.idle();
    jobs.interrupted = ['2026-11-20'];
    await time.advanceTo('2026-11-25T15:01:30Z', scheduler);
    expect(jobs.redone).toEqual([{ at: '2026-11-25T15:01:00.000Z', date: '2026-11-20' }]);
    await scheduler.stop();

    const unscheduled = build('2026-11-25T15:00:00Z', { rollupDelaySeconds: 60, nightlyAt: null });
    unscheduled.jobs.interrupted = ['2026-11-20'];
    unscheduled.scheduler.start();
    await unscheduled.scheduler.idle();
    await unscheduled.time.advanceTo('2026-11-25T15:05:00Z', unscheduled.scheduler);
    expect(unscheduled.jobs.redone).toEqual([]);
    await unscheduled.scheduler.stop();
  });

  it('runs at the first minute after a nightly time that DST skips', async () => {
    // 2026-03-08 in Denver: 02:00 becomes 03:00, so 02:30 never happens; 03:00 MDT is 09:00 UTC.
    const { time, jobs, scheduler } = build('2026-03-08T07:10:00Z', {
      rollupDelaySeconds: null,
      nightlyAt: '02:30',
      timeZone: 'America/Denver',
    });
    scheduler.start();
    await scheduler.idle();
    await time.advanceTo('2026-03-08T12:00:00Z', scheduler);
    expect(jobs.nightlies).toEqual([{ at: '2026-03-08T09:00:00.000Z', date: '2026-03-07' }]);
    await scheduler.stop();
  });

  it('stops: waits for the job in progress and runs nothing more', async () => {
    const { time, jobs, scheduler } = build('2026-11-25T10:20:00Z');
    let release!: () => void;
    const blocked = new Promise<void>((resolve) => (release = resolve));
    const runHourly = jobs.runHourly.bind(jobs);
    jobs.runHourly = async (options) => {
      await blocked;
      return runHourly(options);
    };
    scheduler.start();
    let stopped = false;
    const stopping = scheduler.stop().then(() => (stopped = true));
    await new Promise((resolve) => setImmediate(resolve));
    expect(stopped).toBe(false);
    release();
    await stopping;
    expect(jobs.rollups).toHaveLength(1);
    expect(time.hasPendingTimer).toBe(false);
    await time.advanceTo('2026-11-26T10:20:00Z', scheduler);
    expect(jobs.rollups).toHaveLength(1);
  });
});
