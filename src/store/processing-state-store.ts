import type { Knex } from 'knex';
import type { Sql } from './unit-of-work';
import type { Engine } from './database';
import { readStatement, type Statement } from './sql';

/** A nightly run holding its lease: which day, who runs it, and until when the lease holds. */
export interface NightlyRunLease {
  date: string;
  /** The process running it (`host:pid:…`). */
  holder: string;
  startedAt: number;
  /** Epoch ms by the database's clock; the run renews it while it works. */
  leaseExpiresAt: number;
  /** False once the lease has expired unrenewed: the run died (or lost its database), and no longer counts. */
  live: boolean;
}

/** The single row that says whether nightly processing runs and how far hours are rolled up. */
export interface ProcessingState {
  /** Modifications are refused: a hold is set, or a run holds a live lease. */
  nightlyInProgress: boolean;
  /** Held by hand (`PUT …/nightly {"inProgress": true}`): stays until released, whatever runs meanwhile. */
  nightlyHeld: boolean;
  /** When the hold was set (null: not held). */
  nightlyStartedAt: number | null;
  nightlyLastCompletedAt: number | null;
  /** The run that holds (or held, when no longer live) the lease; null: none. */
  nightlyRun: NightlyRunLease | null;
  /** How many runs were found dead (lease expired unrenewed, or released by hand), ever. */
  nightlyInterruptions: number;
  /** Every hour that starts before this instant (epoch ms, an hour boundary) is rolled up. */
  rolledUpThrough: number;
  hourlyLastRunAt: number | null;
}

/**
 * The fields `update` writes. `nightlyInProgress` sets the hold too: setting "in progress" by hand is
 * what a hold is (the name callers and tests used before runs had leases of their own).
 */
export type ProcessingStateChanges = Partial<
  Pick<
    ProcessingState,
    | 'nightlyHeld'
    | 'nightlyInProgress'
    | 'nightlyStartedAt'
    | 'nightlyLastCompletedAt'
    | 'rolledUpThrough'
    | 'hourlyLastRunAt'
  >
>;

/**
 * The database's clock, epoch ms (whole seconds). Leases are written and read by it, so nodes whose
 * clocks disagree still agree on whether a lease holds. MySQL: UNIX_TIMESTAMP() without an argument,
 * because converting NOW() back is ambiguous in the hour a DST session zone repeats.
 */
export function databaseNowSql(engine: Engine): string {
  return engine === 'mysql' ? '(unix_timestamp() * 1000)' : '(unixepoch() * 1000)';
}

/**
 * "Modifications are refused now": a hold, or a run's lease that has not expired. `alias` is the
 * processing_state table's alias in the query. One expression, so the core's reads stay one statement.
 */
export function nightlyActiveSql(engine: Engine, alias: string): string {
  return `(${alias}.nightly_in_progress = 1 or coalesce(${alias}.nightly_lease_expires_at, 0) > ${databaseNowSql(engine)})`;
}

const selectState = (engine: Engine) =>
  `select p.*, ${nightlyActiveSql(engine, 'p')} as nightly_active, ${databaseNowSql(engine)} as database_now from processing_state p where p.id = 1`;

type Column = number | string | null;

interface ProcessingStateRow {
  nightly_active: number | string | boolean;
  database_now: number | string;
  nightly_in_progress: number | boolean;
  nightly_started_at: Column;
  nightly_last_completed_at: Column;
  nightly_run_date: string | null;
  nightly_run_holder: string | null;
  nightly_run_started_at: Column;
  nightly_lease_expires_at: Column;
  nightly_interruptions: number | string;
  rolled_up_through: number | string;
  hourly_last_run_at: Column;
}

const orNull = (value: Column) => (value === null ? null : Number(value));

function runOf(row: ProcessingStateRow): NightlyRunLease | null {
  if (row.nightly_run_holder === null || row.nightly_lease_expires_at === null) return null;
  const leaseExpiresAt = Number(row.nightly_lease_expires_at);
  return {
    date: row.nightly_run_date ?? '',
    holder: row.nightly_run_holder,
    startedAt: Number(row.nightly_run_started_at),
    leaseExpiresAt,
    live: leaseExpiresAt > Number(row.database_now),
  };
}

function stateFromRow(row: ProcessingStateRow): ProcessingState {
  return {
    nightlyInProgress: Boolean(Number(row.nightly_active)),
    nightlyHeld: Boolean(row.nightly_in_progress),
    nightlyStartedAt: orNull(row.nightly_started_at),
    nightlyLastCompletedAt: orNull(row.nightly_last_completed_at),
    nightlyRun: runOf(row),
    nightlyInterruptions: Number(row.nightly_interruptions),
    rolledUpThrough: Number(row.rolled_up_through),
    hourlyLastRunAt: orNull(row.hourly_last_run_at),
  };
}

function firstState(rows: ProcessingStateRow[]): ProcessingState {
  if (!rows[0]) throw new Error('processing_state row 1 is missing: run the migrations');
  return stateFromRow(rows[0]);
}

