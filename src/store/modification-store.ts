import type { Knex } from 'knex';
import { Money, moneyFromColumn, moneyToColumn } from '../modification/money';
import type { TransactionValues } from './transaction-store';

/** How the transaction was identified by the request that changed it. */
export type IdentifierKind = 'transaction_id' | 'click_id' | 'merchant_reference';

/** Where the change came from. */
export type ModificationSource = 'api' | 'batch' | 'admin';

/** What became of the postback for this change. */
export type PostbackDisposition = 'not_requested' | 'queued' | 'no_postback_url';

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
}

/** A history row to append. */
export type NewModification = Omit<Modification, 'id'>;

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
  };
}

/** The modification history: appended inside the change's own database transaction, never updated. */
export class ModificationStore {
  constructor(private readonly knex: Knex) {}

  /** Appends one history row; returns its id. */
  async append(trx: Knex.Transaction, modification: NewModification): Promise<number> {
    const [id] = await trx('modifications').insert({
      transaction_id: modification.transactionId,
      identifier: modification.identifier,
      source: modification.source,
      before_affiliate_payout: moneyToColumn(modification.before.affiliatePayout),
      before_merchant_revenue: moneyToColumn(modification.before.merchantRevenue),
      before_approved: modification.before.approved,
      after_affiliate_payout: moneyToColumn(modification.after.affiliatePayout),
      after_merchant_revenue: moneyToColumn(modification.after.merchantRevenue),
      after_approved: modification.after.approved,
      reason: modification.reason,
      client_ip: modification.clientIp,
      request_id: modification.requestId,
      postback: modification.postback,
      created_at: modification.createdAt,
    });
    return Number(id);
  }

  /** A transaction's history, oldest first. */
  async listForTransaction(transactionId: number): Promise<Modification[]> {
    const rows = await this.knex('modifications').where({ transaction_id: transactionId }).orderBy('id');
    return rows.map(modificationFromRow);
  }
}
