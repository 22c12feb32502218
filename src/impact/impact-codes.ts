import type { Outcome } from '../modification/outcome';

/** What an applied row did. */
export type ImpactResult = 'MODIFIED' | 'REVERSED' | 'APPROVED' | 'RESET';

/** The refusals of impact's rules, by a short key; the code written in results is `CODES[key]`. */
const CODES = {
  MALFORMED: 'MALFORMED',
  ACTION_TRACKER_INVALID: 'ActionTrackerId: ActionTrackerId value is invalid',
  ACTION_NOT_FOUND: 'ACTION_NOT_FOUND',
  BAD_DISPOSITION: 'BAD_DISPOSITION',
  ALREADY_LOCKED: 'ALREADY_LOCKED',
  ALREADY_REVERSED: 'ALREADY_REVERSED',
  ALREADY_APPROVED: 'ALREADY_APPROVED',
  SKU_NOT_FOUND: 'SKU_NOT_FOUND',
  MAX_MODIFICATIONS_REACHED: 'MAX_MODIFICATIONS_REACHED',
  NO_CHANGE: 'NO_CHANGE',
} as const;

export type ImpactRefusalKey = keyof typeof CODES;

const MESSAGES: Record<ImpactRefusalKey, string> = {
  MALFORMED: 'The row is malformed.',
  ACTION_TRACKER_INVALID: 'This should correspond to the Event Type ID entered.',
  ACTION_NOT_FOUND: 'The OID you provided is incorrect. Please provide a correct OID.',
  BAD_DISPOSITION:
    'The reason code you provided is not valid. Please use one of the standard reason codes. Alternatively, you can set up a custom disposition code.',
  ALREADY_LOCKED:
    'The action locking period has already passed. The action can no longer undergo modifications or reversals.',
  ALREADY_REVERSED: 'The action has already been reversed.',
  ALREADY_APPROVED: 'The action has already been approved.',
  SKU_NOT_FOUND: 'The SKU is not an item of this action.',
  MAX_MODIFICATIONS_REACHED: 'The action has reached the maximum of 1,000 modifications. Contact support for more.',
  NO_CHANGE:
    'There is no change made to the action. Please ensure you enter the final amount into the Amount column (e.g., enter 0 if you want to reverse actions).',
};

/** A row's refusal as the core's outcome: its code and a sentence a brand understands. */
export function impactRefusal(key: ImpactRefusalKey, message?: string): Outcome {
  return { kind: 'refused', code: CODES[key], message: message ?? MESSAGES[key] };
}
