import type { Knex } from 'knex';

// Merchant users: people of a merchant (brand) who sign in to the console and see only its campaigns. A user
// is created without a password; the admin hands over a one-time link (only its SHA-256 is stored, with an
// expiry) on which the user chooses one (bcrypt). `disabled_at` set: the user cannot sign in, and its
// sessions end. Console sessions opened by a merchant user carry its id (`method` = `merchant`), so they
// are checked against the user on every request.
export async function up(knex: Knex): Promise<void> {
  if (!(await knex.schema.hasTable('merchant_users')))
    await knex.schema.createTable('merchant_users', (t) => {
      t.increments('id').primary();
      t.integer('merchant_id').unsigned().notNullable();
      // Stored lower-case; the sign-in name.
      t.string('email', 254).notNullable().unique('merchant_users_email_unique');
      t.string('name', 255).notNullable();
      t.string('password_hash', 100).nullable();
      t.string('link_hash', 64).nullable().unique('merchant_users_link_unique');
      t.bigInteger('link_expires_at').nullable();
      t.bigInteger('disabled_at').nullable();
      t.bigInteger('created_at').notNullable();
      t.bigInteger('updated_at').notNullable();
      t.index(['merchant_id'], 'merchant_users_merchant_index');
    });
  // A merchant user's actor is its e-mail address (up to 254 characters). SQLite does not enforce lengths.
  if (knex.client.config.client === 'mysql2') {
    await knex.raw('alter table console_sessions modify actor varchar(255) not null');
    await knex.raw('alter table console_audit modify actor varchar(255) not null');
    await knex.raw('alter table modifications modify actor varchar(255) null');
  }
  if (!(await knex.schema.hasColumn('console_sessions', 'user_id')))
    await knex.schema.alterTable('console_sessions', (t) => {
      t.integer('user_id').unsigned().nullable();
      t.index(['user_id'], 'console_sessions_user_index');
    });
}

/** Drops the column (a plain ALTER TABLE: knex's SQLite dropColumn would rebuild the table) and the table. */
export async function down(knex: Knex): Promise<void> {
  if (await knex.schema.hasColumn('console_sessions', 'user_id')) {
    await knex.raw(
      knex.client.config.client === 'mysql2'
        ? 'alter table console_sessions drop index console_sessions_user_index'
        : 'drop index if exists console_sessions_user_index',
    );
    await knex.raw('alter table console_sessions drop column user_id');
  }
  await knex.schema.dropTableIfExists('merchant_users');
}
