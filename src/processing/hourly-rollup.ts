import type { Knex } from 'knex';
import type { Engine } from '../store/database';
import type { ProcessingStateStore } from '../store/processing-state-store';
import { hourStart, HOUR_MS } from '../store/statistics-store';

/** What one roll-up run did. */
export interface RollupResult {
  from: number;
  through: number;
}

/**
 * Rolls every complete hour after the watermark into hourly statistics and moves the watermark, in one
 * database transaction with the processing-state row locked: two runs at once serialise, a killed run
 * leaves nothing behind, and a second run finds nothing left to do.
 */
export async function runHourlyRollup(
  deps: { knex: Knex; engine: Engine; processingState: ProcessingStateStore },
  options: { through?: number; now: number },
): Promise<RollupResult> {
  const ceiling = hourStart(options.now);
  const through = Math.min(hourStart(options.through ?? ceiling), ceiling);
  return deps.knex.transaction(async (trx) => {
    const state = await deps.processingState.readForUpdate(trx);
    const from = state.rolledUpThrough;
    if (through > from) {
      // Integer hour arithmetic: MySQL's `/` is decimal division, so DIV there; SQLite's `/` on integers.
      const hour = deps.engine === 'mysql' ? `(occurred_at div ${HOUR_MS}) * ${HOUR_MS}` : `(occurred_at / ${HOUR_MS}) * ${HOUR_MS}`;
      await trx.raw(
        `insert into hourly_statistics (hour_start, campaign_id, affiliate_id, transactions, approved_transactions,
           affiliate_payout, merchant_revenue, approved_affiliate_payout, approved_merchant_revenue)
         select ${hour}, campaign_id, affiliate_id, count(*), sum(case when approved then 1 else 0 end),
           sum(affiliate_payout), sum(merchant_revenue),
           sum(case when approved then affiliate_payout else 0 end), sum(case when approved then merchant_revenue else 0 end)
         from transactions where occurred_at >= ? and occurred_at < ?
         group by ${hour}, campaign_id, affiliate_id`,
        [from, through],
      );
    }
    await deps.processingState.update({ rolledUpThrough: Math.max(from, through), hourlyLastRunAt: options.now }, trx);
    return { from, through: Math.max(from, through) };
  });
}
