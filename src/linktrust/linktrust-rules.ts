import type { PasswordVerifier } from '../auth/password-verifier';
import { clientKeyOf, ipIsListed } from '../auth/ip-address';
import type { CampaignStore } from '../store/campaign-store';
import { hourStart } from '../core/hours';
import type { CampaignSettings, Transaction } from '../core/transaction';
import type { TransactionStore } from '../store/transaction-store';
import type { WhitelistStore } from '../store/whitelist-store';
import type { LockedState } from '../modification/change-writer';
import type { ModificationCommand, TransactionIdentifier } from '../modification/command';
import { FailureBrake, type FailureLimits } from '../modification/failure-brake';
import { clientBusy, type Outcome } from '../modification/outcome';
import type { CheckMode, Located, Lookup, ModificationRules } from '../modification/rules';

/** What LinkTrust's checks read: the lookup, the credentials, the white-list and the brakes. */
export interface LinkTrustRulesDeps {
  transactions: Pick<TransactionStore, 'findWithCampaign'>;
  campaigns: Pick<CampaignStore, 'get'>;
  whitelist: Pick<WhitelistStore, 'addressesFor'>;
  passwords: Pick<
    PasswordVerifier,
    'mayBeKnown' | 'wouldBeBusy' | 'spendCompareTime' | 'isKnown' | 'isVouchedFor' | 'isKnownClientOf' | 'verify'
  >;
  /** Brake on failed attempts from /transaction.edit (not batches, which an admin uploaded). */
  limiter?: FailureLimits | null;
}

/**
 * LinkTrust's checks in its documented order (README, "/transaction.edit"): rate limits (txedit), nightly
 * processing, the transaction, the campaign's opt-in, the credentials (password, white-list), and under
 * the locks the nightly flag and the hour's roll-up again. The rules of `/transaction.edit` and of batch
 * files, which answer like it.
 */
export class LinkTrustRules implements ModificationRules {
  private readonly brake: FailureBrake;
  /** The campaign each checked command concerned, for the refusal counts (gone with the command). */
  private readonly campaigns = new WeakMap<ModificationCommand, number>();

  constructor(private readonly deps: LinkTrustRulesDeps) {
    this.brake = new FailureBrake(deps.limiter ?? null);
  }

  /**
   * A password verified lately (so the pre-checks will not need a bcrypt compare, which must never run
   * under the row lock the one-unit path takes first).
   */
  mayCheckUnderLock(command: ModificationCommand): boolean {
    return this.deps.passwords.mayBeKnown(command.password);
  }

  /** A client over its limit is refused without taking a lock (the usual path answers it). */
  refusalBeforeLocks(command: ModificationCommand): Promise<Outcome | null> | null {
    return command.source === 'api' ? this.brake.refusal(this.brake.ipKeys(clientKeyOf(command.clientIp))) : null;
  }

  /**
   * Everything decided before the change's unit of work, in LinkTrust's order: rate limits, the lookup
   * (nightly flag, identifier), the campaign's opt-in, the credentials. `before-lock`: read without locks,
   * since the password check may take a bcrypt compare, which must not hold a row lock; the decisive
   * checks (nightly flag, hour) are repeated under locks (`refuseLockedUnit`, `refuseLockedChange`).
   *
   * `under-lock` (the one-unit path, under its locks): any refusal only sends the command to the usual path,
   * which answers it. So nothing is counted or spent, no white-list is read and no compare runs (a
   * password the cache does not know reads as unauthorized); the caller checked the client's limit.
   */
  async precheck(
    command: ModificationCommand,
    prefetched: Lookup | undefined,
    mode: CheckMode,
  ): Promise<Located | Outcome> {
    const { deps } = this;
    const underLock = mode === 'under-lock';
    const limited = command.source === 'api';
    // The limits count an IPv6 client by its /64 (`clientKeyOf`).
    const client = limited ? clientKeyOf(command.clientIp) : undefined;
    const ipKeys = client !== undefined ? this.brake.ipKeys(client) : [];
    const ipBlocked = underLock ? null : await this.brake.refusal(ipKeys);
    if (ipBlocked) return ipBlocked;
    // A failing client with its share of compares under way would be refused at its compare: refuse it
    // before the lookup, so that a flood's refusals cost no database work (not counted, like that refusal).
    if (client !== undefined && !underLock && deps.passwords.wouldBeBusy(client, command.password)) return clientBusy();
    const located = await this.locate(command.identifier, prefetched);
    if ('kind' in located) {
      // Unknown ids cost a compare too, so response time does not tell which ids exist.
      if (underLock || located.kind !== 'invalid_transaction') return located;
      if (command.password !== null) await deps.passwords.spendCompareTime(client);
      return this.brake.count(located, ipKeys);
    }
    const { campaign } = located;
    this.campaigns.set(command, campaign.id);
    if (!campaign.allowExternalModification) return { kind: 'campaign_closed' };
    const campaignKeys = limited ? this.brake.campaignKeys(campaign.id) : [];
    // The one-unit path passes only a credential the cache knows, which the campaign brake never refuses.
    const campaignBlocked = underLock ? null : await this.brake.refusal(campaignKeys);
    if (campaignBlocked) {
      // A credential refused for want of a turn was still looked up in the cache: counted against its
      // client, or a braked campaign's cache could be probed for nothing but the wait.
      const refused = await this.underCampaignBrake(campaign, command, client);
      if (refused) return this.brake.count(refused, ipKeys);
    }
    if (!(await this.authorised(campaign, command, underLock))) {
      const refused: Outcome = { kind: 'unauthorized' };
      return underLock ? refused : this.brake.count(refused, [...ipKeys, ...campaignKeys]);
    }
    return located;
  }

