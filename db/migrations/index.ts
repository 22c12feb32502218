import type { Knex } from 'knex';
import * as initialSchema from './20261125000000_initial_schema';
import * as processingStateRow from './20261125000100_processing_state_row';
import * as postbackOutbox from './20261125003000_postback_outbox';

/** A migration module: `up` and `down`, nothing imported from services or stores. */
interface MigrationModule {
  up(knex: Knex): Promise<void>;
  down(knex: Knex): Promise<void>;
}

// Listed explicitly instead of read from the directory, so the same list works from TypeScript
// (tests) and from the compiled JavaScript (dist) without extension juggling. Append only.
const migrations: Array<[string, MigrationModule]> = [
  ['20261125000000_initial_schema', initialSchema],
  ['20261125000100_processing_state_row', processingStateRow],
  ['20261125003000_postback_outbox', postbackOutbox],
];

/** knex migration source over the list above. */
export const migrationSource: Knex.MigrationSource<[string, MigrationModule]> = {
  getMigrations: async () => migrations,
  getMigrationName: ([name]) => name,
  getMigration: async ([, module]) => module,
};
