import { setTimeout as sleep } from 'node:timers/promises';
import type { DatabaseConfig } from '../src/config';
import { openDatabase } from '../src/store/database';

/** How the server's worker got through the submissions the impact.com API scenario queued. */
export interface ImpactApiDrain {
  /** Submissions stored by the run. */
  submissions: number;
  /** Of them, not complete yet when the load ended. */
  backlogAtLoadEnd: number;
  /** From the load's end to the last submission complete (null: not drained within the wait). */
  drainSeconds: number | null;
  /** Complete ones over the time from the first submission stored to the last one complete. */
  completedPerSecond: number;
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

/**
 * Waits (at most `maxWaitMs`) for the submissions queued by the scenario to be complete, reading the
 * server's database directly (the API answers one submission per call), and measures how fast they went.
 */
export async function measureImpactApiDrain(
  config: DatabaseConfig,
  loadEndedAt: number,
  maxWaitMs: number,
): Promise<ImpactApiDrain> {
  const db = openDatabase(config);
  try {
    const knex = db.knex;
    const backlog = async () =>
      Number((await knex('api_submissions').whereIn('status', ['QUEUED', 'IN_PROGRESS']).count({ n: '*' }))[0].n);
    const backlogAtLoadEnd = await backlog();
    let drainSeconds: number | null = null;
    for (;;) {
      if ((await backlog()) === 0) {
        drainSeconds = (Date.now() - loadEndedAt) / 1000;
        break;
      }
      if (Date.now() - loadEndedAt > maxWaitMs) break;
      await sleep(POLL_MS);
    }
    const [span] = await knex('api_submissions')
      .min({ first: 'submitted_at' })
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
    const units = Number(history.units);
    return {
      submissions: Number(span.n),
      backlogAtLoadEnd,
      drainSeconds,
      completedPerSecond: seconds > 0 ? completed / seconds : 0,
      codes,
      units,
      appliedPerUnit: units > 0 ? Number(history.applied) / units : null,
    };
  } finally {
    await db.knex.destroy();
  }
}
