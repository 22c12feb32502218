import type { Knex } from 'knex';

// Nightly processing as a lease, apart from the hold an admin sets by hand (`nightly_in_progress`):
// which day a run processes, who runs it, and until when its lease holds (epoch ms by the database's
// clock; the run renews it while it works). A run found dead is counted, and its day marked on its
// nightly_runs row, so the next scheduled pass runs it again.
const STATE_COLUMNS: Array<[name: string, add: (t: Knex.AlterTableBuilder) => void]> = [
  ['nightly_run_date', (t) => t.string('nightly_run_date', 10).nullable()],
  ['nightly_run_holder', (t) => t.string('nightly_run_holder', 128).nullable()],
  ['nightly_run_started_at', (t) => t.bigInteger('nightly_run_started_at').nullable()],
  ['nightly_lease_expires_at', (t) => t.bigInteger('nightly_lease_expires_at').nullable()],
  ['nightly_interruptions', (t) => t.integer('nightly_interruptions').notNullable().defaultTo(0)],
];

/** Adds the columns, skipping any that a half-run migration already added (MySQL commits DDL at once). */
export async function up(knex: Knex): Promise<void> {
  for (const [name, add] of STATE_COLUMNS) {
    if (!(await knex.schema.hasColumn('processing_state', name))) await knex.schema.alterTable('processing_state', add);
  }
  if (!(await knex.schema.hasColumn('nightly_runs', 'interrupted_at'))) {
    await knex.schema.alterTable('nightly_runs', (t) => t.bigInteger('interrupted_at').nullable());
  }
}

/** Drops them (those present). */
export async function down(knex: Knex): Promise<void> {
  if (await knex.schema.hasColumn('nightly_runs', 'interrupted_at'))
    await knex.schema.alterTable('nightly_runs', (t) => t.dropColumn('interrupted_at'));
  for (const [name] of [...STATE_COLUMNS].reverse()) {
    if (await knex.schema.hasColumn('processing_state', name))
      await knex.schema.alterTable('processing_state', (t) => t.dropColumn(name));
  }
}
