import { MemoryFailureLimiter } from '../../src/auth/failure-limiter';
import { LinkTrustRules } from '../../src/linktrust/linktrust-rules';
import type { ModificationCommand, TransactionIdentifier } from '../../src/modification/command';
import type { CheckMode } from '../../src/modification/rules';
import { FakeCatalogue, FakePasswords, FakeWhitelist } from '../support/fakes/modification-fakes';

const HOUR = 3_600_000;

/**
 * LinkTrust's checks on in-memory fakes (no database): each refusal in the README's order, and what the
 * explicit check mode changes. The same rules run on real databases in the /transaction.edit suites.
 */
describe('LinkTrustRules', () => {
  function scene(limits?: { ipFailures: number; campaignFailures: number }) {
    const catalogue = new FakeCatalogue();
    const whitelist = new FakeWhitelist();
    const passwords = new FakePasswords();
    const limiter = new MemoryFailureLimiter(60_000);
    const rules = new LinkTrustRules({
      transactions: catalogue,
      campaigns: catalogue,
      whitelist,
      passwords,
      limiter: limits ? { limiter, ...limits } : null,
    });
    const campaign = catalogue.campaign(7);
    passwords.right.set(7, 'secret');
    const transaction = catalogue.transaction(101, 7);
    return { catalogue, whitelist, passwords, rules, campaign, transaction };
  }

  function command(
    identifier: TransactionIdentifier,
    password: string | null,
    more: Partial<ModificationCommand> = {},
  ): ModificationCommand {
    return {
      identifier,
      changes: {},
      password,
      reason: null,
      executeAffiliatePixel: false,
      clientIp: '192.0.2.1',
      requestId: 'r',
      source: 'api',
      ...more,
    };
  }
  const byId = (transactionId: number, campaignId: number | null = null): TransactionIdentifier => ({
    kind: 'transaction_id',
    transactionId,
    campaignId,
  });

  it('refuses in the documented order: nightly processing, the transaction, the opt-in, the credentials', async () => {
    const { catalogue, rules, campaign, transaction } = scene();
    const wrong = command(byId(transaction.id), 'wrong');
    campaign.allowExternalModification = false;
    catalogue.nightlyInProgress = true;
    expect(await rules.precheck(wrong, undefined, 'before-lock')).toEqual({ kind: 'nightly_in_progress' });
    catalogue.nightlyInProgress = false;
    expect(await rules.precheck(command(byId(999), 'wrong'), undefined, 'before-lock')).toEqual({
      kind: 'invalid_transaction',
    });
    expect(await rules.precheck(command(byId(transaction.id, 8), 'wrong'), undefined, 'before-lock')).toEqual({
      kind: 'invalid_transaction',
    });
    expect(await rules.precheck(wrong, undefined, 'before-lock')).toEqual({ kind: 'campaign_closed' });
    campaign.allowExternalModification = true;
    expect(await rules.precheck(wrong, undefined, 'before-lock')).toEqual({ kind: 'unauthorized' });
    expect(await rules.precheck(command(byId(transaction.id), null), undefined, 'before-lock')).toEqual({
      kind: 'unauthorized',
    });
    expect(await rules.precheck(command(byId(transaction.id), 'secret'), undefined, 'before-lock')).toEqual({
      transaction,
      campaign,
    });
  });

  it('refuses an IP off the white-list of a whitelist-only campaign like a wrong password, and lets a listed one pass', async () => {
    const { whitelist, rules, campaign, transaction } = scene();
    campaign.whitelistOnly = true;
    expect(await rules.precheck(command(byId(transaction.id), 'secret'), undefined, 'before-lock')).toEqual({
      kind: 'unauthorized',
    });
    whitelist.addresses.set(campaign.id, ['192.0.2.0/24']);
    expect(await rules.precheck(command(byId(transaction.id), 'secret'), undefined, 'before-lock')).toEqual({
      transaction,
      campaign,
    });
  });

  it('reads merchant references only on campaigns that enforce unique ones', async () => {
    const { catalogue, rules, campaign } = scene();
    catalogue.transaction(102, campaign.id, { merchantReferenceId: 'm-1' });
    const byReference = (campaignId: number): TransactionIdentifier => ({
      kind: 'merchant_reference',
      merchantReferenceId: 'm-1',
      campaignId,
    });
    expect(await rules.precheck(command(byReference(campaign.id), 'secret'), undefined, 'before-lock')).toEqual({
      kind: 'invalid_parameter',
      parameter: 'Merchantreferenceid',
    });
    expect(await rules.precheck(command(byReference(99), 'secret'), undefined, 'before-lock')).toEqual({
      kind: 'invalid_transaction',
    });
    campaign.uniqueMerchantReference = true;
    expect(await rules.precheck(command(byReference(campaign.id), 'secret'), undefined, 'before-lock')).toMatchObject({
      transaction: { id: 102 },
    });
  });

  it("finds nothing outside a channel's campaigns (a merchant's batch): answered as a missing transaction", async () => {
    const { catalogue, rules, campaign, transaction } = scene();
    catalogue.transaction(102, campaign.id, { merchantReferenceId: 'm-1', clickId: 'click-102' });
    campaign.uniqueMerchantReference = true;
    const missing = { kind: 'invalid_transaction' };
    const scoped = (campaignIds: number[]): TransactionIdentifier[] => [
      { kind: 'transaction_id', transactionId: transaction.id, campaignId: null, campaignIds },
      { kind: 'click_id', clickId: 'click-102', campaignId: null, campaignIds },
      { kind: 'merchant_reference', merchantReferenceId: 'm-1', campaignId: campaign.id, campaignIds },
    ];
    for (const identifier of scoped([8, 9]))
      expect(await rules.precheck(command(identifier, 'secret'), undefined, 'before-lock')).toEqual(missing);
    // Even a campaign not enforcing unique references answers as missing, not with its setting.
    campaign.uniqueMerchantReference = false;
    expect(await rules.locate(scoped([])[2])).toEqual(missing);
    campaign.uniqueMerchantReference = true;
    for (const identifier of scoped([8, campaign.id]))
      expect(await rules.precheck(command(identifier, 'secret'), undefined, 'before-lock')).toMatchObject({ campaign });
  });

  it('spends compare time on an unknown transaction, as a wrong password would, and counts the failure', async () => {
    const { passwords, rules } = scene({ ipFailures: 2, campaignFailures: 100 });
    expect(await rules.precheck(command(byId(999), 'guess'), undefined, 'before-lock')).toEqual({
      kind: 'invalid_transaction',
    });
    expect(passwords.spent).toBe(1);
    expect(passwords.compares).toBe(0);
    expect(await rules.precheck(command(byId(999), 'guess'), undefined, 'before-lock')).toEqual({
      kind: 'invalid_transaction',
    });
    // Two failures: the client's limit; the third is refused before any lookup.
    expect(await rules.precheck(command(byId(999), 'guess'), undefined, 'before-lock')).toMatchObject({
      kind: 'temporary_failure',
      failureType: 'rate limited',
    });
  });

  it('refuses a client over its limit before nightly processing and before any lookup', async () => {
    const { catalogue, rules, transaction } = scene({ ipFailures: 1, campaignFailures: 100 });
    expect(await rules.precheck(command(byId(transaction.id), 'wrong'), undefined, 'before-lock')).toEqual({
      kind: 'unauthorized',
    });
    catalogue.nightlyInProgress = true;
    const lookups = catalogue.lookups;
    expect(await rules.precheck(command(byId(transaction.id), 'secret'), undefined, 'before-lock')).toMatchObject({
      kind: 'temporary_failure',
      failureType: 'rate limited',
    });
    expect(catalogue.lookups).toBe(lookups);
    // Batch rows (an admin's upload) are not braked.
    expect(
      await rules.precheck(command(byId(transaction.id), 'secret', { source: 'batch' }), undefined, 'before-lock'),
    ).toEqual({ kind: 'nightly_in_progress' });
  });

  it('refuses a failing client with its compares under way before the lookup, without counting it', async () => {
    const { catalogue, passwords, rules, transaction } = scene({ ipFailures: 1, campaignFailures: 100 });
    passwords.busyClients.add('192.0.2.1');
    expect(await rules.precheck(command(byId(transaction.id), 'wrong'), undefined, 'before-lock')).toEqual({
      kind: 'temporary_failure',
      failureType: 'rate limited',
      retryAfterSeconds: 1,
    });
    expect(catalogue.lookups).toBe(0);
    passwords.busyClients.clear();
    expect(await rules.precheck(command(byId(transaction.id), 'secret'), undefined, 'before-lock')).toMatchObject({
      transaction: { id: transaction.id },
    });
  });

  describe('the check mode', () => {
    const modes: CheckMode[] = ['before-lock', 'under-lock'];

    it.each(modes)(
      '%s: a credential the cache knows passes; only before-lock asks the verifier (which may compare)',
      async (mode) => {
        const { passwords, rules, campaign, transaction } = scene();
        passwords.cached.add(`${campaign.id}:secret`);
        expect(rules.mayCheckUnderLock(command(byId(transaction.id), 'secret'))).toBe(true);
        expect(await rules.precheck(command(byId(transaction.id), 'secret'), undefined, mode)).toEqual({
          transaction,
          campaign,
        });
        expect(passwords.compares).toBe(mode === 'under-lock' ? 0 : 1);
      },
    );

    it('under-lock: a refusal runs no compare, spends nothing, reads no white-list and counts nothing', async () => {
      const { whitelist, passwords, rules, campaign, transaction } = scene({ ipFailures: 1, campaignFailures: 1 });
      expect(rules.mayCheckUnderLock(command(byId(transaction.id), 'secret'))).toBe(false);
      // The right password, not cached: under the lock it reads as unauthorized (the usual path will compare).
      expect(await rules.precheck(command(byId(transaction.id), 'secret'), undefined, 'under-lock')).toEqual({
        kind: 'unauthorized',
      });
      expect(await rules.precheck(command(byId(999), 'guess'), undefined, 'under-lock')).toEqual({
        kind: 'invalid_transaction',
      });
      campaign.whitelistOnly = true;
      passwords.cached.add(`${campaign.id}:secret`);
      expect(await rules.precheck(command(byId(transaction.id), 'secret'), undefined, 'under-lock')).toEqual({
        kind: 'unauthorized',
      });
      expect({ compares: passwords.compares, spent: passwords.spent, whitelistReads: whitelist.reads }).toEqual({
        compares: 0,
        spent: 0,
        whitelistReads: 0,
      });
      // Nothing was counted: the client's limit of one failure is untouched.
      expect(await rules.refusalBeforeLocks(command(byId(transaction.id), 'secret'))).toBeNull();
      campaign.whitelistOnly = false;
      expect(await rules.precheck(command(byId(transaction.id), 'wrong'), undefined, 'before-lock')).toEqual({
        kind: 'unauthorized',
      });
      expect(await rules.refusalBeforeLocks(command(byId(transaction.id), 'secret'))).toMatchObject({
        kind: 'temporary_failure',
        failureType: 'rate limited',
      });
    });

    it('under-lock: reads the one-unit path lookup instead of looking up, and leaves the brakes to refusalBeforeLocks', async () => {
      const { catalogue, passwords, rules, campaign, transaction } = scene({ ipFailures: 1, campaignFailures: 100 });
      passwords.cached.add(`${campaign.id}:secret`);
      expect(await rules.precheck(command(byId(transaction.id), 'wrong'), undefined, 'before-lock')).toEqual({
        kind: 'unauthorized',
      });
      const lookups = catalogue.lookups;
      const locked = { nightlyInProgress: false, found: [{ transaction, campaign }] };
      expect(await rules.precheck(command(byId(transaction.id), 'secret'), locked, 'under-lock')).toEqual({
        transaction,
        campaign,
      });
      expect(
        await rules.precheck(
          command(byId(transaction.id), 'secret'),
          { ...locked, nightlyInProgress: true },
          'under-lock',
        ),
      ).toEqual({ kind: 'nightly_in_progress' });
      expect(catalogue.lookups).toBe(lookups);
      expect(rules.refusalBeforeLocks(command(byId(transaction.id), 'secret', { source: 'batch' }))).toBeNull();
    });
  });

  it('refuses under the locks what changed since the pre-checks: nightly processing for the unit, an hour not rolled up per change', () => {
    const { rules, transaction } = scene();
    expect(rules.refuseLockedUnit({ nightlyInProgress: true, rolledUpThrough: HOUR })).toEqual({
      kind: 'nightly_in_progress',
    });
    expect(rules.refuseLockedUnit({ nightlyInProgress: false, rolledUpThrough: HOUR })).toBeNull();
    const late = { ...transaction, occurredAt: HOUR + 5 };
    expect(rules.refuseLockedChange({ nightlyInProgress: false, rolledUpThrough: HOUR }, late)).toEqual({
      kind: 'hourly_pending',
    });
    expect(rules.refuseLockedChange({ nightlyInProgress: false, rolledUpThrough: 2 * HOUR }, late)).toBeNull();
  });
});
