import crypto from 'node:crypto';
import { hashPassword, MAX_PASSWORD_BYTES } from '../auth/password-verifier';
import { normaliseWhitelistAddress } from '../auth/ip-address';
import type { Money } from '../core/money';
import type { TestPostbackResult } from '../postbacks/test-postback';
import type { Affiliate, AffiliateStore } from '../store/affiliate-store';
import type { AfterChange } from '../store/after-change';
import type { Campaign, CampaignStore } from '../store/campaign-store';
import { classifyDatabaseError } from '../store/database-errors';
import { retryingLockConflicts } from '../store/lock-retries';
import type { Modification, ModificationStore } from '../store/modification-store';
import type { ProcessingStateStore } from '../store/processing-state-store';
import { StatisticsStore } from '../store/statistics-store';
import { difference } from '../core/statistics';
import { hourStart } from '../core/hours';
import type { TransactionStore } from '../store/transaction-store';
import type { Transaction } from '../core/transaction';
import {
  ACTION_ID_PATTERN,
  DEFAULT_LOCKING_DAYS,
  isGeneratedActionId,
  lockingDateOf,
  type ActionItem,
  type CustomerStatus,
} from '../core/action';
import type { EventType } from '../core/event-type';
import type { Sql, UnitOfWork } from '../store/unit-of-work';
import type { WhitelistEntry, WhitelistStore } from '../store/whitelist-store';
import { conflict, invalid, notFound } from '../http/admin-errors';

/** Campaign settings an admin sets; `password: null` clears it. */
export interface CampaignInput {
  name?: string;
  allowExternalModification?: boolean;
  password?: string | null;
  whitelistOnly?: boolean;
  uniqueMerchantReference?: boolean;
}

/** A transaction an admin (or a migration from LinkTrust) creates. */
export interface TransactionInput {
  id?: number;
  campaignId: number;
  affiliateId: number;
  clickId?: string;
  merchantReferenceId?: string | null;
  subId?: string | null;
  affiliateReferenceId?: string | null;
  affiliatePayout: Money;
  merchantRevenue: Money;
  approved?: boolean;
  occurredAt?: number;
  /** impact.com's action id (digits only: the transaction id itself); else the id in decimal. */
  actionId?: string;
  eventTypeId?: number | null;
  /** Item lines; the merchant revenue is their sum. */
  items?: ActionItem[] | null;
  customerStatus?: CustomerStatus | null;
}

/** Optional check of a postback URL template (the postback module provides it). */
export type PostbackUrlValidator = (template: string) => { ok: true } | { ok: false; reason: string };

/** Dependencies of the admin service. */
export interface AdminServiceDeps {
  /** Opens the unit of work of each write. */
  units: UnitOfWork;
  affiliates: AffiliateStore;
  campaigns: CampaignStore;
  whitelist: WhitelistStore;
  transactions: TransactionStore;
  modifications: ModificationStore;
  processingState: ProcessingStateStore;
  statistics: StatisticsStore;
  bcryptCost: number;
  validatePostbackUrl: PostbackUrlValidator;
  /** Sends one test postback of a URL template (the postback module's guarded delivery). */
  sendTestPostback?: (template: string, affiliateId: number) => Promise<TestPostbackResult>;
  /** impact.com's event types, which a transaction may name. */
  eventTypes: { getIn(sql: Sql, id: number): Promise<EventType | null> };
  now?: () => number;
}

/** Awaits an insert; a duplicate key means a concurrent create with the same id won the race: a 409. */
async function orConflict<T>(insert: Promise<T>, message: string): Promise<T> {
  try {
    return await insert;
  } catch (error) {
    if (classifyDatabaseError(error) === 'duplicate_key') throw conflict(message);
    throw error;
  }
}

/**
 * The rules behind the admin API, the CLI and the console. Every write is one unit of work run through
 * `retryingLockConflicts`, as the core's are: a deadlock or lock timeout against a roll-up, a nightly run
 * or another admin is retried, and only when it persists does it reach the caller (the API answers 503).
 */
export class AdminService {
  private readonly now: () => number;

  constructor(private readonly deps: AdminServiceDeps) {
    this.now = deps.now ?? Date.now;
  }

