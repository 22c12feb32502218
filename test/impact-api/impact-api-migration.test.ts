import * as impactApi from '../../db/migrations/20261205300000_impact_api';
import * as batchCampaignUnsigned from '../../db/migrations/20261205200100_batch_campaign_unsigned';
import { createTestDatabase, testEngines } from '../support/databases';

/** The error message of a statement that fails, or null when it succeeds (a knex builder runs when awaited). */
async function refusal(statement: PromiseLike<unknown>): Promise<string | null> {
  try {
    await statement;
    return null;
  } catch (error) {
    return (error as Error).message;
  }
}

const TABLES = ['api_accounts', 'api_account_campaigns', 'api_submissions', 'api_submission_leases'];

describe.each(testEngines())('impact API migrations on %s', (engine) => {
  it('keep SIDs unique and idempotency keys unique per account', async () => {
    const database = await createTestDatabase(engine);
    const { knex } = database.db;
    try {
      const account = (sid: string) =>
        knex('api_accounts').insert({ account_sid: sid, name: 'a', token_sha256: 'f'.repeat(64), created_at: 1 });
      const [first] = await account('IR1');
      expect(await refusal(account('IR1'))).toEqual(expect.any(String));
      const [second] = await account('IR2');
      // A campaign id above the signed range fits both tables that hold one.
      await knex('api_account_campaigns').insert({ account_id: first, campaign_id: 4_000_000_000 });
      const submission = (publicId: string, accountId: number, key: string | null) =>
        knex('api_submissions').insert({
          public_id: publicId,
          account_id: accountId,
          type: 'Reversal',
          parameters: '[]',
          submitted_at: 1,
          idempotency_key_sha256: key,
        });
      await submission('A-1', first, null);
      await submission('A-2', first, null);
      await submission('A-3', first, 'k');
      await submission('A-4', second, 'k');
      expect(await refusal(submission('A-5', first, 'k'))).toEqual(expect.any(String));
      expect(await refusal(submission('A-1', second, null))).toEqual(expect.any(String));
      expect(await knex('api_submissions').where({ public_id: 'A-1' }).first('status')).toEqual({ status: 'QUEUED' });
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
    } finally {
      await database.drop();
    }
  });

  it('go down and up again, and up is safe to re-run', async () => {
    const database = await createTestDatabase(engine);
    const { knex } = database.db;
    try {
      await batchCampaignUnsigned.down(knex);
      await impactApi.down(knex);
      for (const table of TABLES) expect(await knex.schema.hasTable(table)).toBe(false);
      await impactApi.up(knex);
      await impactApi.up(knex);
      await batchCampaignUnsigned.up(knex);
      await batchCampaignUnsigned.up(knex);
      for (const table of TABLES) expect(await knex.schema.hasTable(table)).toBe(true);
      await knex('api_accounts').insert({ account_sid: 'IR1', name: 'a', token_sha256: 'f', created_at: 1 });
      expect(await knex('api_accounts').count({ n: '*' })).toEqual([{ n: 1 }]);
    } finally {
      await database.drop();
    }
  });
});
