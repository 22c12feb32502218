import type { Knex } from 'knex';

/**
 * Click ids and merchant references are matched byte for byte, as SQLite does. knex creates MySQL
 * tables with the connection charset's default collation (case-insensitive, trailing spaces ignored),
 * so `ClickID=ABC ` would find `abc` there. NO PAD binary collations fix both: utf8mb4_nopad_bin on
 * MariaDB, utf8mb4_0900_bin on MySQL 8. Nothing to do on SQLite (BINARY is its default).
 */
export async function up(knex: Knex): Promise<void> {
  const client = knex.client.config.client as string;
  if (client !== 'mysql2' && client !== 'mysql') return;
  const [[{ v }]] = await knex.raw('select version() as v');
  const collation = /mariadb/i.test(String(v)) ? 'utf8mb4_nopad_bin' : 'utf8mb4_0900_bin';
  await knex.raw(
    `alter table transactions modify click_id varchar(64) character set utf8mb4 collate ${collation} not null`,
  );
  await knex.raw(
    `alter table transactions modify merchant_reference_id varchar(255) character set utf8mb4 collate ${collation} null`,
  );
}

/** Back to the table's default collation. */
export async function down(knex: Knex): Promise<void> {
  const client = knex.client.config.client as string;
  if (client !== 'mysql2' && client !== 'mysql') return;
  await knex.raw(
    'alter table transactions modify click_id varchar(64) character set utf8mb4 collate utf8mb4_general_ci not null',
  );
  await knex.raw(
    'alter table transactions modify merchant_reference_id varchar(255) character set utf8mb4 collate utf8mb4_general_ci null',
  );
}
