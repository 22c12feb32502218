import * as batchesMigration from '../../db/migrations/20261125020000_batches';
import { classifyDatabaseError } from '../../src/store/database-errors';
import { createTestDatabase, testEngines } from '../support/databases';

describe.each(testEngines())('batches migration on %s', (engine) => {
  it('goes down and up again, and up is safe to re-run', async () => {
    const database = await createTestDatabase(engine);
    const { knex } = database.db;
    try {
      expect(await knex.schema.hasTable('batches')).toBe(true);
      expect(await knex.schema.hasTable('batch_rows')).toBe(true);
      await batchesMigration.down(knex);
      expect(await knex.schema.hasTable('batches')).toBe(false);
      expect(await knex.schema.hasTable('batch_rows')).toBe(false);
      await batchesMigration.up(knex);
      await batchesMigration.up(knex);
      expect(await knex.schema.hasColumn('batch_rows', 'file_row')).toBe(true);
      expect(await knex.schema.hasColumn('batches', 'content_key')).toBe(true);
    } finally {
      await database.drop();
    }
  });

  it('lets only one batch claim a content, and any number of duplicates share it', async () => {
    const database = await createTestDatabase(engine);
    const { knex } = database.db;
    const batch = (contentKey: string | null) => ({
      filename: 'f.txt',
      content_sha256: 'a'.repeat(64),
      content_key: contentKey,
      format: 'tab',
      encoding: 'utf-8',
      state: 'completed',
      created_at: 1,
    });
    try {
      await knex('batches').insert(batch('a'.repeat(64)));
      const refusal = await knex('batches')
        .insert(batch('a'.repeat(64)))
        .then(
          () => null,
          (error: unknown) => error,
        );
      expect(classifyDatabaseError(refusal)).toBe('duplicate_key');
      await knex('batches').insert(batch(null));
      await knex('batches').insert(batch(null));
      expect(await knex('batches').count({ n: '*' })).toEqual([{ n: 3 }]);
    } finally {
      await database.drop();
    }
  });
});
