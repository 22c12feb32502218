import type { Knex } from 'knex';
import type { Engine } from './database';
import { readStatement, type Statement } from './sql';

/** The single row that says whether nightly processing runs and how far hours are rolled up. */
export interface ProcessingState {
  nightlyInProgress: boolean;
  nightlyStartedAt: number | null;
  nightlyLastCompletedAt: number | null;
  /** Every hour that starts before this instant (epoch ms, an hour boundary) is rolled up. */
  rolledUpThrough: number;
  hourlyLastRunAt: number | null;
}

const READ_SQLITE = 'select * from processing_state where id = 1';
const READ_SHARED_MYSQL = `${READ_SQLITE} lock in share mode`;

interface ProcessingStateRow {
  nightly_in_progress: number | boolean;
  nightly_started_at: number | string | null;
  nightly_last_completed_at: number | string | null;
  rolled_up_through: number | string;
  hourly_last_run_at: number | string | null;
}

const orNull = (value: number | string | null) => (value === null ? null : Number(value));

function stateFromRow(row: ProcessingStateRow): ProcessingState {
  return {
    nightlyInProgress: Boolean(row.nightly_in_progress),
    nightlyStartedAt: orNull(row.nightly_started_at),
    nightlyLastCompletedAt: orNull(row.nightly_last_completed_at),
    rolledUpThrough: Number(row.rolled_up_through),
    hourlyLastRunAt: orNull(row.hourly_last_run_at),
  };
}

/** Reads and writes the processing state row (id 1, created by a migration). */
export class ProcessingStateStore {
  constructor(
    private readonly knex: Knex,
    private readonly engine: Engine,
  ) {}

  /** The state, read without locks. */
  async read(trx: Knex = this.knex): Promise<ProcessingState> {
    const row = await trx('processing_state').where({ id: 1 }).first();
    if (!row) throw new Error('processing_state row 1 is missing: run the migrations');
    return stateFromRow(row);
  }

  /**
   * The state, read under a shared lock held until the modification commits. Nightly processing sets
   * its flag with an UPDATE, which must wait for every shared holder: so no modification can commit
   * after nightly processing has started (MySQL/MariaDB). SQLite has one writer at a time, which gives
   * the same guarantee. A statement, to go with the unit's other first statements.
   */
  readForModificationStatement(): Statement<ProcessingState> {
    return readStatement(this.engine === 'mysql' ? READ_SHARED_MYSQL : READ_SQLITE, [], (rows: ProcessingStateRow[]) => {
      if (!rows[0]) throw new Error('processing_state row 1 is missing: run the migrations');
      return stateFromRow(rows[0]);
    });
  }

  /** Locks the row exclusively (processing jobs) and returns it. */
  async readForUpdate(trx: Knex.Transaction): Promise<ProcessingState> {
    const query = trx('processing_state').where({ id: 1 });
    const row = await (this.engine === 'mysql' ? query.forUpdate() : query).first();
    if (!row) throw new Error('processing_state row 1 is missing: run the migrations');
    return stateFromRow(row);
  }

  /** Writes some fields of the state. */
  async update(changes: Partial<ProcessingState>, trx: Knex = this.knex): Promise<void> {
    const columns: Record<string, unknown> = {};
    if (changes.nightlyInProgress !== undefined) columns.nightly_in_progress = changes.nightlyInProgress;
    if (changes.nightlyStartedAt !== undefined) columns.nightly_started_at = changes.nightlyStartedAt;
    if (changes.nightlyLastCompletedAt !== undefined) columns.nightly_last_completed_at = changes.nightlyLastCompletedAt;
    if (changes.rolledUpThrough !== undefined) columns.rolled_up_through = changes.rolledUpThrough;
    if (changes.hourlyLastRunAt !== undefined) columns.hourly_last_run_at = changes.hourlyLastRunAt;
    await trx('processing_state').where({ id: 1 }).update(columns);
  }
}
