import type { Knex } from 'knex';

/**
 * The web console's tables: server-side sessions (shared by every node behind a load balancer) and the
 * audit log of every change made through the console.
 */
export async function up(knex: Knex): Promise<void> {
  // MySQL commits DDL at once, so a half-run migration must be safe to re-run: create only what is missing.
  if (!(await knex.schema.hasTable('console_sessions'))) {
    await knex.schema.createTable('console_sessions', (t) => {
      // SHA-256 of the cookie value, never the value itself: a copy of the table does not sign anyone in.
      t.string('id_hash', 64).primary();
      t.string('actor', 64).notNullable();
      // How the session was opened: `token` (ADMIN_TOKEN) or `user` (ADMIN_USERS); rechecked per request.
      t.string('method', 8).notNullable();
      t.string('csrf_token', 64).notNullable();
      t.string('client_ip', 45).nullable();
      t.bigInteger('created_at').notNullable();
      t.bigInteger('expires_at').notNullable();
      t.index(['expires_at'], 'console_sessions_expires_idx');
    });
  }
  if (!(await knex.schema.hasTable('console_audit'))) {
    await knex.schema.createTable('console_audit', (t) => {
      t.bigIncrements('id').primary();
      t.bigInteger('at').notNullable();
      t.string('actor', 64).notNullable();
      t.string('action', 64).notNullable();
      t.string('target', 255).nullable();
      // JSON object of what changed (never a password or token).
      t.text('details').nullable();
      t.string('client_ip', 45).nullable();
      t.string('request_id', 64).nullable();
      t.index(['at'], 'console_audit_at_idx');
    });
  }
}

/** Drops both tables. */
export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('console_audit');
  await knex.schema.dropTableIfExists('console_sessions');
}