  /** Creates an affiliate; `afterChange` (the console's audit row) commits with it or not at all. */
  async createAffiliate(
    input: { id?: number; name: string; postbackUrl?: string | null },
    afterChange?: AfterChange<Affiliate>,
  ): Promise<Affiliate> {
    this.checkPostbackUrl(input.postbackUrl);
    if (input.id && (await this.deps.affiliates.get(input.id))) throw conflict(`affiliate ${input.id} already exists`);
    return orConflict(
      retryingLockConflicts(() =>
        this.deps.units.run(async (sql) => {
          const created = await this.deps.affiliates.createIn(sql, input, this.now());
          await afterChange?.(sql, created);
          return created;
        }),
      ),
      `affiliate ${input.id} already exists`,
    );
  }

  async getAffiliate(id: number): Promise<Affiliate> {
    return (await this.deps.affiliates.get(id)) ?? Promise.reject(notFound(`affiliate ${id}`));
  }

  /**
   * Sends one test postback to the affiliate's URL (sample values) and answers what came back; an
   * affiliate without a postback URL is a 409.
   */
  async testPostback(id: number): Promise<TestPostbackResult> {
    const affiliate = await this.getAffiliate(id);
    if (!affiliate.postbackUrl) throw conflict(`affiliate ${id} has no postback URL`);
    if (!this.deps.sendTestPostback) throw new Error('test postbacks are not wired in');
    return this.deps.sendTestPostback(affiliate.postbackUrl, affiliate.id);
  }

  /** Affiliates by id, a page at a time, optionally matching a name or an exact AFID. */
  async listAffiliates(search: string | null, page: { limit: number; offset?: number }): Promise<Affiliate[]> {
    return this.deps.affiliates.list(search, page);
  }

  /** Changes an affiliate's name or postback URL; `afterChange` commits with the change or not at all. */
  async updateAffiliate(
    id: number,
    changes: { name?: string; postbackUrl?: string | null },
    afterChange?: AfterChange<Affiliate>,
  ): Promise<Affiliate> {
    this.checkPostbackUrl(changes.postbackUrl);
    return retryingLockConflicts(() =>
      this.deps.units.run(async (sql) => {
        const updated = await this.deps.affiliates.updateIn(sql, id, changes, this.now());
        if (!updated) throw notFound(`affiliate ${id}`);
        await afterChange?.(sql, updated);
        return updated;
      }),
    );
  }

  /** Creates a campaign; `afterChange` (the console's audit row) commits with it or not at all. */
  async createCampaign(
    input: CampaignInput & { id?: number; name: string },
    afterChange?: AfterChange<Campaign>,
  ): Promise<Campaign> {
    if (input.id && (await this.deps.campaigns.get(input.id))) throw conflict(`campaign ${input.id} already exists`);
    const passwordHash = await this.passwordHash(input.password);
    const { password: _ignored, ...settings } = input;
    return orConflict(
      retryingLockConflicts(() =>
        this.deps.units.run(async (sql) => {
          const created = await this.deps.campaigns.create(
            sql,
            { ...settings, ...(passwordHash !== undefined ? { passwordHash } : {}) },
            this.now(),
          );
          await afterChange?.(sql, created);
          return created;
        }),
      ),
      `campaign ${input.id} already exists`,
    );
  }

  async getCampaign(id: number): Promise<Campaign> {
    return (await this.deps.campaigns.get(id)) ?? Promise.reject(notFound(`campaign ${id}`));
  }

  /** Campaigns by CID, matching `search` (a name fragment or a CID), among `campaignIds` when given. */
  async listCampaigns(search: string | null, limit = 200, campaignIds?: readonly number[]): Promise<Campaign[]> {
    return this.deps.campaigns.list(search, limit, campaignIds);
  }

  /**
   * Updates settings; turning on unique merchant references while duplicates exist is a conflict.
   * `afterChange` (the console's audit row) commits with the update or not at all.
   */
  async updateCampaign(id: number, input: CampaignInput, afterChange?: AfterChange<Campaign>): Promise<Campaign> {
    const passwordHash = await this.passwordHash(input.password);
    const { password: _ignored, ...settings } = input;
    return retryingLockConflicts(() => this.updateCampaignOnce(id, settings, passwordHash, afterChange));
  }

  private async updateCampaignOnce(
    id: number,
    settings: Omit<CampaignInput, 'password'>,
    passwordHash: string | null | undefined,
    afterChange: AfterChange<Campaign> | undefined,
  ): Promise<Campaign> {
    return this.deps.units.run(async (sql) => {
      const current = await this.deps.campaigns.getForUpdate(sql, id);
      if (!current) throw notFound(`campaign ${id}`);
      if (
        settings.uniqueMerchantReference &&
        !current.uniqueMerchantReference &&
        (await this.deps.campaigns.hasDuplicateMerchantReferences(sql, id))
      ) {
        throw conflict(`campaign ${id} has transactions sharing a merchant reference id; they must be unique first`);
      }
      const changes = { ...settings, ...(passwordHash !== undefined ? { passwordHash } : {}) };
      const updated = await this.deps.campaigns.update(sql, id, changes, this.now());
      if (!updated) throw notFound(`campaign ${id}`);
      await afterChange?.(sql, updated);
      return updated;
    });
  }

