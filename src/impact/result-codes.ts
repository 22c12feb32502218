/*
 * impact.com's vocabulary for what became of a row of a modifications file: the error codes its File
 * Submissions table shows, the results of rows that were applied, and one table of the sentences a
 * brand reads next to them. Wording follows impact.com's help page (seed 000) where it has one.
 */

/**
 * The code of a row that is refused because the event type named by ActionTrackerId does not exist or is not
 * the action's. impact.com shows this whole string as the code, so it is kept whole.
 */
export const ACTION_TRACKER_ID_INVALID = 'ActionTrackerId: ActionTrackerId value is invalid';

/** Why a row was refused, in the order the rules check them (the first that fails is the row's code). */
export const IMPACT_ERROR_CODES = [
  'MALFORMED',
  ACTION_TRACKER_ID_INVALID,
  'ACTION_NOT_FOUND',
  'BAD_DISPOSITION',
  'ALREADY_LOCKED',
  'ALREADY_REVERSED',
  'ALREADY_APPROVED',
  'SKU_NOT_FOUND',
  'MAX_MODIFICATIONS_REACHED',
  'NO_CHANGE',
] as const;

/** What an applied row did to its action. */
export const IMPACT_RESULT_CODES = ['MODIFIED', 'REVERSED', 'APPROVED', 'RESET'] as const;

/** A refusal code from {@link IMPACT_ERROR_CODES}. */
export type ImpactErrorCode = (typeof IMPACT_ERROR_CODES)[number];
/** A result code from {@link IMPACT_RESULT_CODES}. */
export type ImpactResultCode = (typeof IMPACT_RESULT_CODES)[number];
/** The `Code` column of an impact results file: a result or an error code. */
export type ImpactCode = ImpactErrorCode | ImpactResultCode;

/** The `Status` column of an impact results file. */
export type ImpactStatus = 'OK' | 'Validation' | 'Contract Error';

const MESSAGES: Record<ImpactCode, string> = {
  // The row's own message names the column and the problem; this one stands in where none is given.
  MALFORMED: 'The row cannot be read: a value is missing or not in the expected format.',
  [ACTION_TRACKER_ID_INVALID]: 'ActionTrackerId value is invalid. This should correspond to the Event Type ID entered.',
  ACTION_NOT_FOUND: 'The OID you provided is incorrect. Please provide a correct OID.',
  BAD_DISPOSITION:
    'The reason code you provided is not valid. Please use one of the standard reason codes. ' +
    'Alternatively, you can set up a custom disposition code.',
  ALREADY_LOCKED:
    'The action locking period has already passed. The action can no longer undergo modifications or reversals.',
  ALREADY_REVERSED: 'The action has already been reversed.',
  ALREADY_APPROVED: 'The action has already been approved.',
  SKU_NOT_FOUND:
    "The Sku you provided is not one of the action's items. Please provide the Sku of an item of the action.",
  MAX_MODIFICATIONS_REACHED:
    'The action has reached the maximum of 1,000 modifications. If you need to make further modifications, contact support.',
  NO_CHANGE:
    'There is no change made to the action. Please ensure you enter the final amount into the Amount column ' +
    '(e.g., enter 0 if you want to reverse actions).',
  MODIFIED: 'The action was modified.',
  REVERSED: 'The action was reversed.',
  APPROVED: 'The action was approved.',
  RESET: 'The action was reset to the values it was created with.',
};

// Codes 1–4 and 8 of the rules are the file's own mistakes; the others are the action's state.
const VALIDATION = new Set<ImpactCode>([
  'MALFORMED',
  ACTION_TRACKER_ID_INVALID,
  'ACTION_NOT_FOUND',
  'BAD_DISPOSITION',
  'SKU_NOT_FOUND',
]);
const RESULTS = new Set<string>(IMPACT_RESULT_CODES);
const CODES = new Set<string>([...IMPACT_ERROR_CODES, ...IMPACT_RESULT_CODES]);

/** The sentence a brand reads for a code. */
export function impactMessage(code: ImpactCode): string {
  return MESSAGES[code];
}

/** `OK` for a result, `Validation` for a mistake in the file, `Contract Error` for the action's state. */
export function statusOf(code: ImpactCode): ImpactStatus {
  if (RESULTS.has(code)) return 'OK';
  return VALIDATION.has(code) ? 'Validation' : 'Contract Error';
}

/** True for a code of this table (a stored code is read back as a plain string). */
export function isImpactCode(value: string): value is ImpactCode {
  return CODES.has(value);
}

/** True for a result code (the row was applied). */
export function isImpactResult(code: ImpactCode): code is ImpactResultCode {
  return RESULTS.has(code);
}
