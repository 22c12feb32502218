import { format as formatQuery } from 'mysql2';
import fs from 'node:fs';
import path from 'node:path';
import knex, { Knex } from 'knex';
import type { DatabaseConfig } from '../config';
import { migrationSource } from '../../db/migrations';
import { SqliteCheckpoints, type CheckpointWorkerOptions } from './sqlite-checkpoints';

/** The engine behind a knex handle; stores branch on it where SQL differs. */
export type Engine = 'sqlite' | 'mysql';

/** A knex handle plus the engine it talks to. */
export interface Database {
  knex: Knex;
  engine: Engine;
  /** The worker thread checkpointing a SQLite file's WAL, when the handle has one (see closeDatabase). */
  checkpoints?: SqliteCheckpoints;
}

/** Options that tests and the benchmark tune; production uses the defaults. */
export interface DatabaseOptions {
  poolMax?: number;
  /** Where knex's own warnings go (pool errors, deprecations); default: knex prints plain text. */
  log?: { warn(message: string): void; error(message: string): void };
  /**
   * A SQLite file's checkpoints in a worker thread instead of inside COMMITs on the event loop
   * (SQLITE_CHECKPOINT_WORKER; see sqlite-checkpoints.ts): true, or the worker's tuning. Ignored for
   * `:memory:` and MySQL. Off by default: one-shot commands and tests' handles do without.
   */
  checkpointWorker?: boolean | CheckpointWorkerOptions;
}

/**
 * knex warns `Acquire connection error: <stack>` whenever a connection cannot be had (the database down,
 * a connection cut) and then throws that same error to the query's caller, which answers it (a
 * temporary failure, a retry) and logs it where it is unexpected: the warning only repeats an expected
 * fault with a stack trace, so it is dropped. Every other warning and error goes on.
 */
const ACQUIRE_CONNECTION_ERROR = /^Acquire connection error: /;
/**
 * knex also warns `Connection Error: … Connection lost` when the pool, validating a connection before
 * lending it, finds that the server closed it: the pool drops it and lends a fresh one, and nobody sees
 * an error — the expected recovery, not news.
 */
const POOLED_CONNECTION_LOST = /^Connection Error: .*Connection lost/;

function knexLog(options: DatabaseOptions) {
  // Without a log of the caller's: knex's own sink (the console), less the repeated connection errors.
  const log = options.log ?? {
    warn: (message: string) => console.warn(message),
    error: (message: string) => console.error(message),
  };
  const text = (message: unknown) =>
    typeof message === 'string' ? message : String((message as Error)?.message ?? message);
  const warn = (message: unknown) => {
    const line = text(message);
    if (!ACQUIRE_CONNECTION_ERROR.test(line) && !POOLED_CONNECTION_LOST.test(line)) log.warn(line);
  };
  return {
    warn,
    error: (m: unknown) => log.error(text(m)),
    deprecate: (m: unknown) => log.warn(text(m)),
    debug: () => undefined,
  };
}

/** Opens (lazily) a database from config. SQLite files get WAL and foreign keys on every connection. */
export function openDatabase(config: DatabaseConfig, options: DatabaseOptions = {}): Database {
  if (config.client === 'sqlite') {
    const file = config.filename !== ':memory:';
    if (file) fs.mkdirSync(path.dirname(path.resolve(config.filename)), { recursive: true });
    const checkpoints =
      file && options.checkpointWorker
        ? new SqliteCheckpoints(
            config.filename,
            { error: (message) => knexLog(options).error(message) },
            options.checkpointWorker === true ? {} : options.checkpointWorker,
          )
        : undefined;
    const handle = knex({
      client: 'better-sqlite3',
      connection: { filename: config.filename },
      useNullAsDefault: true,
      log: knexLog(options),
      // better-sqlite3 is synchronous and single-writer: one connection serialises transactions,
      // which is also what makes the row "lock" of the core hold on SQLite.
      pool: {
        min: 1,
        max: 1,
        afterCreate(
          conn: { open: boolean; pragma(sql: string): unknown },
          done: (err: Error | null, conn: unknown) => void,
        ) {
          // The wait first: switching to WAL needs a moment's lock, which another process (a migration
          // run by the CLI, a second server) may hold; without it the switch fails at once ("database is locked").
          conn.pragma('busy_timeout = 5000');
          conn.pragma('journal_mode = WAL');
          conn.pragma('synchronous = NORMAL');
          conn.pragma('foreign_keys = ON');
          // With the worker: no checkpoint inside this connection's COMMITs (the worker starts with the first).
          checkpoints?.adopt(conn);
          done(null, conn);
        },
      },
    });
    return { knex: handle, engine: 'sqlite', checkpoints };
  }
  const handle = knex({
    client: 'mysql2',
    connection: {
      uri: config.url,
      // BIGINT money columns come back as numbers while they are safe integers (always, by MAX_MONEY).
      supportBigNumbers: true,
      bigNumberStrings: false,
      charset: 'utf8mb4',
      // The core sends a change's statements in one round trip (Sql.all). Every statement is built with
      // placeholders and its values escaped by mysql2, as knex does for its own; none is ever assembled
      // from request text, which is what makes several statements per query safe to allow.
      multipleStatements: true,
      // mysql2 scans every query's text for placeholders, even one sent without values (the core's
      // statement batches, escaped already, and its BEGIN/COMMIT): those go as they are; anything with
      // values is formatted exactly as mysql2 itself would.
      queryFormat: (sql: string, values: unknown, timezone: string) =>
        Array.isArray(values) && values.length > 0 ? formatQuery(sql, values, false, timezone) : sql,
    } as Knex.MySql2ConnectionConfig,
    pool: { min: 0, max: options.poolMax ?? 20 },
    acquireConnectionTimeout: 10_000,
    log: knexLog(options),
  });
  return { knex: handle, engine: 'mysql' };
}

/**
 * Closes the pool, then the checkpoint worker: its connection, the last one open, checkpoints the WAL into
 * the file as it closes (SQLite does so for the last connection), leaving nothing locked behind.
 */
export async function closeDatabase(db: Database): Promise<void> {
  try {
    await db.knex.destroy();
  } finally {
    await db.checkpoints?.stop();
  }
}

/** Applies every pending migration. */
export async function migrateToLatest(db: Database): Promise<void> {
  await db.knex.migrate.latest({ migrationSource });
}

/** Reverts every migration (tests prove each is reversible). */
export async function migrateAllDown(db: Database): Promise<void> {
  await db.knex.migrate.rollback({ migrationSource }, true);
}

/** True when the database answers a trivial query. */
export async function databaseIsReachable(db: Database): Promise<boolean> {
  try {
    await db.knex.raw('select 1');
    return true;
  } catch {
    return false;
  }
}

/**
 * The migrations this build knows that the database has not applied — all of them on an empty
 * database. Only reads (knex's own `migrate.list` would create its tables). Migrations applied by a
 * newer build and unknown to this one do not count: an older server runs on a newer schema.
 */
export async function pendingMigrations(db: Database): Promise<string[]> {
  const known = (await migrationSource.getMigrations([])).map((migration) =>
    migrationSource.getMigrationName(migration),
  );
  if (!(await db.knex.schema.hasTable('knex_migrations'))) return known;
  const applied = new Set(
    (await db.knex('knex_migrations').select<Array<{ name: string }>>('name')).map((row) => row.name),
  );
  return known.filter((name) => !applied.has(name));
}
