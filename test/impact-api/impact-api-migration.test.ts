import * as impactApi from '../../db/migrations/20261205300000_impact_api';
import * as batchCampaignUnsigned from '../../db/migrations/20261205200100_batch_campaign_unsigned';
import { createTestDatabase, testEngines } from '../support/databases';

describe.each(testEngines())('impact API migrations on %s', (engine) => {
  it('go down and up again, and up is safe to re-run', async () => {
    const database = await createTestDatabase(engine);
    const { knex } = database.db;
    try {
      const [accountId] = await knex('api_accounts').insert({
        account_sid: 'IR1',
        name: 'a',
        token_sha256: 'f'.repeat(64),
        created_at: 1,
      });
      await knex('api_account_campaigns').insert({ account_id: accountId, campaign_id: 4_000_000_000 });
      await knex('api_submissions').insert({
        public_id: 'A-1',
        account_id: accountId,
        type: 'Modification',
        parameters: '[]',
        submitted_at: 1,
      });
      // A campaign id above the signed range fits batches.campaign_id.
      await knex('batches').insert({
        filename: 'f.csv',
        content_sha256: 'a'.repeat(64),
        format: 'csv',
        encoding: 'utf-8',
        state: 'queued',
        records: 0,
        created_at: 1,
        campaign_id: 4_000_000_000,
      });
      await knex('batches').delete();

      await batchCampaignUnsigned.down(knex);
      await impactApi.down(knex);
      for (const table of ['api_accounts', 'api_account_campaigns', 'api_submissions', 'api_submission_leases'])
        expect(await knex.schema.hasTable(table)).toBe(false);
      await impactApi.up(knex);
      await impactApi.up(knex);
      await batchCampaignUnsigned.up(knex);
      await batchCampaignUnsigned.up(knex);
      const [again] = await knex('api_accounts').insert({
        account_sid: 'IR1',
        name: 'a',
        token_sha256: 'f',
        created_at: 1,
      });
      await expect(
        knex('api_accounts').insert({ account_sid: 'IR1', name: 'b', token_sha256: 'f', created_at: 1 }),
      ).rejects.toThrow();
      // Idempotency keys are unique per account; submissions without one never collide.
      const submission = (publicId: string, key: string | null) =>
        knex('api_submissions').insert({
          public_id: publicId,
          account_id: again,
          type: 'Reversal',
          parameters: '[]',
          submitted_at: 1,
          idempotency_key_sha256: key,
        });
      await submission('A-2', null);
      await submission('A-3', null);
      await submission('A-4', 'k');
      await expect(submission('A-5', 'k')).rejects.toThrow();
      expect(await knex('api_submissions').where({ public_id: 'A-2' }).first('status')).toEqual({ status: 'QUEUED' });
    } finally {
      await database.drop();
    }
  });
});
