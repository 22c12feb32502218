import type { Money } from './money';

/**
 * impact.com's view of a transaction (an *action*): its state, item lines and the values it was created
 * with. A LinkTrust edit leaves the state alone; impact's modification files move it.
 */

/** `APPROVED` here is an approval by an `approve` disposition code; past the locking date an action reads APPROVED too. */
export type ActionState = 'PENDING' | 'APPROVED' | 'REVERSED';

export const ACTION_STATES: readonly ActionState[] = ['PENDING', 'APPROVED', 'REVERSED'];

/** Whether the customer was new to the brand. */
export type CustomerStatus = 'NEW' | 'EXISTING';

/** One item line of an action tracked at item level; `amount` is the line's total. */
export interface ActionItem {
  sku: string;
  category: string | null;
  name: string | null;
  quantity: number;
  amount: Money;
}

/** What a `RESET` restores: the values the action was created with. */
export interface ActionOriginal {
  affiliatePayout: Money;
  merchantRevenue: Money;
  approved: boolean;
  items: ActionItem[] | null;
  customerStatus: CustomerStatus | null;
}

/** Days an action without an event type stays open to modifications (impact's default locking period). */
export const DEFAULT_LOCKING_DAYS = 30;

/** Modifications an action may have in all (impact: "a maximum of 1,000 modifications per action"). */
export const MAX_MODIFICATIONS_PER_ACTION = 1000;

const DAY_MS = 86_400_000;

/** When an action that occurred at `occurredAt` locks, for an event type's locking period in days. */
export function lockingDateOf(occurredAt: number, lockingDays: number): number {
  return occurredAt + lockingDays * DAY_MS;
}

/** The state as a brand sees it at `now`: past its locking date an action that is not reversed is approved. */
export function visibleState(state: ActionState, lockingDate: number, now: number): ActionState {
  return state !== 'REVERSED' && now >= lockingDate ? 'APPROVED' : state;
}

/** An action id: 1–64 of `[A-Za-z0-9._-]`. One of digits only is a transaction id in decimal. */
export const ACTION_ID_PATTERN = /^[A-Za-z0-9._-]{1,64}$/;

/** Whether an action id is a transaction id written in decimal (the id every transaction has without one given). */
export function isGeneratedActionId(actionId: string): boolean {
  return /^[0-9]+$/.test(actionId);
}

/**
 * One row of a modification file, as its parser read it: what to find (an action id, or an order id on an
 * event type) and what to do. `amount` and the items' quantities and amounts are final values, not deltas.
 */
export interface ActionRowChange {
  actionId: string | null;
  oid: string | null;
  actionTrackerId: number | null;
  amount: Money | null;
  reason: string | null;
  currencyCode: string | null;
  customerStatus: CustomerStatus | null;
  items: Array<{ sku: string; quantity: number | null; amount: Money | null; category: string | null }>;
  /** A mobile action's row (exactly ActionId, Amount, Reason): its Reason is ORDER_UPDATE or REJECTED only. */
  mobile?: boolean;
}
