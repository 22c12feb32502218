/**
 * When a failed postback is tried again. The schedule lists the pause, in seconds, after each failed
 * attempt; when it runs out the delivery is given up as failed.
 */

/**
 * Pauses after attempts 1..7: 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h, i.e. about 27 hours of
 * trying, long enough to ride out a receiver's overnight outage.
 */
export const DEFAULT_POSTBACK_RETRY_SCHEDULE: readonly number[] = Object.freeze([
  5, 300, 1800, 7200, 18000, 36000, 36000,
]);

/** Share of each pause that is randomised, either way. */
const JITTER = 0.1;

/**
 * Parses a schedule from configuration, e.g. `"5, 300, 1800"`. Throws with a message naming the bad
 * entry, so config validation can report it as is.
 */
export function parseRetrySchedule(text: string): number[] {
  if (text.trim() === '') {
    throw new Error('retry schedule must list at least one pause in seconds, e.g. "5, 300, 1800"');
  }
  return text.split(',').map((entry, index) => {
    const trimmed = entry.trim();
    const seconds = Number(trimmed);
    // Digits only: Number() would also accept "1e3", "0x10" and "", none of which anyone means here.
    if (!/^\d+$/.test(trimmed) || !Number.isSafeInteger(seconds) || seconds <= 0) {
      throw new Error(`retry schedule entry ${index + 1} ("${trimmed}") must be a positive whole number of seconds`);
    }
    return seconds;
  });
}

/**
 * Milliseconds to wait before the next attempt, after `failedAttempts` (≥ 1) attempts have failed;
 * null when the schedule is exhausted and the delivery should be marked failed. The ±10 % jitter
 * keeps a batch of postbacks that failed together (one receiver down) from retrying in lockstep.
 */
export function nextAttemptDelayMs(
  failedAttempts: number,
  schedule: readonly number[],
  random: () => number = Math.random,
): number | null {
  if (!Number.isInteger(failedAttempts) || failedAttempts < 1) {
    throw new RangeError(`failedAttempts must be a positive integer, got ${failedAttempts}`);
  }
  if (failedAttempts > schedule.length) return null;
  const baseMs = schedule[failedAttempts - 1] * 1000;
  // random() is in [0, 1); map it to a factor in [1 - JITTER, 1 + JITTER).
  const factor = 1 + JITTER * (2 * random() - 1);
  return Math.round(baseMs * factor);
}
