import { formatMoney } from '../core/money';
import { visibleState, type ActionItem } from '../core/action';
import type { Affiliate } from '../store/affiliate-store';
import type { Campaign } from '../store/campaign-store';
import type { Modification } from '../store/modification-store';
import type { Transaction, TransactionValues } from '../core/transaction';
import type { WhitelistEntry } from '../store/whitelist-store';

const iso = (ms: number) => new Date(ms).toISOString();

/** An affiliate as JSON. */
export function affiliateJson(a: Affiliate) {
  return {
    id: a.id,
    name: a.name,
    postbackUrl: a.postbackUrl,
    createdAt: iso(a.createdAt),
    updatedAt: iso(a.updatedAt),
  };
}

/** A campaign as JSON: never the password or its hash, only whether one is set. */
export function campaignJson(c: Campaign) {
  return {
    id: c.id,
    name: c.name,
    allowExternalModification: c.allowExternalModification,
    hasPassword: c.passwordHash !== null,
    whitelistOnly: c.whitelistOnly,
    uniqueMerchantReference: c.uniqueMerchantReference,
    merchantId: c.merchantId,
    createdAt: iso(c.createdAt),
    updatedAt: iso(c.updatedAt),
  };
}

/** A whitelist entry as JSON. */
export function whitelistEntryJson(e: WhitelistEntry) {
  return { id: e.id, address: e.address, campaignId: e.campaignId, note: e.note, createdAt: iso(e.createdAt) };
}

/** The three modifiable values as JSON (amounts as decimal strings). */
export function valuesJson(v: TransactionValues) {
  return {
    affiliatePayout: formatMoney(v.affiliatePayout),
    merchantRevenue: formatMoney(v.merchantRevenue),
    approved: v.approved,
  };
}

/** A transaction as JSON. */
export function transactionJson(t: Transaction, now = Date.now()) {
  return {
    id: t.id,
    campaignId: t.campaignId,
    affiliateId: t.affiliateId,
    clickId: t.clickId,
    merchantReferenceId: t.merchantReferenceId,
    subId: t.subId,
    affiliateReferenceId: t.affiliateReferenceId,
    ...valuesJson(t),
    occurredAt: iso(t.occurredAt),
    createdAt: iso(t.createdAt),
    updatedAt: iso(t.updatedAt),
    actionId: t.actionId,
    eventTypeId: t.eventTypeId,
    state: visibleState(t.state, t.lockingDate, now),
    lockingDate: iso(t.lockingDate),
    items: t.items?.map(itemJson) ?? null,
    customerStatus: t.customerStatus,
    modificationCount: t.modificationCount,
  };
}

/** An item line as JSON (its amount as a decimal string). */
export function itemJson(item: ActionItem) {
  return {
    sku: item.sku,
    category: item.category,
    name: item.name,
    quantity: item.quantity,
    amount: formatMoney(item.amount),
  };
}

/** A history row as JSON. */
export function modificationJson(m: Modification) {
  return {
    id: m.id,
    at: iso(m.createdAt),
    identifier: m.identifier,
    source: m.source,
    clientIp: m.clientIp,
    requestId: m.requestId,
    reason: m.reason,
    actor: m.actor,
    postback: m.postback,
    before: valuesJson(m.before),
    after: valuesJson(m.after),
  };
}
