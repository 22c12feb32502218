import type { Knex } from 'knex';
import { moneyFromColumn, moneyToColumn } from '../core/money';
import { Campaign, campaignFromRow } from './campaign-store';
import type { Engine } from './database';
import { nightlyActiveSql } from './processing-state-store';
import {
  readStatement,
  SqlRunner,
  writeStatement,
  type Sql,
  type SqlValue,
  type Statement,
  type WriteResult,
} from './sql';
import type { ActionValues, CampaignSettings, Transaction, TransactionValues } from '../core/transaction';
import {
  DEFAULT_LOCKING_DAYS,
  isGeneratedActionId,
  lockingDateOf,
  type ActionItem,
  type ActionOriginal,
  type ActionState,
  type CustomerStatus,
} from '../core/action';

/** Fields a new transaction may leave out: impact's, which default to a plain transaction's. */
type OptionalOnCreate = 'actionId' | 'eventTypeId' | 'state' | 'lockingDate' | 'items' | 'customerStatus';

/**
 * A new transaction; id kept when supplied (transaction ids migrate from LinkTrust). Without an action id
 * its action id is its id in decimal; its originals are its values as created.
 */
export type NewTransaction = Omit<
  Transaction,
  'id' | 'createdAt' | 'updatedAt' | 'modificationCount' | 'original' | OptionalOnCreate
> &
  Partial<Pick<Transaction, OptionalOnCreate>> & { id?: number };

/** One transaction's new values in a change: the three values, and impact's when the change moved them. */
export interface TransactionUpdate {
  id: number;
  values: TransactionValues;
  /** Changes applied to it in this unit of work (its modification count grows by as many). */
  changes: number;
  /** impact's values to write: those present (a change that moved none of them writes none). */
  action?: Partial<ActionValues>;
}

/** Row as either engine returns it. */
export interface TransactionRow {
  id: number | string;
  click_id: string;
  campaign_id: number;
  affiliate_id: number;
  merchant_reference_id: string | null;
  sub_id: string | null;
  affiliate_reference_id: string | null;
  affiliate_payout: number | string;
  merchant_revenue: number | string;
  approved: number | boolean;
  occurred_at: number | string;
  created_at: number | string;
  updated_at: number | string;
  action_id: string | null;
  event_type_id: number | string | null;
  state: string;
  locking_at: number | string | null;
  items: string | null;
  customer_status: string | null;
  /** Absent before its migration ran (a row read by a test of an older schema). */
  disposition_code?: string | null;
  modification_count: number | string;
  original: string | null;
}

/** Maps a row to a Transaction. */
export function transactionFromRow(row: TransactionRow): Transaction {
  return {
    id: Number(row.id),
    clickId: row.click_id,
    campaignId: Number(row.campaign_id),
    affiliateId: Number(row.affiliate_id),
    merchantReferenceId: row.merchant_reference_id,
    subId: row.sub_id,
    affiliateReferenceId: row.affiliate_reference_id,
    affiliatePayout: moneyFromColumn(row.affiliate_payout),
    merchantRevenue: moneyFromColumn(row.merchant_revenue),
    approved: Boolean(row.approved),
    occurredAt: Number(row.occurred_at),
    createdAt: Number(row.created_at),
    updatedAt: Number(row.updated_at),
    actionId: row.action_id ?? String(row.id),
    eventTypeId: row.event_type_id === null ? null : Number(row.event_type_id),
    state: row.state as ActionState,
    lockingDate:
      row.locking_at === null ? lockingDateOf(Number(row.occurred_at), DEFAULT_LOCKING_DAYS) : Number(row.locking_at),
    items: row.items === null ? null : itemsFromJson(JSON.parse(row.items)),
    customerStatus: row.customer_status as CustomerStatus | null,
    dispositionCode: row.disposition_code ?? null,
    modificationCount: Number(row.modification_count),
    original: row.original === null ? null : originalFromJson(JSON.parse(row.original)),
  };
}

type ItemJson = { sku: string; category: string | null; name: string | null; quantity: number; amount: string };
type OriginalJson = {
  affiliatePayout: string;
  merchantRevenue: string;
  approved: boolean;
  items: ItemJson[] | null;
  customerStatus: CustomerStatus | null;
};

