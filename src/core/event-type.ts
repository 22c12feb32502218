import { MONEY_SCALE, type Money } from './money';

/**
 * impact.com event types (ActionTrackerIds): how an action's payout follows its amount, how long it
 * stays open to changes, and which disposition (reason) codes a brand's files may use on it.
 */

/** The payout rule. A percent value is Money-scaled: parseMoney("12.5") is 12.5 %. */
export type PayoutRule = { type: 'percent'; value: Money } | { type: 'fixed'; value: Money };

/** What a custom disposition code does to an action. */
export type DispositionEffect = 'modify' | 'reverse' | 'approve';

/** The effects a custom code may be given, for validation and forms. */
export const DISPOSITION_EFFECTS: readonly DispositionEffect[] = ['modify', 'reverse', 'approve'];

/** A custom disposition code of one event type (matched in exact case). */
export interface DispositionCode {
  code: string;
  effect: DispositionEffect;
}

/** An event type (impact's ActionTrackerId) of a campaign. */
export interface EventType {
  id: number;
  campaignId: number;
  name: string;
  lockingDays: number;
  payout: PayoutRule;
  dispositionCodes: DispositionCode[];
  createdAt: number;
  updatedAt: number;
}

/** Largest event type id: impact's ActionTrackerIds are signed 32-bit integers. */
export const MAX_EVENT_TYPE_ID = 2_147_483_647;
/** Longest locking period, in days. */
export const MAX_LOCKING_DAYS = 730;
/** The locking period when none is given, in days. */
export const DEFAULT_LOCKING_DAYS = 30;
/** Largest percent payout: 100 %. */
export const MAX_PERCENT_PAYOUT: Money = 100n * MONEY_SCALE;
/** Longest custom disposition code. */
export const MAX_CUSTOM_CODE_LENGTH = 64;
/** Most custom disposition codes on one event type. */
export const MAX_CUSTOM_CODES = 100;

/** impact.com's standard disposition codes; they are accepted on every event type, in any case. */
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

/** One of the standard codes. */
export type StandardDispositionCode = (typeof STANDARD_DISPOSITION_CODES)[number];

const STANDARD = new Set<string>(STANDARD_DISPOSITION_CODES);
const CUSTOM_CODE = /^[A-Za-z0-9_.-]{1,64}$/;

/** What a row's reason means on an event type: the code as matched, and its effect. */
export interface Disposition {
  /** A standard code in upper case, or a custom code as defined. */
  code: string;
  effect: DispositionEffect | 'reset';
}

/** True when `code` is a standard disposition code in any case. */
export function isStandardDispositionCode(code: string): boolean {
  return STANDARD.has(code.toUpperCase());
}

/**
 * The disposition a reason names on this event type: a standard code in any case (REJECTED reverses,
 * RESET resets, the others modify), else one of the type's custom codes in exact case; null otherwise.
 */
export function dispositionOf(eventType: Pick<EventType, 'dispositionCodes'>, reason: string): Disposition | null {
  const upper = reason.toUpperCase();
  if (STANDARD.has(upper)) {
    return { code: upper, effect: upper === 'REJECTED' ? 'reverse' : upper === 'RESET' ? 'reset' : 'modify' };
  }
  const custom = eventType.dispositionCodes.find((c) => c.code === reason);
  return custom ? { code: custom.code, effect: custom.effect } : null;
}

// Ten-thousandths × Money-scaled percent / 100 % gives ten-thousandths × 10⁶; cents are 100 of those.
const PERCENT_TO_CENTS = 100n * MONEY_SCALE * 100n;

/**
 * The payout for an action's amount. Percent: amount × value / 100, rounded half-up to whole cents (so
 * always a multiple of 100n). Fixed: `current`, unchanged by a modification (a reversal's 0 is the
 * caller's business).
 */
export function payoutFor(rule: PayoutRule, amount: Money, current: Money): Money {
  if (rule.type === 'fixed') return current;
  const product = amount * rule.value;
  // Amounts and percents are never negative; half-up on a non-negative quotient is floor(x + ½).
  const cents = (2n * product + PERCENT_TO_CENTS) / (2n * PERCENT_TO_CENTS);
  return cents * 100n;
}

/** A problem with an event type's settings: the JSON field it concerns and what is wrong. */
export interface EventTypeProblem {
  field: string;
  message: string;
}

/**
 * Checks what the shape alone cannot: the locking period, a percent at most 100, and custom codes
 * (1–64 of [A-Za-z0-9_.-], not a standard code in any case, unique in exact case). Every front door
 * uses it, so the API, the CLI and the console refuse alike. Empty when all is well.
 */
export function eventTypeProblems(settings: {
  lockingDays?: number;
  payout?: PayoutRule;
  dispositionCodes?: readonly DispositionCode[];
}): EventTypeProblem[] {
  const problems: EventTypeProblem[] = [];
  const { lockingDays, payout, dispositionCodes } = settings;
  if (
    lockingDays !== undefined &&
    !(Number.isInteger(lockingDays) && lockingDays >= 0 && lockingDays <= MAX_LOCKING_DAYS)
  )
    problems.push({ field: 'lockingDays', message: `must be a whole number of days from 0 to ${MAX_LOCKING_DAYS}` });
  if (payout?.type === 'percent' && payout.value > MAX_PERCENT_PAYOUT)
    problems.push({ field: 'payout.value', message: 'a percent payout must be at most 100' });
  if (dispositionCodes && dispositionCodes.length > MAX_CUSTOM_CODES)
    problems.push({ field: 'dispositionCodes', message: `at most ${MAX_CUSTOM_CODES} custom codes` });
  const seen = new Set<string>();
  (dispositionCodes ?? []).forEach(({ code, effect }, index) => {
    const field = `dispositionCodes.${index}.code`;
    if (!CUSTOM_CODE.test(code))
      problems.push({
        field,
        message: `"${code}" must be 1–${MAX_CUSTOM_CODE_LENGTH} characters of A–Z a–z 0–9 _ . -`,
      });
    else if (isStandardDispositionCode(code))
      problems.push({
        field,
        message: `"${code}" is a standard disposition code; custom codes must differ from those`,
      });
    else if (seen.has(code)) problems.push({ field, message: `"${code}" is given twice` });
    seen.add(code);
    if (!DISPOSITION_EFFECTS.includes(effect))
      problems.push({ field: `dispositionCodes.${index}.effect`, message: 'must be modify, reverse or approve' });
  });
  return problems;
}
