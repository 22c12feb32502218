import { setTimeout as sleep } from 'node:timers/promises';
import type { DatabaseConfig } from '../src/config';
import { openDatabase } from '../src/store/database';

/** How the server's worker got through the submissions the impact.com API scenario queued. */
export interface ImpactApiDrain {
  /** Submissions stored by the run. */
  submissions: number;
  /** Of them, not complete yet when the load ended. */
  backlogAtLoadEnd: number;
  /** From `since` (the load's end, or the start of the worker that drains it) to none left (null: not within the wait). */
  drainSeconds: number | null;
  /** Complete ones over the time from the first submission stored to the last one complete. */
  completedPerSecond: number;
  /** Complete ones over the time from the first one complete to the last: the worker's own pace. */
  workerPerSecond: number;
  /** Complete ones by result code. */
  codes: Record<string, number>;
  /**
   * Units of work of the applied ones, told by their history rows' times (a unit's rows share one; units
   * in the same millisecond count once, so this is a lower bound), and the applied per unit.
   */
  units: number;
  appliedPerUnit: number | null;
}

const POLL_MS = 100;

/** Submissions not complete yet. */
export async function impactApiBacklog(config: DatabaseConfig): Promise<number> {
  const db = openDatabase(config);
  try {
    const [{ n }] = await db.knex('api_submissions').whereIn('status', ['QUEUED', 'IN_PROGRESS']).count({ n: '*' });
    return Number(n);
  } finally {
    await db.knex.destroy();
  }
}

/**
 * Waits (at most `maxWaitMs` after `since`) for the submissions queued by the scenario to be complete,
 * reading the server's database directly (the API answers one submission per call), and measures how
 * fast they went. `backlogAtLoadEnd`: when it was counted already (before the worker that drains it started).
 */
export async function measureImpactApiDrain(
  config: DatabaseConfig,
  since: number,
  maxWaitMs: number,
  backlogAtLoadEnd?: number,
): Promise<ImpactApiDrain> {
  const db = openDatabase(config);
  try {
    const knex = db.knex;
    const backlog = async () =>
      Number((await knex('api_submissions').whereIn('status', ['QUEUED', 'IN_PROGRESS']).count({ n: '*' }))[0].n);
    const waitingAtStart = backlogAtLoadEnd ?? (await backlog());
    let drainSeconds: number | null = null;
    for (;;) {
      if ((await backlog()) === 0) {
        drainSeconds = (Date.now() - since) / 1000;
        break;
      }
      if (Date.now() - since > maxWaitMs) break;
      await sleep(POLL_MS);
    }
    const [span] = await knex('api_submissions')
      .min({ first: 'submitted_at', firstDone: 'completed_at' })
      .max({ last: 'completed_at' })
      .count({ n: '*' });
    const byCode: Array<{ code: string | null; n: number | string }> = await knex('api_submissions')
      .where({ status: 'COMPLETE' })
      .select('code')
      .count({ n: '*' })
      .groupBy('code');
    const codes = Object.fromEntries(byCode.map((row) => [row.code ?? 'null', Number(row.n)]));
    const completed = Object.values(codes).reduce((sum, n) => sum + n, 0);
    const [history] = await knex('modifications')
      .where('request_id', 'like', 'api-%')
      .count({ applied: '*' })
      .countDistinct({ units: 'created_at' });
    const seconds = (Number(span.last) - Number(span.first)) / 1000;
    const workerSeconds = (Number(span.last) - Number(span.firstDone)) / 1000;
    const units = Number(history.units);
    return {
      submissions: Number(span.n),
      backlogAtLoadEnd: waitingAtStart,
      drainSeconds,
      completedPerSecond: seconds > 0 ? completed / seconds : 0,
      workerPerSecond: workerSeconds > 0 ? completed / workerSeconds : 0,
      codes,
      units,
      appliedPerUnit: units > 0 ? Number(history.applied) / units : null,
    };
  } finally {
    await db.knex.destroy();
  }
}
