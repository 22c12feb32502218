import crypto from 'node:crypto';
import type { Knex } from 'knex';
import type mysql from 'mysql2/promise';

/**
 * The SQL of one successful edit, without the core around it, so the same statements can be timed
 * through mysql2 prepared statements (the floor) and through knex (hot-path-costs). Two lists:
 * - `minimal`: START TRANSACTION, `SELECT … FOR UPDATE` by primary key, UPDATE, history INSERT, COMMIT;
 * - `server`: the nine statements the real server sends per edit today — the unlocked processing-state
 *   read, the transaction-with-campaign lookup, then START TRANSACTION, the shared lock on
 *   processing_state, the row lock, UPDATE, the hourly-statistics upsert, the history INSERT, COMMIT.
 */
export type StatementList = 'minimal' | 'server';

type Row = Record<string, number | string | null>;
/** Runs one statement and returns its rows (empty for writes). */
export type Run = (sql: string, bindings: Array<string | number | null>) => Promise<Row[]>;

/** How statements reach the database: outside a transaction, and inside one. */
export interface EditSession {
  read: Run;
  transaction<T>(work: (run: Run) => Promise<T>): Promise<T>;
}

const LOCK = 'SELECT affiliate_payout, merchant_revenue, approved FROM transactions WHERE id = ? FOR UPDATE';
const UPDATE =
  'UPDATE transactions SET affiliate_payout = ?, merchant_revenue = ?, approved = ?, updated_at = ? WHERE id = ?';
const HISTORY =
  'INSERT INTO modifications (transaction_id, identifier, source, before_affiliate_payout, before_merchant_revenue, ' +
  'before_approved, after_affiliate_payout, after_merchant_revenue, after_approved, reason, client_ip, request_id, ' +
  'postback, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)';
const STATE = 'SELECT nightly_in_progress, rolled_up_through FROM processing_state WHERE id = 1';
const STATE_SHARED = `${STATE} LOCK IN SHARE MODE`;
const WITH_CAMPAIGN =
  'SELECT t.*, c.name AS c_name, c.allow_external_modification AS c_allow, c.password_hash AS c_password_hash, ' +
  'c.whitelist_only AS c_whitelist_only, c.unique_merchant_reference AS c_unique_ref FROM transactions t ' +
  'JOIN campaigns c ON c.id = t.campaign_id WHERE t.id = ?';
const STATISTICS =
  'INSERT INTO hourly_statistics (hour_start, campaign_id, affiliate_id, transactions, approved_transactions, affiliate_payout, ' +
  'merchant_revenue, approved_affiliate_payout, approved_merchant_revenue) VALUES (?, ?, ?, 0, 0, ?, ?, ?, ?) ON DUPLICATE KEY UPDATE ' +
  'affiliate_payout = affiliate_payout + VALUES(affiliate_payout), merchant_revenue = merchant_revenue + VALUES(merchant_revenue), ' +
  'approved_affiliate_payout = approved_affiliate_payout + VALUES(approved_affiliate_payout), ' +
  'approved_merchant_revenue = approved_merchant_revenue + VALUES(approved_merchant_revenue)';

/** The change one edit asks for; amounts in ten-thousandths, null keeps the stored value. */
export interface EditValues {
  transactionId: number;
  affiliatePayout: number | null;
  merchantRevenue: number | null;
  approved: boolean | null;
  reason: string | null;
  clientIp: string;
}

/** Applies one edit with `list`'s statements; false when the transaction does not exist. */
export async function runEdit(session: EditSession, edit: EditValues, list: StatementList): Promise<boolean> {
  const id = edit.transactionId;
  let located: Row | undefined;
  if (list === 'server') {
    await session.read(STATE, []);
    [located] = await session.read(WITH_CAMPAIGN, [id]);
  }
  return session.transaction(async (run) => {
    if (list === 'server') await run(STATE_SHARED, []);
    const [before] = await run(LOCK, [id]);
    if (!before) return false;
    const payout = edit.affiliatePayout ?? Number(before.affiliate_payout);
    const revenue = edit.merchantRevenue ?? Number(before.merchant_revenue);
    const approved = edit.approved === null ? Number(before.approved) : edit.approved ? 1 : 0;
    const now = Date.now();
    await run(UPDATE, [payout, revenue, approved, now, id]);
    if (located) {
      const hour = Math.floor(Number(located.occurred_at) / 3_600_000) * 3_600_000;
      const delta = [payout - Number(before.affiliate_payout), revenue - Number(before.merchant_revenue)];
      await run(STATISTICS, [hour, Number(located.campaign_id), Number(located.affiliate_id), ...delta, ...delta]);
    }
    await run(HISTORY, [
      id,
      'transaction_id',
      'bench-floor',
      Number(before.affiliate_payout),
      Number(before.merchant_revenue),
      Number(before.approved),
      payout,
      revenue,
      approved,
      edit.reason,
      edit.clientIp,
      crypto.randomUUID(),
      'not_requested',
      now,
    ]);
    return true;
  });
}

/** mysql2 prepared statements: reads on the pool, the transaction on one pooled connection. */
export function mysqlSession(pool: mysql.Pool): EditSession {
  return {
    read: async (sql, bindings) => (await pool.execute(sql, bindings))[0] as Row[],
    transaction: async (work) => {
      const connection = await pool.getConnection();
      try {
        await connection.query('START TRANSACTION');
        const result = await work(async (sql, bindings) => (await connection.execute(sql, bindings))[0] as Row[]);
        await connection.query('COMMIT');
        return result;
      } catch (error) {
        await connection.query('ROLLBACK').catch(() => undefined);
        throw error;
      } finally {
        connection.release();
      }
    },
  };
}

/** The same statements through knex.raw and knex.transaction (text protocol, as the stores send them). */
export function knexSession(knex: Knex): EditSession {
  const rows = (result: unknown) => ((result as [Row[] | unknown])[0] as Row[]) ?? [];
  return {
    read: async (sql, bindings) => rows(await knex.raw(sql, bindings)),
    transaction: (work) => knex.transaction((trx) => work(async (sql, bindings) => rows(await trx.raw(sql, bindings)))),
  };
}
