/** Milliseconds in an hour; statistics hours are UTC hours. */
export const HOUR_MS = 3_600_000;

/** The UTC hour (epoch ms) a moment falls in. */
export function hourStart(at: number): number {
  return Math.floor(at / HOUR_MS) * HOUR_MS;
}
