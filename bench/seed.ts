import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import bcrypt from 'bcrypt';
import knex, { Knex } from 'knex';
import type { DatabaseConfig } from '../src/config';
import { runHourlyRollup } from '../src/processing/hourly-rollup';
import { migrateToLatest, openDatabase } from '../src/store/database';
import { createStores } from '../src/composition';
import {
  AFFILIATE_COUNT,
  affiliateOf,
  BULK_CAMPAIGN,
  BULK_EVENT_TYPE,
  CAMPAIGN_COUNT,
  campaignOf,
  passwordOf,
} from './bench-data';

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

/** A database the benchmark created, and how to get rid of it. */
export interface BenchDatabase {
  config: DatabaseConfig;
  /** The DATABASE_URL the server is started with. */
  url: string;
  drop(): Promise<void>;
}

function serverConnection(url: URL): Knex {
  const server = new URL(url.toString());
  server.pathname = '/';
  return knex({ client: 'mysql2', connection: { uri: server.toString() } as Knex.MySql2ConnectionConfig });
}

/** (Re)creates the MariaDB/MySQL database named by `mysqlUrl`; fails fast when the server is not there. */
export async function createMysqlDatabase(mysqlUrl: string): Promise<BenchDatabase> {
  const url = new URL(mysqlUrl.replace(/^mariadb:/, 'mysql:'));
  const name = decodeURIComponent(url.pathname.slice(1));
  if (!/^\w+$/.test(name))
    throw new Error(`BENCH_MYSQL_URL must name a database of letters, digits and _ (got "${name}")`);
  const admin = serverConnection(url);
  try {
    await admin.raw(`drop database if exists \`${name}\``);
    await admin.raw(`create database \`${name}\` character set utf8mb4 collate utf8mb4_bin`);
  } finally {
    await admin.destroy();
  }
  return {
    config: { client: 'mysql', url: url.toString() },
    url: url.toString(),
    drop: async () => {
      const dropper = serverConnection(url);
      await dropper.raw(`drop database if exists \`${name}\``).finally(() => dropper.destroy());
    },
  };
}

/** A fresh SQLite file in a temporary directory. */
export function createSqliteDatabase(): BenchDatabase {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'txedit-bench-'));
  const filename = path.join(dir, 'bench.sqlite');
  return {
    config: { client: 'sqlite', filename },
    url: `sqlite:${filename}`,
    drop: async () => fs.rmSync(dir, { recursive: true, force: true }),
  };
}

async function insertInChunks(
  trx: Knex.Transaction,
  table: string,
  count: number,
  row: (i: number) => Record<string, unknown>,
): Promise<void> {
  // knex writes a multi-row insert on SQLite as a compound SELECT, limited to 500 terms; 400 rows × 13
  // columns also stays under SQLite's bound-variable limit and far under MariaDB's packet size.
  const chunk = 400;
  for (let start = 0; start < count; start += chunk) {
    const rows: Array<Record<string, unknown>> = [];
    for (let i = start; i < Math.min(count, start + chunk); i++) rows.push(row(i));
    await trx(table).insert(rows);
  }
}

/**
 * Migrates and fills a benchmark database: affiliates, campaigns with bcrypt-hashed passwords (all
 * opted in), `transactions` transactions dated two days ago, then the hourly roll-up through the
 * current hour so that every transaction is editable. Bulk INSERTs straight through knex: seconds,
 * not minutes. Returns how long it took.
 */
export async function seedBenchDatabase(
  config: DatabaseConfig,
  transactions: number,
  bcryptCost: number,
): Promise<number> {
  const started = Date.now();
  const db = openDatabase(config);
  try {
    await migrateToLatest(db);
    const now = Date.now();
    const dayStart = Math.floor((now - 2 * DAY_MS) / HOUR_MS) * HOUR_MS;
    const hashes = await Promise.all(
      Array.from({ length: CAMPAIGN_COUNT }, (_, i) => bcrypt.hash(passwordOf(i + 1), bcryptCost)),
    );
    await db.knex.transaction(async (trx) => {
      await insertInChunks(trx, 'affiliates', AFFILIATE_COUNT, (i) => ({
        id: i + 1,
        name: `Bench Affiliate ${i + 1}`,
        postback_url: null,
        created_at: now,
        updated_at: now,
      }));
      await insertInChunks(trx, 'campaigns', CAMPAIGN_COUNT, (i) => ({
        id: i + 1,
        name: `Bench Campaign ${i + 1}`,
        allow_external_modification: true,
        password_hash: hashes[i],
        whitelist_only: false,
        unique_merchant_reference: true,
        created_at: now,
        updated_at: now,
      }));
      // The bulk campaign's actions have an event type (10 % payout), so impact.com rows recalculate payouts.
      await trx('event_types').insert({
        id: BULK_EVENT_TYPE,
        campaign_id: BULK_CAMPAIGN,
        name: 'bench sale',
        locking_days: 30,
        payout_type: 'percent',
        payout_value: 100_000,
        created_at: now,
        updated_at: now,
      });
      await insertInChunks(trx, 'transactions', transactions, (i) => {
        const id = i + 1;
        return {
          id,
          click_id: `bench-click-${id}`,
          campaign_id: campaignOf(id),
          affiliate_id: affiliateOf(id),
          merchant_reference_id: `BENCH-${id}`,
          sub_id: null,
          affiliate_reference_id: null,
          affiliate_payout: 10_000 * (1 + (id % 50)),
          merchant_revenue: 100_000 * (1 + (id % 50)),
          approved: true,
          // Spread over one day, two days ago: 24 rolled-up hours of statistics.
          occurred_at: dayStart + ((id * 7919) % DAY_MS),
          event_type_id: campaignOf(id) === BULK_CAMPAIGN ? BULK_EVENT_TYPE : null,
          locking_at: dayStart + ((id * 7919) % DAY_MS) + 30 * DAY_MS,
          created_at: now,
          updated_at: now,
        };
      });
    });
    await runHourlyRollup(createStores(db), { now });
  } finally {
    await db.knex.destroy();
  }
  return Date.now() - started;
}

/** Rows of the modification history, by source, and the database server's version (MariaDB only). */
export async function inspectBenchDatabase(
  config: DatabaseConfig,
): Promise<{ history: Record<string, number>; version: string | null }> {
  const db = openDatabase(config);
  try {
    const rows: Array<{ source: string; n: number | string }> = await db
      .knex('modifications')
      .select('source')
      .count({ n: '*' })
      .groupBy('source');
    const history = Object.fromEntries(rows.map((row) => [row.source, Number(row.n)]));
    let version: string | null = null;
    if (db.engine === 'mysql') {
      const [result] = await db.knex.raw('select version() as v');
      version = String(result[0].v);
    }
    return { history, version };
  } finally {
    await db.knex.destroy();
  }
}