  /** Adds a white-list entry; `afterChange` commits with it or not at all. */
  async addWhitelistEntry(
    input: { address: string; campaignId?: number | null; note?: string | null },
    afterChange?: AfterChange<WhitelistEntry>,
  ): Promise<WhitelistEntry> {
    const address = normaliseWhitelistAddress(input.address);
    if (!address) throw invalid(`address "${input.address}" is not an IPv4/IPv6 address or CIDR range`);
    if (input.campaignId != null && !(await this.deps.campaigns.get(input.campaignId)))
      throw invalid(`campaign ${input.campaignId} does not exist`);
    const entry = { address, campaignId: input.campaignId ?? null, note: input.note ?? null };
    return retryingLockConflicts(() =>
      this.deps.units.withAfterChange((sql) => this.deps.whitelist.create(sql, entry, this.now()), afterChange),
    );
  }

  async listWhitelist(campaignId?: number | null): Promise<WhitelistEntry[]> {
    return this.deps.whitelist.list(campaignId === undefined ? {} : { campaignId });
  }

  /**
   * Removes an entry of one campaign's own list (an entry of another campaign, or a global one, is a 404
   * like a missing entry); `afterChange(entry)` commits with the removal or not at all.
   */
  async removeCampaignWhitelistEntry(
    campaignId: number,
    entryId: number,
    afterChange?: (entry: WhitelistEntry) => AfterChange<void>,
  ): Promise<WhitelistEntry> {
    // An entry never moves between lists, so the one listed here is the one removed.
    const entry = (await this.listWhitelist(campaignId)).find((e) => e.id === entryId);
    if (!entry) throw notFound(`whitelist entry ${entryId}`);
    await this.removeWhitelistEntry(entry.id, afterChange?.(entry));
    return entry;
  }

  /** Removes a white-list entry; `afterChange` commits with the removal or not at all. */
  async removeWhitelistEntry(id: number, afterChange?: AfterChange<void>): Promise<void> {
    const remove = async (sql: Sql) => {
      if (!(await this.deps.whitelist.delete(sql, id))) throw notFound(`whitelist entry ${id}`);
    };
    await retryingLockConflicts(() => this.deps.units.withAfterChange(remove, afterChange));
  }

  /**
   * Creates a transaction. On a campaign enforcing unique merchant references the campaign row is locked
   * while checking, so two concurrent inserts cannot both pass. A transaction for an hour already rolled
   * up is added to that hour's statistics in the same database transaction (late data, migrations).
   */
  async createTransaction(input: TransactionInput): Promise<Transaction> {
    const now = this.now();
    try {
      return await retryingLockConflicts(() => this.insertTransaction(input, now));
    } catch (error) {
      if (classifyDatabaseError(error) === 'duplicate_key')
        throw conflict('a transaction with this id or click id already exists');
      throw error;
    }
  }

