import * as impactBatches from '../../db/migrations/20261205100000_impact_batches';
import { createTestDatabase, testEngines } from '../support/databases';

describe.each(testEngines())('impact batches migration on %s', (engine) => {
  it('goes down and up again keeping the batches, and up is safe to re-run', async () => {
    const database = await createTestDatabase(engine);
    const { knex } = database.db;
    try {
      const [id] = await knex('batches').insert({
        filename: 'f.txt',
        content_sha256: 'a'.repeat(64),
        format: 'tab',
        encoding: 'utf-8',
        state: 'queued',
        records: 1,
        created_at: 1,
      });
      await knex('batch_rows').insert({ batch_id: id, file_row: 1, parameters: '[]' });
      expect(await knex('batches').first('kind')).toEqual({ kind: 'lead-poster' });

      await impactBatches.down(knex);
      for (const [table, column] of [
        ['batches', 'kind'],
        ['batch_rows', 'code'],
        ['batch_rows', 'action_id'],
        ['batch_rows', 'action_tracker_id'],
        ['batch_rows', 'sku'],
      ])
        expect(await knex.schema.hasColumn(table, column)).toBe(false);
      expect(await knex('batch_rows').count({ n: '*' })).toEqual([{ n: 1 }]);

      await impactBatches.up(knex);
      await impactBatches.up(knex);
      expect(await knex.schema.hasColumn('batch_rows', 'sku')).toBe(true);
      expect(await knex('batches').first('kind')).toEqual({ kind: 'lead-poster' });
      await knex('batch_rows')
        .where({ batch_id: id })
        .update({ code: 'ActionTrackerId: ActionTrackerId value is invalid' });
      expect(await knex('batch_rows').first('code')).toEqual({
        code: 'ActionTrackerId: ActionTrackerId value is invalid',
      });
    } finally {
      await database.drop();
    }
  });
});
