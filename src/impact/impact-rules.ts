import { MAX_MODIFICATIONS_PER_ACTION, type ActionItem, type ActionRowChange } from '../core/action';
import { dispositionOf, payoutFor, type DispositionEffect, type EventType } from '../core/event-type';
import { hourStart } from '../core/hours';
import type { Money } from '../core/money';
import type { Transaction } from '../core/transaction';
import type { LockedState } from '../modification/change-writer';
import type { ModificationCommand, TransactionIdentifier } from '../modification/command';
import type { Outcome } from '../modification/outcome';
import type { CheckMode, Located, LockedChange, Lookup, ModificationRules } from '../modification/rules';
import type { TransactionLookup } from '../store/transaction-store';
import { impactRefusal, type ImpactResult } from './impact-codes';
import { ACTION_TRACKER_ID_INVALID } from './result-codes';

/** What impact's checks read: the actions and their event types. */
export interface ImpactRulesDeps {
  transactions: {
    findManyWithCampaign(where: { actionIds: string[] }): Promise<TransactionLookup>;
    findNewestByOrder(merchantReferenceId: string, eventTypeId: number): Promise<TransactionLookup>;
  };
  eventTypes: { get(id: number): Promise<EventType | null> };
}

/** The reasons a mobile action's row may give. */
const MOBILE_REASONS = new Set(['ORDER_UPDATE', 'REJECTED']);

/** What the pre-checks decided of a row, for the checks under the lock. */
interface Decided {
  eventType: EventType | null;
  effect: DispositionEffect | 'reset';
  code: string;
}

/**
 * impact.com's rules for modification and reversal rows, in its documented order (README, "impact.com
 * files"): the event type, the action, the disposition code before any lock; then, under the lock and on
 * the action as earlier rows of the file left it, the locking date, the state, the items, the
 * 1,000-modification cap and "no change" — and what the row does (modify, reverse, approve, reset), with
 * the payout recalculated by the event type's rule. Nightly processing and the hour's roll-up are passing
 * trouble, as for every front door. The channel (the admin API, the intake) authenticates the file: no
 * opt-in, password or white-list here.
 */
export class ImpactRules implements ModificationRules {
  private readonly decided = new WeakMap<ModificationCommand, Decided>();

  constructor(private readonly deps: ImpactRulesDeps) {}

  /** Rows always take the usual path (their checks read event types, which must not run under a lock). */
  mayCheckUnderLock(): boolean {
    return false;
  }

  refusalBeforeLocks(): null {
    return null;
  }

  async precheck(
    command: ModificationCommand,
    lookup: Lookup | undefined,
    mode: CheckMode,
  ): Promise<Located | Outcome> {
    const row = command.action;
    if (!row || mode === 'under-lock') return { kind: 'invalid_transaction' };
    const eventTypes = new Map<number, EventType | null>();
    const eventType = async (id: number) => {
      if (!eventTypes.has(id)) eventTypes.set(id, await this.deps.eventTypes.get(id));
      return eventTypes.get(id) ?? null;
    };
    // 2. The event type named must exist…
    if (row.actionTrackerId !== null && !(await eventType(row.actionTrackerId)))
      return impactRefusal(ACTION_TRACKER_ID_INVALID);
    const located = await this.locate(command.identifier, lookup);
    if ('kind' in located) return located;
    const { transaction } = located;
    // …and be the action's.
    if (row.actionTrackerId !== null && transaction.eventTypeId !== row.actionTrackerId)
      return impactRefusal(ACTION_TRACKER_ID_INVALID);
    const type = transaction.eventTypeId === null ? null : await eventType(transaction.eventTypeId);
    // 4. A standard code in any case, or one of the event type's own in exact case; a mobile action's row
    // takes only ORDER_UPDATE or REJECTED (impact's mobile instructions).
    const disposition = row.reason === null ? null : dispositionOf(type ?? { dispositionCodes: [] }, row.reason);
    if (!disposition || (row.mobile === true && !MOBILE_REASONS.has(disposition.code)))
      return impactRefusal('BAD_DISPOSITION');
    this.decided.set(command, { eventType: type, effect: disposition.effect, code: disposition.code });
    return located;
  }

  /** 3. The action by id, or the newest with the order id on the event type; nightly processing first. */
  async locate(identifier: TransactionIdentifier, prefetched?: Lookup): Promise<Located | Outcome> {
    const { transactions } = this.deps;
    let lookup: Lookup;
    if (prefetched) lookup = prefetched;
    else if (identifier.kind === 'action_id')
      lookup = await transactions.findManyWithCampaign({ actionIds: [identifier.actionId] });
    else if (identifier.kind === 'order')
      lookup = await transactions.findNewestByOrder(identifier.merchantReferenceId, identifier.eventTypeId);
    else return impactRefusal('ACTION_NOT_FOUND');
    if (lookup.nightlyInProgress) return { kind: 'nightly_in_progress' };
    const [found] = lookup.found;
    // Another campaign's action is not found for a channel that belongs to some campaigns only.
    const scope = identifier.kind === 'action_id' || identifier.kind === 'order' ? identifier.campaignIds : null;
    if (!found || (scope !== null && !scope.includes(found.transaction.campaignId)))
      return impactRefusal('ACTION_NOT_FOUND');
    return found;
  }

  refuseLockedUnit(state: LockedState): Outcome | null {
    return state.nightlyInProgress ? { kind: 'nightly_in_progress' } : null;
  }

  /** The action's hour is not rolled up yet: passing trouble (the batch waits for the roll-up). */
  refuseLockedChange(state: LockedState, before: Transaction): Outcome | null {
    return hourStart(before.occurredAt) >= state.rolledUpThrough ? { kind: 'hourly_pending' } : null;
  }

