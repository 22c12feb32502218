import type { TransactionIdentifier } from '../modification/command';
import type { Outcome } from '../modification/outcome';
import type { Located, Lookup, ModificationRules } from '../modification/rules';
import type { LockedState } from '../modification/change-writer';
import type { Transaction } from '../core/transaction';

/**
 * The rules of a change made by hand (an admin in the API or the console): the transaction is found as
 * LinkTrust finds it (nightly processing refuses first), and the processing rules hold under the locks —
 * nightly processing in progress, the hour not rolled up yet — with LinkTrust's own words. Opt-in, password
 * and white-list do not apply: the person is signed in. Each check is LinkTrust's, delegated, so the two
 * front doors cannot drift apart.
 */
export class HandEditRules implements ModificationRules {
  constructor(
    private readonly linkTrust: Pick<ModificationRules, 'locate' | 'refuseLockedUnit' | 'refuseLockedChange'>,
  ) {}

  /** Always the usual path: nothing to gain, and one path to reason about. */
  mayCheckUnderLock(): boolean {
    return false;
  }

  refusalBeforeLocks(): null {
    return null;
  }

  precheck(command: { identifier: TransactionIdentifier }, lookup: Lookup | undefined): Promise<Located | Outcome> {
    return this.linkTrust.locate(command.identifier, lookup);
  }

  locate(identifier: TransactionIdentifier, lookup?: Lookup): Promise<Located | Outcome> {
    return this.linkTrust.locate(identifier, lookup);
  }

  refuseLockedUnit(state: LockedState): Outcome | null {
    return this.linkTrust.refuseLockedUnit(state);
  }

  refuseLockedChange(state: LockedState, before: Transaction): Outcome | null {
    return this.linkTrust.refuseLockedChange(state, before);
  }
}
