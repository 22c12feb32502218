import fc from 'fast-check';
import {
  DEFAULT_POSTBACK_RETRY_SCHEDULE,
  nextAttemptDelayMs,
  parseRetrySchedule,
} from '../../src/postbacks/retry-schedule';

describe('DEFAULT_POSTBACK_RETRY_SCHEDULE', () => {
  it('is 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h', () => {
    expect(DEFAULT_POSTBACK_RETRY_SCHEDULE).toEqual([5, 300, 1800, 7200, 18000, 36000, 36000]);
    expect(Object.isFrozen(DEFAULT_POSTBACK_RETRY_SCHEDULE)).toBe(true);
  });
});

describe('parseRetrySchedule', () => {
  it.each([
    ['5,300,1800', [5, 300, 1800]],
    [' 5 , 300,  1800 ', [5, 300, 1800]],
    ['60', [60]],
    ['5, 300, 1800, 7200, 18000, 36000, 36000', [5, 300, 1800, 7200, 18000, 36000, 36000]],
  ])('parses %j', (text, schedule) => {
    expect(parseRetrySchedule(text)).toEqual(schedule);
  });

  it.each([
    ['', 'retry schedule must list at least one pause in seconds, e.g. "5, 300, 1800"'],
    ['   ', 'retry schedule must list at least one pause in seconds, e.g. "5, 300, 1800"'],
    ['5,,300', 'retry schedule entry 2 ("") must be a positive whole number of seconds'],
    ['5,300,', 'retry schedule entry 3 ("") must be a positive whole number of seconds'],
    ['0', 'retry schedule entry 1 ("0") must be a positive whole number of seconds'],
    ['5,-1', 'retry schedule entry 2 ("-1") must be a positive whole number of seconds'],
    ['1.5', 'retry schedule entry 1 ("1.5") must be a positive whole number of seconds'],
    ['1e3', 'retry schedule entry 1 ("1e3") must be a positive whole number of seconds'],
    ['0x10', 'retry schedule entry 1 ("0x10") must be a positive whole number of seconds'],
    ['5;300', 'retry schedule entry 1 ("5;300") must be a positive whole number of seconds'],
    ['5, five', 'retry schedule entry 2 ("five") must be a positive whole number of seconds'],
    [
      '99999999999999999999',
      'retry schedule entry 1 ("99999999999999999999") must be a positive whole number of seconds',
    ],
  ])('refuses %j', (text, message) => {
    expect(() => parseRetrySchedule(text)).toThrow(new Error(message));
  });
});

describe('nextAttemptDelayMs', () => {
  const schedule = [5, 300, 1800];
  const noJitter = () => 0.5;

  it('uses the Nth pause after the Nth failed attempt', () => {
    expect(nextAttemptDelayMs(1, schedule, noJitter)).toBe(5_000);
    expect(nextAttemptDelayMs(2, schedule, noJitter)).toBe(300_000);
    expect(nextAttemptDelayMs(3, schedule, noJitter)).toBe(1_800_000);
  });

  it('returns null once the schedule is exhausted', () => {
    expect(nextAttemptDelayMs(4, schedule, noJitter)).toBeNull();
    expect(nextAttemptDelayMs(8, DEFAULT_POSTBACK_RETRY_SCHEDULE, noJitter)).toBeNull();
    expect(nextAttemptDelayMs(1, [], noJitter)).toBeNull();
  });

  it('jitters by up to 10 % either way', () => {
    expect(nextAttemptDelayMs(2, schedule, () => 0)).toBe(270_000);
    expect(nextAttemptDelayMs(2, schedule, () => 0.75)).toBe(315_000);
    expect(nextAttemptDelayMs(2, schedule, () => 0.999999)).toBe(330_000);
  });

  it('stays within ±10 % for any random value in [0, 1)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: DEFAULT_POSTBACK_RETRY_SCHEDULE.length }),
        fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
        (failedAttempts, r) => {
          const base = DEFAULT_POSTBACK_RETRY_SCHEDULE[failedAttempts - 1] * 1000;
          const delay = nextAttemptDelayMs(failedAttempts, DEFAULT_POSTBACK_RETRY_SCHEDULE, () => r);
          expect(delay).toBeGreaterThanOrEqual(base * 0.9);
          expect(delay).toBeLessThanOrEqual(base * 1.1);
          expect(Number.isInteger(delay)).toBe(true);
        },
      ),
    );
  });

  it.each([0, -1, 1.5, Number.NaN])('refuses %p failed attempts as a programming error', (failedAttempts) => {
    expect(() => nextAttemptDelayMs(failedAttempts, schedule)).toThrow(RangeError);
  });
});