  /** 5–10 on the action as locked, then what the row does to it. */
  changeUnderLock(before: Transaction, command: ModificationCommand, now: number): LockedChange | Outcome {
    const row = command.action;
    const decided = this.decided.get(command);
    if (!row || !decided) return { kind: 'system_error' };
    const { effect } = decided;
    if (now >= before.lockingDate) return impactRefusal('ALREADY_LOCKED');
    if (before.state === 'REVERSED' && effect !== 'reset') return impactRefusal('ALREADY_REVERSED');
    if (before.state === 'APPROVED') return impactRefusal('ALREADY_APPROVED');
    const items = row.items.length > 0 ? itemsAfter(before, row) : null;
    if (items !== null && 'kind' in items) return items;
    if (before.modificationCount >= MAX_MODIFICATIONS_PER_ACTION) return impactRefusal('MAX_MODIFICATIONS_REACHED');
    const change = effect === 'reset' ? reset(before) : applied(before, row, decided, items);
    if (change === null) return impactRefusal('NO_CHANGE');
    // The code that put the action in its new state (the reports' reversals by code).
    if (change.transaction.state !== before.state)
      return { ...change, transaction: { ...change.transaction, dispositionCode: decided.code } };
    return change;
  }
}

/** The action's item lines after the row's final quantities and amounts; SKU_NOT_FOUND or a quantity above the original refused. */
function itemsAfter(before: Transaction, row: ActionRowChange): ActionItem[] | Outcome {
  const items = (before.items ?? []).map((item) => ({ ...item }));
  for (const change of row.items) {
    const item = items.find((candidate) => candidate.sku === change.sku);
    if (!item) return impactRefusal('SKU_NOT_FOUND');
    const original = before.original?.items?.find((candidate) => candidate.sku === change.sku) ?? item;
    if (change.quantity !== null && change.quantity > original.quantity)
      return impactRefusal(
        'MALFORMED',
        `Quantity: ${change.quantity} is above the item's original quantity ${original.quantity} (SKU ${change.sku}).`,
      );
    if (change.amount !== null) item.amount = change.amount;
    else if (change.quantity !== null && change.quantity !== item.quantity)
      item.amount = unitShare(original.amount, original.quantity, change.quantity);
    if (change.quantity !== null) item.quantity = change.quantity;
  }
  return items;
}

/** The original line's amount for `quantity` of its `originalQuantity` units, rounded half-up to cents. */
function unitShare(amount: Money, originalQuantity: number, quantity: number): Money {
  if (originalQuantity === 0) return 0n;
  const scaled = amount * BigInt(quantity);
  const cents = 100n * BigInt(originalQuantity);
  return ((scaled + cents / 2n) / cents) * 100n;
}

function sum(items: ActionItem[]): Money {
  return items.reduce((total, item) => total + item.amount, 0n);
}

/** RESET: the values the action was created with, state PENDING; null when that changes nothing. */
function reset(before: Transaction): LockedChange | null {
  const original = before.original ?? before;
  const after: Transaction = {
    ...before,
    affiliatePayout: original.affiliatePayout,
    merchantRevenue: original.merchantRevenue,
    approved: original.approved,
    items: original.items,
    customerStatus: original.customerStatus,
    state: 'PENDING',
  };
  return sameAction(before, after) ? null : { transaction: after, result: 'RESET' satisfies ImpactResult };
}

/** A modification, reversal or approval; null when the row changes nothing. */
function applied(
  before: Transaction,
  row: ActionRowChange,
  decided: Decided,
  items: ActionItem[] | null,
): LockedChange | null {
  const amount = items !== null ? sum(items) : row.amount;
  // Amount 0 on an action above 0 reverses it whatever the code; a reversal code without an amount too.
  const reverses =
    (amount !== null && amount === 0n && before.merchantRevenue > 0n) ||
    (decided.effect === 'reverse' && amount === null);
  if (reverses) {
    const after: Transaction = {
      ...before,
      affiliatePayout: 0n,
      merchantRevenue: 0n,
      approved: false,
      state: 'REVERSED',
      items: (items ?? before.items)?.map((item) => ({ ...item, quantity: 0, amount: 0n })) ?? null,
    };
    return { transaction: after, result: 'REVERSED' satisfies ImpactResult };
  }
  const revenue = amount ?? before.merchantRevenue;
  const after: Transaction = {
    ...before,
    merchantRevenue: revenue,
    affiliatePayout:
      decided.eventType && revenue !== before.merchantRevenue
        ? payoutFor(decided.eventType.payout, revenue, before.affiliatePayout)
        : before.affiliatePayout,
    items: items ?? before.items,
    customerStatus: row.customerStatus ?? before.customerStatus,
  };
  if (decided.effect === 'approve') {
    after.state = 'APPROVED';
    after.approved = true;
    return { transaction: after, result: 'APPROVED' satisfies ImpactResult };
  }
  return sameAction(before, after) ? null : { transaction: after, result: 'MODIFIED' satisfies ImpactResult };
}

function sameAction(a: Transaction, b: Transaction): boolean {
  return (
    a.merchantRevenue === b.merchantRevenue &&
    a.affiliatePayout === b.affiliatePayout &&
    a.approved === b.approved &&
    a.state === b.state &&
    a.customerStatus === b.customerStatus &&
    JSON.stringify(itemKey(a.items)) === JSON.stringify(itemKey(b.items))
  );
}

function itemKey(items: ActionItem[] | null) {
  return items?.map((item) => [item.sku, item.quantity, item.amount.toString()]) ?? null;
}
