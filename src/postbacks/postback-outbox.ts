import crypto from 'node:crypto';
import { formatMoney } from '../core/money';
import type { PostbackOutbox, QueuedChange } from '../modification/modification-service';
import type { PostbackStore } from '../store/postback-store';
import type { Sql } from '../store/sql';
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

  templatesFor(sql: Sql, affiliateIds: number[]): Promise<Map<number, string | null>> {
    return this.store.templatesFor(sql, affiliateIds);
  }

  async enqueueMany(sql: Sql, changes: QueuedChange[], options: { commit?: boolean } = {}): Promise<void> {
    if (changes.length === 0) return;
    const now = (this.options.now ?? Date.now)();
    const deliveries = changes.map(({ transaction: t, template, modificationId, reason }) => {
      const postbackId = crypto.randomUUID();
      const url = renderPostbackUrl(template, {
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
        reason,
        postbackId,
      });
      return { postbackId, transactionId: t.id, modificationId, affiliateId: t.affiliateId, url, now };
    });
    await this.store.enqueueMany(sql, deliveries, options);
    // Wake the in-process worker once the change is durable, instead of waiting for its next poll.
    const { onCommitted } = this.options;
    if (onCommitted) sql.afterCommit(onCommitted);
  }
}