// Amounts in JSON are decimal strings of the stored integer (ten-thousandths): exact, never a JS number.
function itemsToJson(items: ActionItem[] | null): string | null {
  return items === null ? null : JSON.stringify(items.map(itemToJson));
}
function itemToJson(item: ActionItem): ItemJson {
  return {
    sku: item.sku,
    category: item.category,
    name: item.name,
    quantity: item.quantity,
    amount: item.amount.toString(),
  };
}
function itemsFromJson(items: ItemJson[]): ActionItem[] {
  return items.map((item) => ({ ...item, amount: moneyFromColumn(item.amount) }));
}
function originalToJson(original: ActionOriginal): string {
  return JSON.stringify({
    affiliatePayout: original.affiliatePayout.toString(),
    merchantRevenue: original.merchantRevenue.toString(),
    approved: original.approved,
    items: original.items === null ? null : original.items.map(itemToJson),
    customerStatus: original.customerStatus,
  } satisfies OriginalJson);
}
function originalFromJson(json: OriginalJson): ActionOriginal {
  return {
    affiliatePayout: moneyFromColumn(json.affiliatePayout),
    merchantRevenue: moneyFromColumn(json.merchantRevenue),
    approved: json.approved,
    items: json.items === null ? null : itemsFromJson(json.items),
    customerStatus: json.customerStatus,
  };
}

// One query for the core's pre-checks: the nightly flag, and the transaction with its campaign's
// settings. Led by the single processing_state row, so the flag comes back even when no transaction
// matches (LinkTrust answers "nightly processing" before "invalid transaction"). Campaign columns are
// aliased so the two rows share one result set. The flag is a hold or a run's live lease, judged by the
// database's clock in the same statement.
const WITH_CAMPAIGN = (
  engine: Engine,
  match: string,
) => `select ${nightlyActiveSql(engine, 'p')} as p_nightly, t.*, c.name as c_name,
  c.allow_external_modification as c_allow, c.password_hash as c_password_hash, c.whitelist_only as c_whitelist_only,
  c.unique_merchant_reference as c_unique_ref, c.created_at as c_created_at, c.updated_at as c_updated_at
  from processing_state p left join transactions t on ${match} left join campaigns c on c.id = t.campaign_id
  where p.id = 1`;

type JoinedRow = TransactionRow & {
  p_nightly: number | string | boolean;
  c_name: string;
  c_allow: number;
  c_password_hash: string | null;
  c_whitelist_only: number;
  c_unique_ref: number;
  c_created_at: number;
  c_updated_at: number;
};

function splitJoined(row: JoinedRow): { transaction: Transaction; campaign: Campaign } {
  return {
    transaction: transactionFromRow(row),
    campaign: campaignFromRow({
      id: row.campaign_id,
      name: row.c_name,
      allow_external_modification: row.c_allow,
      password_hash: row.c_password_hash,
      whitelist_only: row.c_whitelist_only,
      unique_merchant_reference: row.c_unique_ref,
      created_at: row.c_created_at,
      updated_at: row.c_updated_at,
    }),
  };
}

const transactionsFromRows = (rows: TransactionRow[]) => rows.map(transactionFromRow);

/**
 * The condition matching transactions by action id: a stored action id, or — digits only — the
 * transaction id of a transaction that has no action id of its own (its action id is its id).
 */
function actionIdMatch(actionIds: string[], table = 't'): [string, SqlValue[]] {
  const generated = actionIds.filter(isGeneratedActionId);
  const given = actionIds.filter((actionId) => !isGeneratedActionId(actionId));
  const parts: string[] = [];
  // Digits past the largest id cannot name one; compared as text they would need a cast.
  const ids = generated.filter((actionId) => actionId.length <= 16).map(Number);
  if (given.length > 0) parts.push(`${table}.action_id in (${given.map(() => '?').join(', ')})`);
  if (ids.length > 0) parts.push(`(${table}.id in (${ids.map(() => '?').join(', ')}) and ${table}.action_id is null)`);
  if (parts.length === 0) return ['1 = 0', []];
  return [`(${parts.join(' or ')})`, [...given, ...ids]];
}

/** A transactions row with its campaign's settings (lockWithCampaignStatement). */
type SettingsRow = TransactionRow & {
  c_allow: number;
  c_password_hash: string | null;
  c_whitelist_only: number;
  c_unique_ref: number;
};

const SETTINGS_COLUMNS = [
  ['allow_external_modification', 'c_allow'],
  ['password_hash', 'c_password_hash'],
  ['whitelist_only', 'c_whitelist_only'],
  ['unique_merchant_reference', 'c_unique_ref'],
];
const SETTINGS = SETTINGS_COLUMNS.map(
  ([column, alias]) => `(select ${column} from campaigns c where c.id = t.campaign_id) as ${alias}`,
).join(', ');
const JOINED_SETTINGS = SETTINGS_COLUMNS.map(([column, alias]) => `c.${column} as ${alias}`).join(', ');
/**
 * The row and its campaign's settings. On MySQL/MariaDB the settings come from subqueries: `FOR UPDATE`
 * over a join would lock the campaign's row too, making every edit of a campaign wait on the others. SQLite
 * has no row locks, and there one join costs less than four lookups of the same campaign row.
 */
