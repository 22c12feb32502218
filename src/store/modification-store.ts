import type { Knex } from 'knex';
import { Money, moneyFromColumn, moneyToColumn } from '../core/money';
import type { Sql, SqlValue, Statement } from './sql';
import type { TransactionValues } from '../core/transaction';
import type { IdentifierKind, ModificationSource, PostbackDisposition } from '../core/modification-kinds';

/** One append-only history row. */
export interface Modification {
  id: number;
  transactionId: number;
  identifier: IdentifierKind;
  source: ModificationSource;
  before: TransactionValues;
  after: TransactionValues;
  reason: string | null;
  clientIp: string | null;
  requestId: string | null;
  postback: PostbackDisposition;
  createdAt: number;
  /** Who made the change by hand (source `admin`); null otherwise. */
  actor: string | null;
}

/** A history row to append (`actor` absent: none). */
export type NewModification = Omit<Modification, 'id' | 'actor'> & { actor?: string | null };

interface ModificationRow {
  id: number | string;
  transaction_id: number | string;
  identifier: IdentifierKind;
  source: ModificationSource;
  before_affiliate_payout: number | string;
  before_merchant_revenue: number | string;
  before_approved: number | boolean;
  after_affiliate_payout: number | string;
  after_merchant_revenue: number | string;
  after_approved: number | boolean;
  reason: string | null;
  client_ip: string | null;
  request_id: string | null;
  postback: PostbackDisposition;
  created_at: number | string;
  actor?: string | null;
}

const values = (payout: number | string, revenue: number | string, approved: number | boolean): TransactionValues => ({
  affiliatePayout: moneyFromColumn(payout) as Money,
  merchantRevenue: moneyFromColumn(revenue),
  approved: Boolean(approved),
});

function modificationFromRow(row: ModificationRow): Modification {
  return {
    id: Number(row.id),
    transactionId: Number(row.transaction_id),
    identifier: row.identifier,
    source: row.source,
    before: values(row.before_affiliate_payout, row.before_merchant_revenue, row.before_approved),
    after: values(row.after_affiliate_payout, row.after_merchant_revenue, row.after_approved),
    reason: row.reason,
    clientIp: row.client_ip,
    requestId: row.request_id,
    postback: row.postback,
    createdAt: Number(row.created_at),
    actor: row.actor ?? null,
  };
}

const HISTORY_COLUMNS = [
  'transaction_id',
  'identifier',
  'source',
  'before_affiliate_payout',
  'before_merchant_revenue',
  'before_approved',
  'after_affiliate_payout',
  'after_merchant_revenue',
  'after_approved',
  'reason',
  'client_ip',
  'request_id',
  'postback',
  'created_at',
  'actor',
];
const APPEND = `insert into modifications (${HISTORY_COLUMNS.join(', ')}) values (${HISTORY_COLUMNS.map(() => '?').join(', ')})`;

/** A history row's values, in HISTORY_COLUMNS order. */
function historyValues(modification: NewModification): SqlValue[] {
  return [
    modification.transactionId,
    modification.identifier,
    modification.source,
    moneyToColumn(modification.before.affiliatePayout),
    moneyToColumn(modification.before.merchantRevenue),
    modification.before.approved ? 1 : 0,
    moneyToColumn(modification.after.affiliatePayout),
    moneyToColumn(modification.after.merchantRevenue),
    modification.after.approved ? 1 : 0,
    modification.reason,
    modification.clientIp,
    modification.requestId,
    modification.postback,
    modification.createdAt,
    modification.actor ?? null,
  ];
}

/** The modification history: appended inside the change's own database transaction, never updated. */
export class ModificationStore {
  constructor(private readonly knex: Knex) {}

  /** The rows a multi-row insert just wrote on MySQL, whose insert id is the first one's: every new id is ≥ it. */
  private readBack(
    sql: Sql,
    modifications: NewModification[],
    smallest: number,
  ): Promise<Array<{ id: number | string; request_id: string }>> {
    const transactionIds = [...new Set(modifications.map((modification) => modification.transactionId))];
    return sql.rows(
      `select id, request_id from modifications where transaction_id in (${transactionIds.map(() => '?').join(', ')}) and id >= ?`,
      [...transactionIds, smallest],
      { once: true },
    );
  }

  /** Appends one history row, as a statement to go with the unit's other writes, read as the new row's id. */
  appendStatement(modification: NewModification): Statement<number> {
    return { sql: APPEND, values: historyValues(modification), read: ({ insertId }) => insertId };
  }

  /**
   * Appends history rows with one statement; returns their ids in order. The ids are read back by request
   * id: with InnoDB's interleaved auto-increment (MySQL 8's default) a multi-row insert's ids need not
   * be consecutive. Every row needs a request id unique among them.
   */
  async appendMany(sql: Sql, modifications: NewModification[]): Promise<number[]> {
    if (modifications.length === 0) return [];
    const requestIds = modifications.map((modification) => {
      if (!modification.requestId) throw new Error('appendMany needs a request id on every history row');
      return modification.requestId;
    });
    if (new Set(requestIds).size !== requestIds.length)
      throw new Error('appendMany needs request ids unique among its history rows');
    const rows = `(${HISTORY_COLUMNS.map(() => '?').join(', ')})`;
    const insert = `insert into modifications (${HISTORY_COLUMNS.join(', ')}) values ${modifications.map(() => rows).join(', ')}`;
    const values = modifications.flatMap(historyValues);
    // SQLite (3.35+) answers the new rows itself; MySQL 8 has no RETURNING, so they are read back.
    const found =
      sql.engine === 'sqlite'
        ? await sql.rows<{ id: number; request_id: string }>(`${insert} returning id, request_id`, values, {
            once: true,
          })
        : await this.readBack(sql, modifications, (await sql.run(insert, values, { once: true })).insertId);
    const idOf = new Map(found.map((row) => [row.request_id, Number(row.id)]));
    return requestIds.map((requestId) => {
      const id = idOf.get(requestId);
      if (id === undefined) throw new Error(`history row of request ${requestId} not found after insert`);
      return id;
    });
  }

  /** A transaction's history, oldest first. */
  async listForTransaction(transactionId: number): Promise<Modification[]> {
    const rows = await this.knex('modifications').where({ transaction_id: transactionId }).orderBy('id');
    return rows.map(modificationFromRow);
  }
}
