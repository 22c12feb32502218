import type { Knex } from 'knex';

// The SHA-256 of the brand's SFTP host key, pinned at the first pull that connects (trust on first use):
// a later pull to a server with another key is refused, as a man in the middle would be, rather than
// handing it the brand's password. Cleared when the pull's protocol, host or port change.
export async function up(knex: Knex): Promise<void> {
  if (!(await knex.schema.hasColumn('intake_settings', 'pull_host_key_sha256')))
    await knex.schema.alterTable('intake_settings', (t) => t.string('pull_host_key_sha256', 64).nullable());
}

/** Drops the column. */
export async function down(knex: Knex): Promise<void> {
  if (await knex.schema.hasColumn('intake_settings', 'pull_host_key_sha256'))
    await knex.schema.alterTable('intake_settings', (t) => t.dropColumn('pull_host_key_sha256'));
}