const LOCK_WITH_SETTINGS = (column: 'id' | 'click_id', forUpdate: string) =>
  forUpdate
    ? `select t.*, ${SETTINGS} from transactions t where t.${column} = ?${forUpdate}`
    : `select t.*, ${JOINED_SETTINGS} from transactions t join campaigns c on c.id = t.campaign_id where t.${column} = ?`;

/** What a lookup found: the nightly flag, and the matching transactions with their campaigns. */
export interface TransactionLookup {
  nightlyInProgress: boolean;
  found: Array<{ transaction: Transaction; campaign: Campaign }>;
}

function lookupOf(rows: JoinedRow[]): TransactionLookup {
  if (!rows[0]) throw new Error('processing_state row 1 is missing: run the migrations');
  return {
    nightlyInProgress: Boolean(Number(rows[0].p_nightly)),
    found: rows.filter((row) => row.id !== null).map(splitJoined),
  };
}

/** Reads and writes transactions. */
export class TransactionStore {
  private readonly sql: SqlRunner;
  /** SQLite has no row locks; its single connection and single writer serialise the whole unit of work. */
  private readonly forUpdate: string;
  private readonly lockWithSettingsById: string;
  private readonly lockWithSettingsByClickId: string;
  private readonly findById: string;
  private readonly findByClickId: string;
  private readonly findByMerchantReference: string;

  /** `sql`: the composition root's statement runner (the hot path's reads go through it). */
  constructor(
    private readonly knex: Knex,
    private readonly engine: Engine,
    sql: SqlRunner,
  ) {
    this.sql = sql;
    this.forUpdate = engine === 'mysql' ? ' for update' : '';
    this.lockWithSettingsById = LOCK_WITH_SETTINGS('id', this.forUpdate);
    this.lockWithSettingsByClickId = LOCK_WITH_SETTINGS('click_id', this.forUpdate);
    this.findById = WITH_CAMPAIGN(engine, 't.id = ?');
    this.findByClickId = WITH_CAMPAIGN(engine, 't.click_id = ?');
    this.findByMerchantReference = `${WITH_CAMPAIGN(engine, 't.campaign_id = ? and t.merchant_reference_id = ?')} order by t.id limit 2`;
  }

  /** Inserts a transaction. */
  async create(sql: Sql, transaction: NewTransaction, now: number): Promise<Transaction> {
    const insert = this.knex('transactions').insert({
      ...(transaction.id ? { id: transaction.id } : {}),
      click_id: transaction.clickId,
      campaign_id: transaction.campaignId,
      affiliate_id: transaction.affiliateId,
      merchant_reference_id: transaction.merchantReferenceId,
      sub_id: transaction.subId,
      affiliate_reference_id: transaction.affiliateReferenceId,
      affiliate_payout: moneyToColumn(transaction.affiliatePayout),
      merchant_revenue: moneyToColumn(transaction.merchantRevenue),
      approved: transaction.approved,
      occurred_at: transaction.occurredAt,
      created_at: now,
      updated_at: now,
      // A generated action id (digits only) is the transaction id itself: nothing stored.
      action_id:
        transaction.actionId === undefined || isGeneratedActionId(transaction.actionId) ? null : transaction.actionId,
      event_type_id: transaction.eventTypeId ?? null,
      state: transaction.state ?? 'PENDING',
      locking_at: transaction.lockingDate ?? null,
      items: itemsToJson(transaction.items ?? null),
      customer_status: transaction.customerStatus ?? null,
      original: originalToJson({
        affiliatePayout: transaction.affiliatePayout,
        merchantRevenue: transaction.merchantRevenue,
        approved: transaction.approved,
        items: transaction.items ?? null,
        customerStatus: transaction.customerStatus ?? null,
      }),
    });
    const { insertId } = await sql.write(insert);
    const created = await this.getByIdIn(sql, transaction.id ?? insertId);
    if (!created) throw new Error('transaction vanished after insert');
    return created;
  }

  /** One transaction by id, or null. */
  async getById(id: number): Promise<Transaction | null> {
    return this.getByIdIn(this.sql.alone, id);
  }

