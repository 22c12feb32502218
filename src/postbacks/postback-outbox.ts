import crypto from 'node:crypto';
import { formatMoney } from '../core/money';
import type { PostbackOutbox } from '../modification/modification-service';
import type { PostbackStore } from '../store/postback-store';
import type { Sql } from '../store/sql';
import type { Transaction } from '../core/transaction';
import { renderPostbackUrl } from './url-template';

/**
 * The core's view of the outbox: reads the affiliate's template and queues a delivery, both inside the
 * change's database transaction, so a delivery exists exactly when the change committed. The URL is
 * rendered now, from the transaction as it is after the change.
 */
export class TransactionalPostbackOutbox implements PostbackOutbox {
  constructor(
    private readonly store: PostbackStore,
    private readonly options: { now?: () => number; onCommitted?: () => void } = {},
  ) {}

  templateFor(sql: Sql, affiliateId: number): Promise<string | null> {
    return this.store.templateFor(sql, affiliateId);
  }

  async enqueue(
    sql: Sql,
    change: { template: string; transaction: Transaction; modificationId: number; reason: string | null },
  ): Promise<void> {
    const { transaction: t } = change;
    const postbackId = crypto.randomUUID();
    const url = renderPostbackUrl(change.template, {
      campaignId: t.campaignId,
      affiliateId: t.affiliateId,
      subId: t.subId,
      clickId: t.clickId,
      transactionId: String(t.id),
      affiliatePayout: formatMoney(t.affiliatePayout),
      merchantRevenue: formatMoney(t.merchantRevenue),
      merchantReferenceId: t.merchantReferenceId,
      affiliateReferenceId: t.affiliateReferenceId,
      approved: t.approved,
      reason: change.reason,
      postbackId,
    });
    await this.store.enqueue(sql, {
      postbackId,
      transactionId: t.id,
      modificationId: change.modificationId,
      affiliateId: t.affiliateId,
      url,
      now: (this.options.now ?? Date.now)(),
    });
    // Wake the in-process worker once the change is durable, instead of waiting for its next poll.
    const { onCommitted } = this.options;
    if (onCommitted) sql.afterCommit(onCommitted);
  }
}
