import type { Knex } from 'knex';

/** The documented demo password of the demo campaign (README). */
export const DEMO_PASSWORD = 'demo-password';
/** The demo campaign's CID. */
export const DEMO_CAMPAIGN_ID = 100;
/** The demo campaign's impact.com event type (ActionTrackerId): payout 25 % of the amount, 30 locking days. */
export const DEMO_EVENT_TYPE_ID = 12345;
const DAY = 86_400_000;

/**
 * Demo data for a fresh embedded database: one affiliate, one opted-in campaign (password above,
 * unique merchant references), its impact.com event type, and five transactions from two days ago that
 * are also impact actions `1000.2000.3001`… — so the README's curl and samples/impact-modifications.csv work.
 * Only called on an empty SQLite database; never on MySQL/MariaDB or a database that has data.
 */
export async function seedDemoData(knex: Knex, passwordHash: string, now: number): Promise<void> {
  const twoDaysAgo = Math.floor((now - 2 * 86_400_000) / 3_600_000) * 3_600_000;
  await knex.transaction(async (trx) => {
    await trx('affiliates').insert({
      id: 1,
      name: 'Demo Affiliate',
      postback_url: null,
      created_at: now,
      updated_at: now,
    });
    await trx('campaigns').insert({
      id: DEMO_CAMPAIGN_ID,
      name: 'Demo Campaign',
      allow_external_modification: true,
      password_hash: passwordHash,
      whitelist_only: false,
      unique_merchant_reference: true,
      created_at: now,
      updated_at: now,
    });
    await trx('event_types').insert({
      id: DEMO_EVENT_TYPE_ID,
      campaign_id: DEMO_CAMPAIGN_ID,
      name: 'Online sale',
      locking_days: 30,
      payout_type: 'percent',
      payout_value: 250_000, // 25 %
      created_at: now,
      updated_at: now,
    });
    for (let i = 1; i <= 5; i++) {
      const id = 1000 + i;
      await trx('transactions').insert({
        id,
        click_id: `demo-click-${id}`,
        campaign_id: DEMO_CAMPAIGN_ID,
        affiliate_id: 1,
        merchant_reference_id: `ORDER-${id}`,
        sub_id: null,
        affiliate_reference_id: null,
        affiliate_payout: 125_000 * i, // 12.50 × i
        merchant_revenue: 500_000 * i, // 50.00 × i
        approved: true,
        occurred_at: twoDaysAgo + i * 60_000,
        action_id: `1000.2000.${3000 + i}`,
        event_type_id: DEMO_EVENT_TYPE_ID,
        locking_at: twoDaysAgo + i * 60_000 + 30 * DAY,
        created_at: now,
        updated_at: now,
      });
    }
  });
}

/** True when the database holds no campaigns, affiliates or transactions. */
export async function databaseIsEmpty(knex: Knex): Promise<boolean> {
  for (const table of ['campaigns', 'affiliates', 'transactions']) {
    const row = await knex(table).count({ n: '*' }).first();
    if (Number(row?.n ?? 0) > 0) return false;
  }
  return true;
}
