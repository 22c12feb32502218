import type { Knex } from 'knex';

// Intake of impact.com files by FTP/SFTP upload, by pulling from the brand's server and by e-mail. Every
// table belongs to a campaign; none has a foreign key to campaigns so a campaign's history outlives it.
// MySQL commits DDL at once: each table is created only when missing, so a half-run migration re-runs.
const TABLES: Array<[name: string, create: (t: Knex.CreateTableBuilder) => void]> = [
  [
    // One row per campaign with intake settings; the pull password sealed (AES-256-GCM), never in clear.
    'intake_settings',
    (t) => {
      t.integer('campaign_id').unsigned().primary();
      t.boolean('upload').notNullable().defaultTo(false);
      t.boolean('email').notNullable().defaultTo(false);
      t.string('pull_protocol', 8).nullable();
      t.string('pull_host', 255).nullable();
      t.integer('pull_port').nullable();
      t.string('pull_directory', 1024).nullable();
      t.string('pull_username', 255).nullable();
      t.text('pull_password_sealed').nullable();
      t.bigInteger('last_pull_at').nullable();
      t.text('last_pull_error').nullable();
      t.integer('last_pull_taken').nullable();
      t.bigInteger('updated_at').notNullable();
    },
  ],
  [
    // Upload users (FTP and SFTP log-ins): bcrypt hash only; a revoked user keeps its row for the record.
    'intake_users',
    (t) => {
      t.increments('id').primary();
      t.string('username', 64).notNullable().unique('intake_users_username_unique');
      t.string('password_hash', 100).notNullable();
      t.integer('campaign_id').unsigned().notNullable().index('intake_users_campaign_index');
      t.bigInteger('created_at').notNullable();
      t.bigInteger('revoked_at').nullable();
    },
  ],
  [
    // E-mail addresses: the current one of a campaign has retired_at null; retired ones are refused.
    'intake_email_addresses',
    (t) => {
      t.increments('id').primary();
      t.string('address', 320).notNullable().unique('intake_email_addresses_address_unique');
      t.integer('campaign_id').unsigned().notNullable().index('intake_email_addresses_campaign_index');
      t.bigInteger('created_at').notNullable();
      t.bigInteger('retired_at').nullable();
    },
  ],
  [
    // Files taken from a brand's server: the unique key makes a second take of the same file impossible,
    // even by two instances pulling at once; the content hash catches a renamed or touched copy.
    'intake_pulled_files',
    (t) => {
      t.increments('id').primary();
      t.integer('campaign_id').unsigned().notNullable();
      t.string('name', 255).notNullable();
      t.bigInteger('size').notNullable();
      t.bigInteger('mtime').notNullable();
      t.string('content_sha256', 64).notNullable();
      t.integer('batch_id').unsigned().nullable();
      t.bigInteger('taken_at').notNullable();
      t.unique(['campaign_id', 'name', 'size', 'mtime'], { indexName: 'intake_pulled_files_file_unique' });
      t.index(['campaign_id', 'content_sha256'], 'intake_pulled_files_content_index');
    },
  ],
  [
    // Messages taken in by e-mail, by the SHA-256 of their Message-ID (any length fits the key).
    'intake_messages',
    (t) => {
      t.string('message_id_sha256', 64).primary();
      t.integer('campaign_id').unsigned().notNullable();
      t.string('sender', 320).nullable();
      t.bigInteger('received_at').notNullable();
    },
  ],
];

/** Creates the intake tables, skipping any a half-run migration created. */
export async function up(knex: Knex): Promise<void> {
  for (const [name, create] of TABLES) {
    if (!(await knex.schema.hasTable(name))) await knex.schema.createTable(name, create);
  }
}

/** Drops the intake tables. */
export async function down(knex: Knex): Promise<void> {
  for (const [name] of [...TABLES].reverse()) await knex.schema.dropTableIfExists(name);
}