  /** One transaction by id, or null, read inside a unit of work. */
  async getByIdIn(sql: Sql, id: number): Promise<Transaction | null> {
    const [row] = await sql.select<TransactionRow>(this.knex('transactions').where({ id }).first());
    return row ? transactionFromRow(row) : null;
  }

  /** One transaction by click id, or null. */
  async getByClickId(clickId: string): Promise<Transaction | null> {
    const row = await this.knex('transactions').where({ click_id: clickId }).first();
    return row ? transactionFromRow(row) : null;
  }

  /** Transactions of a campaign with a merchant reference id (at most `limit`). */
  async listByMerchantReference(campaignId: number, merchantReferenceId: string, limit = 100): Promise<Transaction[]> {
    return this.listByMerchantReferenceIn(this.sql.alone, campaignId, merchantReferenceId, limit);
  }

  /** The same, read inside a unit of work. */
  async listByMerchantReferenceIn(
    sql: Sql,
    campaignId: number,
    merchantReferenceId: string,
    limit = 100,
  ): Promise<Transaction[]> {
    const rows = await sql.select<TransactionRow>(
      this.knex('transactions')
        .where({ campaign_id: campaignId, merchant_reference_id: merchantReferenceId })
        .orderBy('id')
        .limit(limit),
    );
    return rows.map(transactionFromRow);
  }

  /**
   * The nightly flag and the transactions with their campaigns for many ids or click ids at once (a
   * chunk of a batch file): one statement instead of one per row.
   */
  async findManyWithCampaign(
    where: { ids: number[] } | { clickIds: string[] } | { actionIds: string[] },
  ): Promise<TransactionLookup> {
    if ('actionIds' in where) {
      if (where.actionIds.length === 0) throw new Error('findManyWithCampaign needs at least one identifier');
      const [match, values] = actionIdMatch(where.actionIds);
      return lookupOf(await this.sql.rows<JoinedRow>(WITH_CAMPAIGN(this.engine, match), values, { once: true }));
    }
    const [column, values] = 'ids' in where ? ['t.id', where.ids] : ['t.click_id', where.clickIds];
    if (values.length === 0) throw new Error('findManyWithCampaign needs at least one identifier');
    const rows = await this.sql.rows<JoinedRow>(
      WITH_CAMPAIGN(this.engine, `${column} in (${values.map(() => '?').join(', ')})`),
      values,
      { once: true },
    );
    return lookupOf(rows);
  }

  /**
   * The nightly flag and the newest transaction (latest `occurredAt`, then highest id) with an order id
   * (merchant reference) on an event type: impact's rule for a row naming an action by Oid.
   */
  async findNewestByOrder(merchantReferenceId: string, eventTypeId: number): Promise<TransactionLookup> {
    return lookupOf(
      await this.sql.rows<JoinedRow>(
        `${WITH_CAMPAIGN(this.engine, 't.merchant_reference_id = ? and t.event_type_id = ?')} order by t.occurred_at desc, t.id desc limit 1`,
        [merchantReferenceId, eventTypeId],
      ),
    );
  }

  /** One transaction by its action id, or null. */
  async getByActionId(actionId: string): Promise<Transaction | null> {
    return this.getByActionIdIn(this.sql.alone, actionId);
  }

  /** One transaction by its action id, or null, read inside a unit of work. */
  async getByActionIdIn(sql: Sql, actionId: string): Promise<Transaction | null> {
    const [match, values] = actionIdMatch([actionId], 'transactions');
    const [row] = await sql.rows<TransactionRow>(`select * from transactions where ${match} limit 1`, values, {
      once: true,
    });
    return row ? transactionFromRow(row) : null;
  }

  /** The nightly flag and the transaction with its campaign, found by id, click id, or merchant reference (first two). */
  async findWithCampaign(
    where: { id: number } | { clickId: string } | { campaignId: number; merchantReferenceId: string },
  ): Promise<TransactionLookup> {
    const [sql, bindings] =
      'id' in where
        ? [this.findById, [where.id]]
        : 'clickId' in where
          ? [this.findByClickId, [where.clickId]]
          : [this.findByMerchantReference, [where.campaignId, where.merchantReferenceId]];
    return lookupOf(await this.sql.rows<JoinedRow>(sql, bindings));
  }

  /** Reads the transaction and locks it until the unit of work ends (MySQL/MariaDB: `FOR UPDATE`). */
  async lockById(sql: Sql, id: number): Promise<Transaction | null> {
    const [found] = await sql.all([this.lockStatement([id])]);
    return found[0] ?? null;
  }

