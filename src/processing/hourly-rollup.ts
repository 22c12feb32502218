import type { AfterChange } from '../store/after-change';
import type { ProcessingStateStore } from '../store/processing-state-store';
import { retryingLockConflicts } from '../store/lock-retries';
import type { ReportQueries } from '../store/report-queries';
import { hourStart } from '../core/hours';
import type { Sql, UnitOfWork } from '../store/unit-of-work';

/** What one roll-up run did: the watermark before (`from`) and after (`through`), epoch ms. */
export interface RollupResult {
  from: number;
  through: number;
}

/** What the roll-up needs. */
export interface RollupDeps {
  units: UnitOfWork;
  processingState: ProcessingStateStore;
  reports: ReportQueries;
}

/**
 * Rolls every complete hour after the watermark into hourly statistics and moves the watermark, in one
 * database transaction with the processing-state row locked: two runs at once serialise, a killed run
 * leaves nothing behind, and a second run finds nothing left to do. `through` (an instant; rounded down
 * to its hour) defaults to the start of the current hour and is never allowed past it. `afterChange` (the
 * console's audit row) commits with the roll-up or not at all. A deadlock or lock timeout (against a
 * concurrent admin write) is retried like any other unit of work.
 */
export async function runHourlyRollup(
  deps: RollupDeps,
  options: { through?: number; now: number },
  afterChange?: AfterChange<RollupResult>,
): Promise<RollupResult> {
  const through = rollupTarget(options.through, options.now);
  return retryingLockConflicts(() =>
    deps.units.run(async (sql) => {
      const state = await deps.processingState.readForUpdate(sql);
      const result = await rollUpLocked(sql, deps, { from: state.rolledUpThrough, through, now: options.now });
      await afterChange?.(sql, result);
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
  sql: Sql,
  deps: Pick<RollupDeps, 'processingState' | 'reports'>,
  span: { from: number; through: number; now: number },
): Promise<RollupResult> {
  const { from, now } = span;
  const through = Math.max(from, span.through);
  if (through > from) await deps.reports.rollUpHours(sql, { from, through });
  await deps.processingState.update(sql, { rolledUpThrough: through, hourlyLastRunAt: now });
  return { from, through };
}
