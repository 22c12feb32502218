/**
 * Keys remembered for `spanMs` after something happened to them (a client's failed check, a successful
 * one), at most `max`: the least recently noted is forgotten first, so a flood from many addresses
 * cannot grow it without bound.
 */
export class RecentKeys<K> {
  private readonly until = new Map<K, number>();

  constructor(
    private readonly spanMs: number,
    private readonly max: number,
    private readonly now: () => number,
  ) {}

  /** Whether `key` was noted within the span (an expired entry is dropped). */
  has(key: K): boolean {
    const until = this.until.get(key);
    if (until === undefined) return false;
    if (until > this.now()) return true;
    this.until.delete(key);
    return false;
  }

  /**
   * Notes `key` for a full span from now. `lazily`: not when its entry still has nine tenths of a span
   * to run — for a path that notes on every request (a success).
   */
  note(key: K, lazily = false): void {
    const now = this.now();
    const until = this.until.get(key);
    if (lazily && until !== undefined && until - now > this.spanMs * 0.9) return;
    if (until === undefined && this.until.size >= this.max) {
      const oldest = this.until.keys().next().value;
      if (oldest !== undefined) this.until.delete(oldest);
    }
    this.until.delete(key); // re-inserted at the end: the least recently noted is forgotten first
    this.until.set(key, now + this.spanMs);
  }
}
