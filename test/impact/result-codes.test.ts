import {
  ACTION_TRACKER_ID_INVALID,
  IMPACT_ERROR_CODES,
  IMPACT_RESULT_CODES,
  impactMessage,
  isImpactCode,
  statusOf,
} from '../../src/impact/result-codes';

describe('impact result codes', () => {
  it('keeps the ActionTrackerId code whole, as impact.com shows it', () => {
    expect(ACTION_TRACKER_ID_INVALID).toBe('ActionTrackerId: ActionTrackerId value is invalid');
    expect(isImpactCode(ACTION_TRACKER_ID_INVALID)).toBe(true);
    expect(isImpactCode('SOMETHING_ELSE')).toBe(false);
  });

  it('gives each code its status', () => {
    const statuses = Object.fromEntries([...IMPACT_ERROR_CODES, ...IMPACT_RESULT_CODES].map((c) => [c, statusOf(c)]));
    expect(statuses).toEqual({
      MALFORMED: 'Validation',
      [ACTION_TRACKER_ID_INVALID]: 'Validation',
      ACTION_NOT_FOUND: 'Validation',
      BAD_DISPOSITION: 'Validation',
      ALREADY_LOCKED: 'Contract Error',
      ALREADY_REVERSED: 'Contract Error',
      ALREADY_APPROVED: 'Contract Error',
      SKU_NOT_FOUND: 'Validation',
      MAX_MODIFICATIONS_REACHED: 'Contract Error',
      NO_CHANGE: 'Contract Error',
      MODIFIED: 'OK',
      REVERSED: 'OK',
      APPROVED: 'OK',
      RESET: 'OK',
    });
  });

  it("uses impact.com's own wording where it has one", () => {
    expect(impactMessage('NO_CHANGE')).toBe(
      'There is no change made to the action. Please ensure you enter the final amount into the Amount column ' +
        '(e.g., enter 0 if you want to reverse actions).',
    );
    expect(impactMessage('ALREADY_REVERSED')).toBe('The action has already been reversed.');
    expect(impactMessage('ALREADY_LOCKED')).toBe(
      'The action locking period has already passed. The action can no longer undergo modifications or reversals.',
    );
  });

  it('has a sentence of at most 255 characters (the stored message) for every code', () => {
    for (const code of [...IMPACT_ERROR_CODES, ...IMPACT_RESULT_CODES]) {
      expect(impactMessage(code).length).toBeGreaterThan(10);
      expect(impactMessage(code).length).toBeLessThanOrEqual(255);
    }
  });
});
