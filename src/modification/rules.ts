import type { CampaignSettings, Transaction } from '../core/transaction';
import type { ModificationCommand, TransactionIdentifier } from './command';
import type { Outcome } from './outcome';
import type { LockedState } from './change-writer';

/** A transaction an identifier named, with its campaign's settings. */
export type Located = { transaction: Transaction; campaign: CampaignSettings };

/** The nightly flag and the transactions an identifier matched (a TransactionLookup, or the one-unit path's read). */
export type Lookup = { nightlyInProgress: boolean; found: Located[] };

/**
 * Where the pre-checks run. `before-lock`: without locks, ahead of the unit of work — every refusal is the
 * answer (counted against the brakes, a compare spent where one is due). `under-lock`: inside the one-unit
 * path's unit of work, on what its locks read — a refusal only sends the command to the usual path, which
 * answers it; so nothing may be counted or spent, nothing read through the pool and no compare run.
 */
export type CheckMode = 'before-lock' | 'under-lock';

/**
 * The checks of a front door, in its own order: what the core asks before it writes and, under the
 * locks, again. LinkTrust's are `LinkTrustRules`; another front door brings its own and shares the rest
 * of the core (the lock, history, statistics, outbox, retries and recovery).
 */
export interface ModificationRules {
  /**
   * Whether the one-unit path may be tried for `command` (identifier and caller's options aside, which
   * the core checks): the `under-lock` pre-checks could pass without work that must not run under a lock.
   */
  mayCheckUnderLock(command: ModificationCommand): boolean;
  /** A refusal due before the one-unit path takes any lock, or null when there is nothing to ask (no await). */
  refusalBeforeLocks(command: ModificationCommand): Promise<Outcome | null> | null;
  /** Everything decided before the writes: the located transaction when the command may go on, else the refusal. */
  precheck(command: ModificationCommand, lookup: Lookup | undefined, mode: CheckMode): Promise<Located | Outcome>;
  /**
   * The campaign a checked command turned out to concern (its transaction's), refused or not; undefined
   * when the checks did not get that far. For support's refusal counts: never part of an answer.
   */
  campaignOf?(command: ModificationCommand): number | undefined;
  /** The transaction an identifier names, as these rules read it (looked up unless `lookup` is given). */
  locate(identifier: TransactionIdentifier, lookup?: Lookup): Promise<Located | Outcome>;
  /** Under the locks, before any change of the unit: a refusal of every change (the unit writes nothing), or null. */
  refuseLockedUnit(state: LockedState): Outcome | null;
  /** Under the locks, for one change of the transaction as locked: its refusal, or null. */
  refuseLockedChange(state: LockedState, before: Transaction): Outcome | null;
  /**
   * Under the locks, after `refuseLockedChange` passed: the transaction as `command` leaves it (with what
   * the change was, in the front door's words), or its refusal. Absent, the command's requested values
   * replace the transaction's (LinkTrust). impact's rules decide here, on the action as earlier rows of the
   * same unit left it, because its refusals (locked, reversed, no change…) depend on those values.
   */
  changeUnderLock?(before: Transaction, command: ModificationCommand, now: number): LockedChange | Outcome;
}

/** What `changeUnderLock` makes of a change: the new transaction and the front door's name for the change. */
export interface LockedChange {
  transaction: Transaction;
  result: string;
}
