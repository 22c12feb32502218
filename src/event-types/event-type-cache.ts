import type { EventType } from '../core/event-type';

/** How long an event type read for impact's rules is used before it is read again. */
export const EVENT_TYPE_CACHE_MS = 1000;

/**
 * Event types as impact's rules read them, once per id for `ttlMs` (a 100,000-row file names a handful of
 * event types; reading one per row cost more than half of an impact file's throughput, measured by
 * `npm run bench`). A change through this process is seen at once (`forget`); one made through another
 * instance within `ttlMs`.
 */
export class EventTypeCache {
  private readonly entries = new Map<number, { at: number; value: Promise<EventType | null> }>();

  constructor(
    private readonly store: { get(id: number): Promise<EventType | null> },
    private readonly options: { ttlMs?: number; now?: () => number } = {},
  ) {}

  get(id: number): Promise<EventType | null> {
    const now = (this.options.now ?? Date.now)();
    const entry = this.entries.get(id);
    if (entry && now - entry.at < (this.options.ttlMs ?? EVENT_TYPE_CACHE_MS)) return entry.value;
    const value = this.store.get(id);
    this.entries.set(id, { at: now, value });
    // A failed read is not kept: the next row reads again.
    value.catch(() => this.entries.delete(id));
    if (this.entries.size > 10_000) this.entries.delete(this.entries.keys().next().value as number);
    return value;
  }

  /** An event type changed: the next read goes to the store. */
  forget(id: number): void {
    this.entries.delete(id);
  }
}
