import type { PasswordVerifier } from '../../../src/auth/password-verifier';
import type { Campaign, CampaignStore } from '../../../src/store/campaign-store';
import type { Transaction } from '../../../src/core/transaction';
import type { TransactionLookup, TransactionStore } from '../../../src/store/transaction-store';
import type { WhitelistStore } from '../../../src/store/whitelist-store';

/**
 * In-memory fakes of what the core's rules read, built from the same interfaces the stores and the
 * password verifier implement: fast unit tests of the rules, beside the integration tests on real
 * databases. Each fake records what it was asked, so a test can say what a check cost.
 */

/** The transactions and campaigns, as `TransactionStore.findWithCampaign` and `CampaignStore.get` read them. */
export class FakeCatalogue implements Pick<TransactionStore, 'findWithCampaign'>, Pick<CampaignStore, 'get'> {
  nightlyInProgress = false;
  readonly campaigns = new Map<number, Campaign>();
  readonly transactions: Transaction[] = [];
  lookups = 0;

  campaign(id: number, settings: Partial<Campaign> = {}): Campaign {
    const campaign: Campaign = {
      id,
      name: `campaign ${id}`,
      allowExternalModification: true,
      passwordHash: `hash-${id}`,
      whitelistOnly: false,
      uniqueMerchantReference: false,
      createdAt: 0,
      updatedAt: 0,
      merchantId: null,
      ...settings,
    };
    this.campaigns.set(id, campaign);
    return campaign;
  }

  transaction(id: number, campaignId: number, values: Partial<Transaction> = {}): Transaction {
    const transaction: Transaction = {
      id,
      clickId: `click-${id}`,
      campaignId,
      affiliateId: 1,
      merchantReferenceId: null,
      subId: null,
      affiliateReferenceId: null,
      affiliatePayout: 1000n,
      merchantRevenue: 10000n,
      approved: true,
      occurredAt: 0,
      createdAt: 0,
      updatedAt: 0,
      actionId: String(id),
      eventTypeId: null,
      state: 'PENDING',
      lockingDate: 30 * 86_400_000,
      items: null,
      customerStatus: null,
      modificationCount: 0,
      original: null,
      ...values,
    };
    this.transactions.push(transaction);
    return transaction;
  }

  async findWithCampaign(
    where: { id: number } | { clickId: string } | { campaignId: number; merchantReferenceId: string },
  ): Promise<TransactionLookup> {
    this.lookups++;
    const matches = this.transactions.filter((transaction) =>
      'id' in where
        ? transaction.id === where.id
        : 'clickId' in where
          ? transaction.clickId === where.clickId
          : transaction.campaignId === where.campaignId &&
            transaction.merchantReferenceId === where.merchantReferenceId,
    );
    return {
      nightlyInProgress: this.nightlyInProgress,
      found: matches.map((transaction) => ({ transaction, campaign: this.campaigns.get(transaction.campaignId)! })),
    };
  }

  async get(id: number): Promise<Campaign | null> {
    return this.campaigns.get(id) ?? null;
  }
}

/** The white-list, as `WhitelistStore.addressesFor` reads it. */
export class FakeWhitelist implements Pick<WhitelistStore, 'addressesFor'> {
  readonly addresses = new Map<number, string[]>();
  reads = 0;

  async addressesFor(campaignId: number): Promise<string[]> {
    this.reads++;
    return this.addresses.get(campaignId) ?? [];
  }
}

type RulesPasswords = Pick<
  PasswordVerifier,
  'mayBeKnown' | 'wouldBeBusy' | 'spendCompareTime' | 'isKnown' | 'isKnownClientOf' | 'verify'
>;

/**
 * Passwords: `right` is each campaign's password (its hash is `hash-<id>`); `cached` the credentials the
 * verified-credential cache knows. Counts the compares run and the compare time spent on unknown ids.
 */
export class FakePasswords implements RulesPasswords {
  readonly right = new Map<number, string>();
  readonly cached = new Set<string>();
  busyClients = new Set<string>();
  compares = 0;
  spent = 0;

  mayBeKnown(password: string | null): boolean {
    return password !== null && [...this.cached].some((entry) => entry.endsWith(`:${password}`));
  }

  wouldBeBusy(client: string | undefined): boolean {
    return client !== undefined && this.busyClients.has(client);
  }

  async spendCompareTime(): Promise<void> {
    this.spent++;
  }

  isKnown(campaignId: number, _hash: string | null, password: string | null): boolean {
    return this.cached.has(`${campaignId}:${password}`);
  }

  /** Credentials that passed a compare lately (their cache entry gone): set by a test. */
  readonly vouched = new Set<string>();

  isVouchedFor(campaignId: number, _hash: string | null, password: string | null): boolean {
    return this.vouched.has(`${campaignId}:${password}`);
  }

  isKnownClientOf(): boolean {
    return false;
  }

  async verify(campaignId: number, _hash: string | null, password: string | null): Promise<boolean> {
    this.compares++;
    return password !== null && this.right.get(campaignId) === password;
  }
}
