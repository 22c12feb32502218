import type { Money } from './money';

/** How an event type pays: a percentage of the action's amount, or a fixed payout. */
export type PayoutRule = { type: 'percent'; value: Money } | { type: 'fixed'; value: Money };

/** What a disposition code does to an action. */
export type DispositionEffect = 'modify' | 'reverse' | 'approve';

/** impact.com's event type (an ActionTrackerId): its locking period, payout rule and custom disposition codes. */
export interface EventType {
  id: number;
  campaignId: number;
  name: string;
  lockingDays: number;
  payout: PayoutRule;
  dispositionCodes: Array<{ code: string; effect: DispositionEffect }>;
  createdAt: number;
  updatedAt: number;
}

/** impact.com's standard disposition (reason) codes, matched in any case. */
export const STANDARD_DISPOSITION_CODES = [
  'ORDER_UPDATE',
  'REJECTED',
  'RESET',
  'CONS_INFO_INVALID',
  'CONS_ERROR',
  'CONS_FRAUD',
  'ITEM_RETURNED',
  'ITEM_OUT_OF_STOCK',
  'ORDER_ERROR',
  'PUB_ACT_DISPUTE',
  'ADV_ACT_DISPUTE',
  'NOT_COMPLIANCE_TERMS',
  'MP_RETURNED',
  'TEST_ACTION',
  'OTHER',
] as const;

const STANDARD = new Set<string>(STANDARD_DISPOSITION_CODES);

/** A reason code as an event type reads it: standard codes any case (upper-cased), custom codes exact case. */
export function dispositionOf(
  eventType: Pick<EventType, 'dispositionCodes'> | null,
  reason: string,
): { code: string; effect: DispositionEffect | 'reset' } | null {
  const upper = reason.toUpperCase();
  if (STANDARD.has(upper))
    return { code: upper, effect: upper === 'REJECTED' ? 'reverse' : upper === 'RESET' ? 'reset' : 'modify' };
  const custom = eventType?.dispositionCodes.find((entry) => entry.code === reason);
  return custom ? { code: custom.code, effect: custom.effect } : null;
}

/** The payout for `amount`: a percentage rounded half-up to cents, or a fixed payout left as it is (`current`). */
export function payoutFor(rule: PayoutRule, amount: bigint, current: bigint): bigint {
  if (rule.type === 'fixed') return current;
  // amount and value are both in ten-thousandths: amount × value / 100 % is amount × value / 1,000,000 units.
  const tenThousandths = amount * rule.value;
  const perCent = 1_000_000n * 100n; // one cent is 100 ten-thousandths
  return ((tenThousandths + perCent / 2n) / perCent) * 100n;
}
