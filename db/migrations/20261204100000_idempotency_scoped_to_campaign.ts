import type { Knex } from 'knex';

/**
 * Idempotency keys belong to a campaign: `campaign_id` joins the primary key, so campaign 11 may use
 * the key campaign 10 used, and a lookup never finds another campaign's answer. Existing rows get
 * campaign 0 here (no campaign has id 0) and their real campaign from the next, data, migration.
 */
export async function up(knex: Knex): Promise<void> {
  if (await knex.schema.hasColumn('idempotency_keys', 'campaign_id')) return;
  if (isMysql(knex)) {
    // One ALTER: MySQL commits DDL at once, and a single statement either happens whole or not at all,
    // so a run cut short leaves either the old table or the new one (the guard above covers a re-run).
    await knex.raw(
      'alter table idempotency_keys add column campaign_id int unsigned not null default 0 first, ' +
        'drop primary key, add primary key (campaign_id, key_hash)',
    );
    return;
  }
  // SQLite cannot change a primary key in place: knex rebuilds the table (inside the migration's transaction).
  await knex.schema.alterTable('idempotency_keys', (t) => {
    t.integer('campaign_id').unsigned().notNullable().defaultTo(0);
  });
  await knex.schema.alterTable('idempotency_keys', (t) => {
    t.dropPrimary();
    t.primary(['campaign_id', 'key_hash']);
  });
}

/**
 * Back to one key space. Where campaigns share a key only the earliest answer can stay (the others are
 * dropped: an idempotency answer lives a day at most); then the primary key is the key hash again.
 */
export async function down(knex: Knex): Promise<void> {
  if (!(await knex.schema.hasColumn('idempotency_keys', 'campaign_id'))) return;
  const shared: Array<{ key_hash: string }> = await knex('idempotency_keys')
    .select('key_hash')
    .groupBy('key_hash')
    .havingRaw('count(*) > 1');
  for (const { key_hash: keyHash } of shared) {
    const [earliest] = await knex('idempotency_keys')
      .where({ key_hash: keyHash })
      .orderBy([{ column: 'created_at' }, { column: 'campaign_id' }])
      .limit(1);
    await knex('idempotency_keys')
      .where({ key_hash: keyHash })
      .whereNot({ campaign_id: earliest.campaign_id })
      .delete();
  }
  if (isMysql(knex)) {
    await knex.raw(
      'alter table idempotency_keys drop primary key, add primary key (key_hash), drop column campaign_id',
    );
    return;
  }
  await knex.schema.alterTable('idempotency_keys', (t) => {
    t.dropPrimary();
    t.primary(['key_hash']);
  });
  await knex.schema.alterTable('idempotency_keys', (t) => {
    t.dropColumn('campaign_id');
  });
}

function isMysql(knex: Knex): boolean {
  const client = knex.client.config.client as string;
  return client === 'mysql2' || client === 'mysql';
}
