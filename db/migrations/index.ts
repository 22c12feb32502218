import type { Knex } from 'knex';
import * as initialSchema from './20261125000000_initial_schema';
import * as processingStateRow from './20261125000100_processing_state_row';
import * as postbackOutbox from './20261125003000_postback_outbox';
import * as batches from './20261125020000_batches';
import * as dailyStatistics from './20261125010000_daily_statistics';
import * as consoleTables from './20261125030000_console';
import * as historyAppendOnly from './20261125050000_history_append_only';
import * as idempotencyKeys from './20261125060000_idempotency_keys';
import * as changeTimeIndexes from './20261125070000_change_time_indexes';
import * as binaryIdentifierCollation from './20261125080000_binary_identifier_collation';
import * as idempotencyScopedToCampaign from './20261204100000_idempotency_scoped_to_campaign';
import * as idempotencyCampaignsFilled from './20261204100100_idempotency_campaigns_filled';
import * as nightlyRunLease from './20261204200000_nightly_run_lease';
import * as eventTypes from './20261205000000_event_types';
import * as actions from './20261205050000_actions';
import * as actionModificationCounts from './20261205050100_action_modification_counts';
import * as impactBatches from './20261205100000_impact_batches';
import * as batchSources from './20261205150000_batch_sources';
import * as refusals from './20261205160000_refusals';
import * as refusalHours from './20261206100000_refusal_hours';
import * as dispositionCode from './20261206200000_disposition_code';
import * as dispositionCodeBackfill from './20261206200100_disposition_code_backfill';
import * as batchMerchant from './20261206300000_batch_merchant';
import * as intakeUserMerchant from './20261206300100_intake_user_merchant';
import * as intakeEmailMerchant from './20261207100000_intake_email_merchant';
import * as intake from './20261205200000_intake';
import * as batchCampaignUnsigned from './20261205200100_batch_campaign_unsigned';
import * as impactApi from './20261205300000_impact_api';
import * as intakePullHostKey from './20261205400000_intake_pull_host_key';
import * as modificationActor from './20261205500000_modification_actor';
import * as merchants from './20261205510000_merchants';
import * as merchantUsers from './20261205520000_merchant_users';
import * as apiAccountMerchant from './20261205530000_api_account_merchant';

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
  ['20261125020000_batches', batches],
  ['20261125010000_daily_statistics', dailyStatistics],
  ['20261125030000_console', consoleTables],
  ['20261125050000_history_append_only', historyAppendOnly],
  ['20261125060000_idempotency_keys', idempotencyKeys],
  ['20261125070000_change_time_indexes', changeTimeIndexes],
  ['20261125080000_binary_identifier_collation', binaryIdentifierCollation],
  ['20261204100000_idempotency_scoped_to_campaign', idempotencyScopedToCampaign],
  ['20261204100100_idempotency_campaigns_filled', idempotencyCampaignsFilled],
  ['20261204200000_nightly_run_lease', nightlyRunLease],
  ['20261205000000_event_types', eventTypes],
  ['20261205050000_actions', actions],
  ['20261205050100_action_modification_counts', actionModificationCounts],
  ['20261205100000_impact_batches', impactBatches],
  ['20261205150000_batch_sources', batchSources],
  ['20261205160000_refusals', refusals],
  ['20261205200000_intake', intake],
  ['20261205200100_batch_campaign_unsigned', batchCampaignUnsigned],
  ['20261205300000_impact_api', impactApi],
  ['20261205400000_intake_pull_host_key', intakePullHostKey],
  ['20261205500000_modification_actor', modificationActor],
  ['20261205510000_merchants', merchants],
  ['20261205520000_merchant_users', merchantUsers],
  ['20261205530000_api_account_merchant', apiAccountMerchant],
  ['20261206100000_refusal_hours', refusalHours],
  ['20261206200000_disposition_code', dispositionCode],
  ['20261206200100_disposition_code_backfill', dispositionCodeBackfill],
  ['20261206300000_batch_merchant', batchMerchant],
  ['20261206300100_intake_user_merchant', intakeUserMerchant],
  ['20261207100000_intake_email_merchant', intakeEmailMerchant],
];

/** knex migration source over the list above. */
export const migrationSource: Knex.MigrationSource<[string, MigrationModule]> = {
  getMigrations: async () => migrations,
  getMigrationName: ([name]) => name,
  getMigration: async ([, module]) => module,
};
