import type { Knex } from 'knex';

/**
 * Bulk modification files: one `batches` row per upload (its File Submissions status) and one
 * `batch_rows` row per data row of the file, holding the row until it is processed and its result after.
 */
export async function up(knex: Knex): Promise<void> {
  // MySQL commits DDL at once, so a half-run migration must be safe to re-run: create only what is missing.
  if (!(await knex.schema.hasTable('batches'))) {
    await knex.schema.createTable('batches', (t) => {
      t.bigIncrements('id').primary();
      t.string('filename', 255).notNullable();
      t.string('content_sha256', 64).notNullable();
      // The sha256 again, but only on the batch that first brought this content in and is not failed
      // (NULL on duplicates): the unique index makes "is this a duplicate?" race-free across
      // concurrent uploads and nodes. Both engines allow many NULLs in a unique index.
      t.string('content_key', 64).nullable().unique('batches_content_key_unique');
      t.string('format', 8).notNullable(); // tab | csv
      t.string('encoding', 16).notNullable(); // utf-8 | utf-16le | utf-16be | windows-1252
      t.string('state', 16).notNullable(); // queued | processing | completed | failed
      t.integer('records').notNullable().defaultTo(0);
      t.integer('processed').notNullable().defaultTo(0);
      t.integer('succeeded').notNullable().defaultTo(0);
      t.integer('failed').notNullable().defaultTo(0);
      t.bigInteger('duplicate_of').unsigned().nullable().references('id').inTable('batches');
      t.boolean('forced').notNullable().defaultTo(false);
      t.string('client_ip', 45).nullable();
      t.string('error', 1024).nullable();
      t.string('lease_owner', 64).nullable();
      t.bigInteger('lease_expires_at').nullable();
      t.bigInteger('created_at').notNullable();
      t.bigInteger('started_at').nullable();
      t.bigInteger('finished_at').nullable();
      t.index(['state', 'id'], 'batches_state_idx');
      t.index(['content_sha256'], 'batches_content_sha256_idx');
    });
  }
  if (!(await knex.schema.hasTable('batch_rows'))) {
    await knex.schema.createTable('batch_rows', (t) => {
      t.bigInteger('batch_id').unsigned().notNullable().references('id').inTable('batches').onDelete('CASCADE');
      // The row's number as the merchant sees it: 1 = the first row under the header.
      t.integer('file_row').notNullable();
      // JSON array of {name, value} as read from the file, without the Password pair.
      t.text('parameters', 'mediumtext').notNullable();
      // The row's Password, kept apart so that it can be erased once the row is processed.
      t.text('password').nullable();
      // NULL until processed; then the result, written in the same database transaction as the change.
      t.boolean('succeeded').nullable();
      t.string('message', 255).nullable();
      t.text('transaction_id').nullable();
      t.text('click_id').nullable();
      t.text('merchant_reference_id').nullable();
      t.text('cid').nullable();
      t.primary(['batch_id', 'file_row']);
    });
  }
}

/** Drops both tables, rows first. */
export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('batch_rows');
  await knex.schema.dropTableIfExists('batches');
}