  /**
   * A transaction named by id or click id, read under its row lock, with the settings of its campaign as
   * last committed: the first statement of a change that is checked and applied in one unit of work
   * (after the shared lock on the processing state). The settings come from scalar subqueries, which are
   * plain reads — a locking clause does not reach into a subquery on MySQL/MariaDB — so an edit never
   * locks its campaign's row, and the transactions row is read once, in the same statement as its lock.
   */
  lockWithCampaignStatement(
    where: { id: number } | { clickId: string },
  ): Statement<Array<{ transaction: Transaction; campaign: CampaignSettings }>> {
    const byId = 'id' in where;
    return readStatement(
      byId ? this.lockWithSettingsById : this.lockWithSettingsByClickId,
      [byId ? where.id : where.clickId],
      (rows: SettingsRow[]) =>
        rows.map((row) => ({
          transaction: transactionFromRow(row),
          campaign: {
            id: Number(row.campaign_id),
            allowExternalModification: Boolean(row.c_allow),
            passwordHash: row.c_password_hash,
            whitelistOnly: Boolean(row.c_whitelist_only),
            uniqueMerchantReference: Boolean(row.c_unique_ref),
          },
        })),
    );
  }

  /**
   * Reads and locks transactions until the unit of work ends (in primary-key order, as InnoDB takes
   * them; missing ids are absent), as a statement to go with the unit's other first statements.
   */
  lockStatement(ids: number[]): Statement<Transaction[]> {
    if (ids.length === 1)
      return readStatement(`select * from transactions where id = ?${this.forUpdate}`, ids, transactionsFromRows);
    const placeholders = ids.map(() => '?').join(', ');
    return readStatement(
      `select * from transactions where id in (${placeholders}) order by id${this.forUpdate}`,
      ids,
      transactionsFromRows,
      { once: true },
    );
  }

  /**
   * Writes the new values of several transactions with one statement (CASE per column, the same SQL on
   * both engines), as a statement to go with the unit's other writes: the three values, the modification
   * count, and impact's state, items and customer status when any change moved them.
   */
  updateStatement(changes: TransactionUpdate[], now: number): Statement<WriteResult> {
    const moved = (name: keyof ActionValues) => changes.some(({ action }) => action !== undefined && name in action);
    const withAction = moved('state') || moved('items') || moved('customerStatus');
    if (changes.length === 1 && !withAction) {
      const [{ id, values, changes: count }] = changes;
      return writeStatement(
        'update transactions set affiliate_payout = ?, merchant_revenue = ?, approved = ?, ' +
          'modification_count = modification_count + ?, updated_at = ? where id = ?',
        [
          moneyToColumn(values.affiliatePayout),
          moneyToColumn(values.merchantRevenue),
          values.approved ? 1 : 0,
          count,
          now,
          id,
        ],
      );
    }
    const cases = changes.map(() => 'when ? then ?').join(' ');
    const bindings: SqlValue[] = [];
    const columns: string[] = [];
    const column = (
      name: string,
      valueOf: (change: TransactionUpdate) => SqlValue,
      expression = `case id ${cases} end`,
    ) => {
      for (const change of changes) bindings.push(change.id, valueOf(change));
      columns.push(`${name} = ${expression}`);
    };
    column('affiliate_payout', ({ values }) => moneyToColumn(values.affiliatePayout));
    column('merchant_revenue', ({ values }) => moneyToColumn(values.merchantRevenue));
    column('approved', ({ values }) => (values.approved ? 1 : 0));
    column('modification_count', ({ changes: count }) => count, `modification_count + case id ${cases} end`);
    if (withAction) {
      // A column only when some change moved it; a change that did not keeps it (`else`).
      const actionColumn = <K extends keyof ActionValues>(
        key: K,
        name: string,
        valueOf: (value: ActionValues[K]) => SqlValue,
      ) => {
        const movers = changes.filter(({ action }) => action !== undefined && key in action);
        if (movers.length === 0) return;
        for (const { id, action } of movers) bindings.push(id, valueOf(action![key] as ActionValues[K]));
        columns.push(`${name} = case id ${movers.map(() => 'when ? then ?').join(' ')} else ${name} end`);
      };
      actionColumn('state', 'state', (state) => state);
      actionColumn('items', 'items', (items) => itemsToJson(items));
      actionColumn('customerStatus', 'customer_status', (status) => status);
      actionColumn('dispositionCode', 'disposition_code', (code) => code);
    }
    bindings.push(now, ...changes.map(({ id }) => id));
    return writeStatement(
      `update transactions set ${columns.join(', ')}, updated_at = ? where id in (${changes.map(() => '?').join(', ')})`,
      bindings,
      { once: true },
    );
  }
}
