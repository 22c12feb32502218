import type { Knex } from 'knex';

// impact.com's REST API: the accounts brands' API clients sign in as (their campaigns in a table of their
// own), the submissions those clients queue, and the one lease the worker applying them holds, so that
// submissions are applied in order however many instances run a worker. Each table is created only when
// missing: MySQL commits DDL at once, so a half-run migration is re-run safely.
const TABLES: Array<[name: string, create: (t: Knex.CreateTableBuilder) => void]> = [
  [
    'api_accounts',
    (t) => {
      t.increments('id').primary();
      t.string('account_sid', 64).notNullable().unique('api_accounts_account_sid_unique');
      t.string('name', 255).notNullable();
      // SHA-256 of the token, hex: the token is 32 random bytes, so a fast hash is as safe as a slow one.
      t.string('token_sha256', 64).notNullable();
      t.bigInteger('created_at').notNullable();
      t.bigInteger('revoked_at').nullable();
    },
  ],
  [
    'api_account_campaigns',
    (t) => {
      t.integer('account_id').unsigned().notNullable().references('id').inTable('api_accounts');
      t.integer('campaign_id').unsigned().notNullable();
      t.primary(['account_id', 'campaign_id']);
    },
  ],
  [
    'api_submissions',
    (t) => {
      // The id is the order submissions are applied in.
      t.bigIncrements('id').primary();
      t.string('public_id', 40).notNullable().unique('api_submissions_public_id_unique');
      t.integer('account_id').unsigned().notNullable().references('id').inTable('api_accounts');
      t.string('type', 16).notNullable();
      t.text('parameters').notNullable();
      t.string('status', 16).notNullable().defaultTo('QUEUED');
      t.string('code', 64).nullable();
      t.string('message', 255).nullable();
      t.string('action_id', 64).nullable();
      t.bigInteger('submitted_at').notNullable();
      t.bigInteger('completed_at').nullable();
      t.string('idempotency_key_sha256', 64).nullable();
      t.string('fingerprint', 64).nullable();
      // Several NULLs are allowed by a unique index on both engines: only keyed submissions collide.
      t.unique(['account_id', 'idempotency_key_sha256'], { indexName: 'api_submissions_idempotency_unique' });
      t.index(['status', 'id'], 'api_submissions_status_index');
    },
  ],
  [
    'api_submission_leases',
    (t) => {
      t.string('name', 32).primary();
      t.string('owner', 128).nullable();
      t.bigInteger('expires_at').notNullable().defaultTo(0);
    },
  ],
];

/** Creates the tables (any a half-run migration left out). */
export async function up(knex: Knex): Promise<void> {
  for (const [name, create] of TABLES) {
    if (!(await knex.schema.hasTable(name))) await knex.schema.createTable(name, create);
  }
}

/** Drops the tables, referencing ones first. */
export async function down(knex: Knex): Promise<void> {
  for (const [name] of [...TABLES].reverse()) await knex.schema.dropTableIfExists(name);
}