/** knex.raw returns [rows, fields] on mysql2 and rows on better-sqlite3. */
const rowsOf = (engine: Engine, result: unknown) =>
  engine === 'mysql' ? (result as [ProcessingStateRow[]])[0] : (result as ProcessingStateRow[]);

/**
 * Reads and writes the processing state row (id 1, created by a migration). The nightly state has two
 * parts that never clear each other: the hold an admin sets by hand (`nightly_in_progress`, the column's
 * old name) and the lease of a run (`nightly_run_*`, `nightly_lease_expires_at`), which the run renews
 * while it works and which stops counting when it expires unrenewed.
 */
export class ProcessingStateStore {
  private readonly readPlain: string;
  private readonly readShared: string;
  private readonly readExclusive: string;

  constructor(
    private readonly knex: Knex,
    private readonly engine: Engine,
  ) {
    this.readPlain = selectState(engine);
    // SQLite has one writer at a time, which gives what the locks give on MySQL/MariaDB.
    this.readShared = engine === 'mysql' ? `${this.readPlain} lock in share mode` : this.readPlain;
    this.readExclusive = engine === 'mysql' ? `${this.readPlain} for update` : this.readPlain;
  }

  /** The state, read without locks. */
  async read(): Promise<ProcessingState> {
    return firstState(rowsOf(this.engine, await this.knex.raw(this.readPlain)));
  }

  /**
   * The state, read under a shared lock held until the modification commits. Nightly processing claims
   * its lease with an UPDATE, which must wait for every shared holder: so no modification can commit
   * after nightly processing has started (MySQL/MariaDB). SQLite has one writer at a time, which gives
   * the same guarantee. A statement, to go with the unit's other first statements.
   */
  readForModificationStatement(): Statement<ProcessingState> {
    return readStatement(this.readShared, [], firstState);
  }

  /** Locks the row exclusively (processing jobs) and returns it. */
  async readForUpdate(sql: Sql): Promise<ProcessingState> {
    return firstState(await sql.rows(this.readExclusive, []));
  }

  /** Writes some fields of the state. */
  async update(sql: Sql, changes: ProcessingStateChanges): Promise<void> {
    const columns: Record<string, unknown> = {};
    const held = changes.nightlyHeld ?? changes.nightlyInProgress;
    if (held !== undefined) columns.nightly_in_progress = held;
    if (changes.nightlyStartedAt !== undefined) columns.nightly_started_at = changes.nightlyStartedAt;
    if (changes.nightlyLastCompletedAt !== undefined)
      columns.nightly_last_completed_at = changes.nightlyLastCompletedAt;
    if (changes.rolledUpThrough !== undefined) columns.rolled_up_through = changes.rolledUpThrough;
    if (changes.hourlyLastRunAt !== undefined) columns.hourly_last_run_at = changes.hourlyLastRunAt;
    await sql.write(this.knex('processing_state').where({ id: 1 }).update(columns));
  }

  /** Gives a run the lease for `leaseMs` from now by the database's clock (the row is locked by the caller). */
  async claimRun(sql: Sql, run: { date: string; holder: string; startedAt: number; leaseMs: number }): Promise<void> {
    await sql.write(
      this.knex('processing_state')
        .where({ id: 1 })
        .update({
          nightly_run_date: run.date,
          nightly_run_holder: run.holder,
          nightly_run_started_at: run.startedAt,
          nightly_lease_expires_at: this.knex.raw(`${databaseNowSql(this.engine)} + ?`, [run.leaseMs]),
        }),
    );
  }

  /**
   * Extends the lease of the run `holder` holds to `leaseMs` from now. False when the lease is no longer
   * its own (released by hand, or expired and taken over): the run then no longer keeps modifications out.
   */
  async renewRun(sql: Sql, holder: string, leaseMs: number): Promise<boolean> {
    const changed = await sql.write(
      this.knex('processing_state')
        .where({ id: 1, nightly_run_holder: holder })
        .update({ nightly_lease_expires_at: this.knex.raw(`${databaseNowSql(this.engine)} + ?`, [leaseMs]) }),
    );
    return changed.affectedRows > 0;
  }

  /** Clears the run's lease (only `holder`'s, when given); true when there was one to clear. */
  async releaseRun(sql: Sql, holder?: string): Promise<boolean> {
    const query = this.knex('processing_state').where({ id: 1 }).whereNotNull('nightly_run_holder');
    if (holder !== undefined) query.andWhere({ nightly_run_holder: holder });
    const changed = await sql.write(
      query.update({
        nightly_run_date: null,
        nightly_run_holder: null,
        nightly_run_started_at: null,
        nightly_lease_expires_at: null,
      }),
    );
    return changed.affectedRows > 0;
  }

  /** Counts a run found dead. */
  async countInterruption(sql: Sql): Promise<void> {
    await sql.write(this.knex('processing_state').where({ id: 1 }).increment('nightly_interruptions', 1));
  }
}