  campaignOf(command: ModificationCommand): number | undefined {
    return this.campaigns.get(command);
  }

  async locate(identifier: TransactionIdentifier, prefetched?: Lookup): Promise<Located | Outcome> {
    const { transactions } = this.deps;
    // impact's identifiers never reach LinkTrust's rules (its parser makes none).
    if (identifier.kind === 'action_id' || identifier.kind === 'order') return { kind: 'invalid_transaction' };
    const scope = identifier.campaignIds ?? null;
    const lookup =
      prefetched ??
      (identifier.kind === 'merchant_reference'
        ? await transactions.findWithCampaign({
            campaignId: identifier.campaignId,
            merchantReferenceId: identifier.merchantReferenceId,
          })
        : identifier.kind === 'transaction_id'
          ? await transactions.findWithCampaign({ id: identifier.transactionId })
          : await transactions.findWithCampaign({ clickId: identifier.clickId }));
    // LinkTrust checks nightly processing before it looks at the transaction.
    if (lookup.nightlyInProgress) return { kind: 'nightly_in_progress' };
    // A campaign outside the channel's scope: answered as an unknown transaction, its settings unread.
    if (identifier.kind === 'merchant_reference' && scope !== null && !scope.includes(identifier.campaignId))
      return { kind: 'invalid_transaction' };
    const { found } = lookup;
    if (identifier.kind === 'merchant_reference') {
      if (found.length === 0) {
        // The setting decides, whether or not the reference exists.
        const campaign = await this.deps.campaigns.get(identifier.campaignId);
        return campaign && !campaign.uniqueMerchantReference
          ? { kind: 'invalid_parameter', parameter: 'Merchantreferenceid' }
          : { kind: 'invalid_transaction' };
      }
      // Only campaigns that enforce unique merchant references may be addressed this way (LinkTrust).
      if (!found[0].campaign.uniqueMerchantReference)
        return { kind: 'invalid_parameter', parameter: 'Merchantreferenceid' };
      if (found.length > 1) return { kind: 'invalid_transaction' };
      return found[0];
    }
    if (found.length === 0) return { kind: 'invalid_transaction' };
    if (identifier.campaignId !== null && found[0].campaign.id !== identifier.campaignId)
      return { kind: 'invalid_transaction' };
    if (scope !== null && !scope.includes(found[0].campaign.id)) return { kind: 'invalid_transaction' };
    return found[0];
  }

  /** Nightly processing started since the pre-checks: nothing of the unit is written. */
  refuseLockedUnit(state: LockedState): Outcome | null {
    return state.nightlyInProgress ? { kind: 'nightly_in_progress' } : null;
  }

  /** The transaction's hour is not rolled up yet. */
  refuseLockedChange(state: LockedState, before: Transaction): Outcome | null {
    return hourStart(before.occurredAt) >= state.rolledUpThrough ? { kind: 'hourly_pending' } : null;
  }

  /**
   * A braked campaign (a flood of failures from many addresses) must slow guessing without locking out its
   * merchant: a credential the cache knows or that passed a compare lately (its cache entry expired, or
   * its compare is under way), a client that passed a check of this campaign lately and a white-listed IP
   * go on as usual; any other credential is still checked, a bounded number per minute
   * for the campaign (`FailureBrake.campaignTurn`), and passes when it is right. Null: go on; else the
   * refusal.
   */
  private async underCampaignBrake(
    campaign: CampaignSettings,
    command: ModificationCommand,
    client: string | undefined,
  ): Promise<Outcome | null> {
    const { passwords } = this.deps;
    if (passwords.isKnown(campaign.id, campaign.passwordHash, command.password)) return null;
    // A credential whose cache entry expired while its merchant was idle (or whose compare is under way):
    // its compare runs, but not as one of the strangers' turns.
    if (passwords.isVouchedFor(campaign.id, campaign.passwordHash, command.password)) return null;
    if (passwords.isKnownClientOf(client, campaign.id)) return null;
    if (await this.whitelisted(campaign.id, command.clientIp)) return null;
    return this.brake.campaignTurn(campaign.id);
  }

  private async whitelisted(campaignId: number, clientIp: string): Promise<boolean> {
    return ipIsListed(clientIp, await this.deps.whitelist.addressesFor(campaignId));
  }

  /** `cachedOnly`: true only from the verified-credential cache (no compare; false says nothing). */
  private async authorised(
    campaign: CampaignSettings,
    command: ModificationCommand,
    cachedOnly: boolean,
  ): Promise<boolean> {
    const { passwords } = this.deps;
    // The white-list is read through the pool, which must not be asked for a second connection under a
    // unit of work's locks (SQLite's pool has one): such campaigns take the usual path.
    const client = command.source === 'api' ? clientKeyOf(command.clientIp) : undefined;
    if (cachedOnly)
      return !campaign.whitelistOnly && passwords.isKnown(campaign.id, campaign.passwordHash, command.password, client);
    // Same answer for a bad password and a refused IP, so neither can be probed on its own.
    if (campaign.whitelistOnly && !(await this.whitelisted(campaign.id, command.clientIp))) return false;
    return passwords.verify(campaign.id, campaign.passwordHash, command.password, client);
  }
}
