import type { Knex } from 'knex';
import type { AfterChange } from '../store/after-change';
import type { Engine } from '../store/database';
import type { ProcessingStateStore } from '../store/processing-state-store';
import { retryingLockConflicts } from '../store/lock-retries';
import { hourOf, TRANSACTION_TOTALS_SQL } from '../store/report-queries';
import { TOTAL_COLUMNS } from '../store/daily-statistics-store';
import { hourStart } from '../core/hours';

/** What one roll-up run did: the watermark before (`from`) and after (`through`), epoch ms. */
export interface RollupResult {
  from: number;
  through: number;
}

/** What the roll-up needs. */
export interface RollupDeps {
  knex: Knex;
  engine: Engine;
  processingState: ProcessingStateStore;
}

/**
 * Rolls every complete hour after the watermark into hourly statistics and moves the watermark, in one
 * database transaction with the processing-state row locked: two runs at once serialise, a killed run
 * leaves nothing behind, and a second run finds nothing left to do. `through` (an instant; rounded down
 * to its hour) defaults to the start of the current hour and is never allowed past it. `afterChange` (the
 * console's audit row) commits with the roll-up or not at all. A deadlock or lock timeout (against a
 * concurrent admin write) is retried like any other unit of work.
 */
export async function runHourlyRollup(deps: RollupDeps, options: { through?: number; now: number }, afterChange?: AfterChange<RollupResult>): Promise<RollupResult> {
  const through = rollupTarget(options.through, options.now);
  return retryingLockConflicts(() =>
    deps.knex.transaction(async (trx) => {
      const state = await deps.processingState.readForUpdate(trx);
      const result = await rollUpLocked(trx, deps, { from: state.rolledUpThrough, through, now: options.now });
      await afterChange?.(trx, result);
      return result;
    }),
  );
}

/** The hour boundary a roll-up asked for `through` at `now` goes to. */
export function rollupTarget(through: number | undefined, now: number): number {
  const ceiling = hourStart(now);
  return Math.min(hourStart(through ?? ceiling), ceiling);
}

/**
 * The roll-up itself, inside a transaction that already holds the processing-state row exclusively
 * (`from` is the watermark read under that lock). Nightly processing calls it inside its own unit of work.
 */
export async function rollUpLocked(
  trx: Knex.Transaction,
  deps: Pick<RollupDeps, 'engine' | 'processingState'>,
  span: { from: number; through: number; now: number },
): Promise<RollupResult> {
  const { from, now } = span;
  const through = Math.max(from, span.through);
  if (through > from) {
    // Hours at or after the watermark have no statistics (nothing adjusts an hour before it is rolled up),
    // unless someone moved the watermark back by hand: clear them so the insert cannot collide.
    await trx('hourly_statistics').where('hour_start', '>=', from).andWhere('hour_start', '<', through).delete();
    const hour = hourOf(deps.engine, 'occurred_at');
    await trx.raw(
      `insert into hourly_statistics (hour_start, campaign_id, affiliate_id, ${TOTAL_COLUMNS.join(', ')})
       select ${hour}, campaign_id, affiliate_id, ${TRANSACTION_TOTALS_SQL}
       from transactions where occurred_at >= ? and occurred_at < ?
       group by ${hour}, campaign_id, affiliate_id`,
      [from, through],
    );
  }
  await deps.processingState.update({ rolledUpThrough: through, hourlyLastRunAt: now }, trx);
  return { from, through };
}
