import { z } from 'zod';
import { formatMoney } from '../core/money';
import { visibleState, type ActionItem } from '../core/action';
import { decimalAmount, isoInstant } from '../http/api-schemas';
import type { Affiliate } from '../store/affiliate-store';
import type { Campaign } from '../store/campaign-store';
import type { Modification } from '../store/modification-store';
import type { Transaction, TransactionValues } from '../core/transaction';
import type { WhitelistEntry } from '../store/whitelist-store';

const iso = (ms: number) => new Date(ms).toISOString();

/** An affiliate as the admin API answers it. */
export const affiliateSchema = z
  .object({
    id: z.number().int(),
    name: z.string(),
    postbackUrl: z.string().nullable().meta({ description: 'URL template of the server-side postback' }),
    createdAt: isoInstant,
    updatedAt: isoInstant,
  })
  .meta({ id: 'Affiliate' });

/** An affiliate as JSON. */
export function affiliateJson(a: Affiliate): z.output<typeof affiliateSchema> {
  return {
    id: a.id,
    name: a.name,
    postbackUrl: a.postbackUrl,
    createdAt: iso(a.createdAt),
    updatedAt: iso(a.updatedAt),
  };
}

/** What a test postback came to (the receiver's answer, or why there was none). */
export const testPostbackSchema = z
  .object({
    ok: z.boolean().meta({ description: 'true only for a 2xx answer within the postback timeout' }),
    url: z.string().meta({ description: 'the URL as sent, tokens filled in with sample values' }),
    status: z.number().int().optional().meta({ description: "the receiver's HTTP status" }),
    body: z.string().optional().meta({ description: "the first bytes of the receiver's body" }),
    ms: z.number().int(),
    error: z
      .string()
      .optional()
      .meta({ description: 'why it failed: HTTP status, timeout, connection refused, private address refused' }),
  })
  .meta({ id: 'TestPostbackResult' });

/** A campaign as the admin API answers it: never the password or its hash. */
export const campaignSchema = z
  .object({
    id: z.number().int(),
    name: z.string(),
    allowExternalModification: z.boolean(),
    hasPassword: z.boolean().meta({ description: 'whether a password is set (never the password or its hash)' }),
    whitelistOnly: z.boolean(),
    uniqueMerchantReference: z.boolean(),
    merchantId: z
      .number()
      .int()
      .nullable()
      .meta({ description: 'the merchant (brand) that owns it; null: the network’s own' }),
    createdAt: isoInstant,
    updatedAt: isoInstant,
  })
  .meta({ id: 'Campaign' });

/** A campaign as JSON: never the password or its hash, only whether one is set. */
export function campaignJson(c: Campaign): z.output<typeof campaignSchema> {
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

/** A whitelist entry as the admin API answers it. */
export const whitelistEntrySchema = z
  .object({
    id: z.number().int(),
    address: z.string().meta({ description: 'IPv4/IPv6 address or CIDR' }),
    campaignId: z.number().int().nullable().meta({ description: 'null: a global entry' }),
    note: z.string().nullable(),
    createdAt: isoInstant,
  })
  .meta({ id: 'WhitelistEntry' });

/** A whitelist entry as JSON. */
export function whitelistEntryJson(e: WhitelistEntry): z.output<typeof whitelistEntrySchema> {
  return { id: e.id, address: e.address, campaignId: e.campaignId, note: e.note, createdAt: iso(e.createdAt) };
}

/** The three modifiable values. */
export const valuesSchema = z
  .object({ affiliatePayout: decimalAmount, merchantRevenue: decimalAmount, approved: z.boolean() })
  .meta({ id: 'TransactionValues' });

/** The three modifiable values as JSON (amounts as decimal strings). */
export function valuesJson(v: TransactionValues): z.output<typeof valuesSchema> {
  return {
    affiliatePayout: formatMoney(v.affiliatePayout),
    merchantRevenue: formatMoney(v.merchantRevenue),
    approved: v.approved,
  };
}

/** An item line of an impact.com action. */
export const itemSchema = z
  .object({
    sku: z.string(),
    category: z.string().nullable(),
    name: z.string().nullable(),
    quantity: z.number().int(),
    amount: decimalAmount,
  })
  .meta({ id: 'ActionItem' });

/** A transaction (an impact.com action) as the admin API answers it. */
export const transactionSchema = z
  .object({
    id: z.number().int(),
    campaignId: z.number().int(),
    affiliateId: z.number().int(),
    clickId: z.string(),
    merchantReferenceId: z.string().nullable(),
    subId: z.string().nullable(),
    affiliateReferenceId: z.string().nullable(),
    ...valuesSchema.shape,
    occurredAt: isoInstant,
    createdAt: isoInstant,
    updatedAt: isoInstant,
    actionId: z.string(),
    eventTypeId: z.number().int().nullable(),
    state: z.enum(['PENDING', 'APPROVED', 'REVERSED']),
    lockingDate: isoInstant,
    items: z.array(itemSchema).nullable(),
    customerStatus: z.enum(['NEW', 'EXISTING']).nullable(),
    modificationCount: z.number().int(),
  })
  .meta({ id: 'Transaction' });

/** A transaction as JSON. */
export function transactionJson(t: Transaction, now = Date.now()): z.output<typeof transactionSchema> {
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
export function itemJson(item: ActionItem): z.output<typeof itemSchema> {
  return {
    sku: item.sku,
    category: item.category,
    name: item.name,
    quantity: item.quantity,
    amount: formatMoney(item.amount),
  };
}

/** A history row as the admin API answers it. */
export const modificationSchema = z
  .object({
    id: z.number().int(),
    at: isoInstant,
    identifier: z.enum(['transaction_id', 'click_id', 'merchant_reference', 'action_id', 'order']),
    source: z.enum(['api', 'batch', 'admin', 'merchant', 'impact']),
    clientIp: z.string().nullable(),
    requestId: z.string().nullable(),
    reason: z.string().nullable(),
    actor: z.string().nullable().meta({ description: 'who amended it by hand (source `admin`); null otherwise' }),
    postback: z.enum(['not_requested', 'queued', 'no_postback_url']),
    before: valuesSchema,
    after: valuesSchema,
  })
  .meta({ id: 'Modification' });

/** A history row as JSON. */
export function modificationJson(m: Modification): z.output<typeof modificationSchema> {
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

/** A transaction with its history, oldest change first. */
export const transactionWithHistorySchema = transactionSchema
  .extend({ modifications: z.array(modificationSchema) })
  .meta({ id: 'TransactionWithHistory' });