  private async insertTransaction(input: TransactionInput, now: number): Promise<Transaction> {
    checkActionFields(input);
    return this.deps.units.run(async (sql) => {
      const campaign = await this.deps.campaigns.getForUpdate(sql, input.campaignId);
      if (!campaign) throw invalid(`campaign ${input.campaignId} does not exist`);
      if (!(await this.deps.affiliates.getIn(sql, input.affiliateId)))
        throw invalid(`affiliate ${input.affiliateId} does not exist`);
      if (input.id && (await this.deps.transactions.getByIdIn(sql, input.id)))
        throw conflict(`transaction ${input.id} already exists`);
      if (campaign.uniqueMerchantReference && input.merchantReferenceId) {
        const existing = await this.deps.transactions.listByMerchantReferenceIn(
          sql,
          campaign.id,
          input.merchantReferenceId,
          1,
        );
        if (existing.length > 0)
          throw conflict(
            `merchant reference id "${input.merchantReferenceId}" already exists on campaign ${campaign.id}`,
          );
      }
      let eventType: EventType | null = null;
      if (input.eventTypeId !== undefined && input.eventTypeId !== null) {
        eventType = await this.deps.eventTypes.getIn(sql, input.eventTypeId);
        if (!eventType || eventType.campaignId !== campaign.id)
          throw invalid(`event type ${input.eventTypeId} does not exist on campaign ${campaign.id}`);
      }
      if (input.actionId !== undefined && !isGeneratedActionId(input.actionId)) {
        if (await this.deps.transactions.getByActionIdIn(sql, input.actionId))
          throw conflict(`action id "${input.actionId}" already exists`);
      }
      const occurredAt = input.occurredAt ?? now;
      const state = await this.deps.processingState.readForUpdate(sql);
      const created = await this.deps.transactions.create(
        sql,
        {
          id: input.id,
          clickId: input.clickId ?? crypto.randomUUID().replace(/-/g, ''),
          campaignId: campaign.id,
          affiliateId: input.affiliateId,
          merchantReferenceId: input.merchantReferenceId ?? null,
          subId: input.subId ?? null,
          affiliateReferenceId: input.affiliateReferenceId ?? null,
          affiliatePayout: input.affiliatePayout,
          merchantRevenue: input.merchantRevenue,
          approved: input.approved ?? true,
          occurredAt,
          actionId: input.actionId,
          eventTypeId: eventType?.id ?? null,
          lockingDate: lockingDateOf(occurredAt, eventType?.lockingDays ?? DEFAULT_LOCKING_DAYS),
          items: input.items ?? null,
          customerStatus: input.customerStatus ?? null,
        },
        now,
      );
      if (hourStart(created.occurredAt) < state.rolledUpThrough) {
        await this.deps.statistics.addToHour(
          sql,
          hourStart(created.occurredAt),
          created.campaignId,
          created.affiliateId,
          difference(null, created),
        );
      }
      return created;
    });
  }

  async getTransaction(id: number): Promise<{ transaction: Transaction; modifications: Modification[] }> {
    const transaction = await this.deps.transactions.getById(id);
    if (!transaction) throw notFound(`transaction ${id}`);
    return { transaction, modifications: await this.deps.modifications.listForTransaction(id) };
  }

  async findTransactions(filter: {
    clickId?: string;
    merchantReferenceId?: string;
    campaignId?: number;
    actionId?: string;
  }): Promise<Transaction[]> {
    if (filter.actionId !== undefined) {
      const found = await this.deps.transactions.getByActionId(filter.actionId);
      return found ? [found] : [];
    }
    if (filter.clickId !== undefined) {
      const found = await this.deps.transactions.getByClickId(filter.clickId);
      return found ? [found] : [];
    }
    if (filter.merchantReferenceId !== undefined && filter.campaignId !== undefined) {
      return this.deps.transactions.listByMerchantReference(filter.campaignId, filter.merchantReferenceId);
    }
    throw invalid('give clickId, or merchantReferenceId and campaignId');
  }

  private checkPostbackUrl(url: string | null | undefined): void {
    if (url === undefined || url === null) return;
    const result = this.deps.validatePostbackUrl(url);
    if (!result.ok) throw invalid(result.reason);
  }

  private async passwordHash(password: string | null | undefined): Promise<string | null | undefined> {
    if (password === undefined || password === null) return password;
    if (password.length === 0) throw invalid('password must not be empty');
    if (Buffer.byteLength(password) > MAX_PASSWORD_BYTES)
      throw invalid(`password must be at most ${MAX_PASSWORD_BYTES} bytes (bcrypt ignores the rest)`);
    return hashPassword(password, this.deps.bcryptCost);
  }
}

/**
 * impact.com's fields of a new transaction: a well-formed action id (digits only only as the transaction's
 * own id), item lines with distinct SKUs whose amounts sum to the merchant revenue.
 */
function checkActionFields(input: TransactionInput): void {
  const { actionId, items } = input;
  if (actionId !== undefined) {
    if (!ACTION_ID_PATTERN.test(actionId))
      throw invalid('actionId must be 1–64 characters of A-Z, a-z, 0-9, ".", "_" and "-"');
    if (
      isGeneratedActionId(actionId) &&
      (input.id === undefined || String(input.id) !== actionId.replace(/^0+(?=\d)/, ''))
    )
      throw invalid(
        'an actionId of digits only is the transaction id: give the same value as id, or leave actionId out',
      );
  }
  if (items) {
    if (items.length === 0) throw invalid('items must hold at least one item line, or be left out');
    const skus = new Set(items.map((item: ActionItem) => item.sku));
    if (skus.size !== items.length) throw invalid('items must not repeat a sku');
    const total = items.reduce((sum, item) => sum + item.amount, 0n);
    if (total !== input.merchantRevenue) throw invalid("merchantRevenue must equal the sum of the items' amounts");
  }
}

export type { CustomerStatus };
