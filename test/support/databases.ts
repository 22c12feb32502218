import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import knex from 'knex';
import type { DatabaseConfig } from '../../src/config';
import { Database, migrateToLatest, openDatabase } from '../../src/store/database';

/** The engines this run tests: SQLite always, MariaDB/MySQL when TEST_MYSQL_URL is set. */
export function testEngines(): Array<'sqlite' | 'mysql'> {
  return process.env.TEST_MYSQL_URL ? ['sqlite', 'mysql'] : ['sqlite'];
}

/** A fresh, empty database of one engine, private to the calling test file. */
export interface TestDatabase {
  config: DatabaseConfig;
  db: Database;
  /** Closes the handle and deletes the database. */
  drop(): Promise<void>;
}

/**
 * Creates a private database: a temporary SQLite file, or a new schema on the MariaDB server named by
 * TEST_MYSQL_URL (so test files can run in parallel without seeing each other's rows).
 */
export async function createTestDatabase(
  engine: 'sqlite' | 'mysql',
  options: { migrate?: boolean } = {},
): Promise<TestDatabase> {
  const suffix = `${process.pid}_${crypto.randomBytes(4).toString('hex')}`;
  let config: DatabaseConfig;
  let cleanup: () => Promise<void>;
  if (engine === 'sqlite') {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'txedit-test-'));
    config = { client: 'sqlite', filename: path.join(dir, 'test.sqlite') };
    cleanup = async () => fs.rmSync(dir, { recursive: true, force: true });
  } else {
    const server = new URL(process.env.TEST_MYSQL_URL as string);
    const name = `txedit_t_${suffix}`;
    const admin = knex({ client: 'mysql2', connection: { uri: server.toString() } as never });
    await admin.raw(`create database \`${name}\` character set utf8mb4 collate utf8mb4_bin`);
    await admin.destroy();
    server.pathname = `/${name}`;
    config = { client: 'mysql', url: server.toString() };
    cleanup = async () => {
      const dropper = knex({ client: 'mysql2', connection: { uri: process.env.TEST_MYSQL_URL } as never });
      await dropper.raw(`drop database if exists \`${name}\``);
      await dropper.destroy();
    };
  }
  const db = openDatabase(config);
  if (options.migrate !== false) await migrateToLatest(db);
  return {
    config,
    db,
    drop: async () => {
      await db.knex.destroy();
      await cleanup();
    },
  };
}
