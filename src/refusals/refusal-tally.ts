import type { Logger } from '../logger';
import { HOUR_MS } from '../core/hours';
import type { RefusalCount, RefusalHour, RefusalQuery, RefusalStore } from '../store/refusal-store';

/** Different client/campaign/message keys held between two flushes; more are dropped (and counted). */
const MAX_KEYS = 10_000;
/** How long a refusal waits in memory before it is written. */
const FLUSH_AFTER_MS = 5_000;

/**
 * Counts refusals in memory and adds them to the store a few seconds later, so that a flood costs no write
 * per request; support reads them by campaign and client (the admin API and the console's Refusals page).
 * A refusal counted when the process dies before its flush is lost: these are support statistics, not the
 * history.
 */
export class RefusalTally {
  private pending = new Map<string, RefusalCount>();
  private pendingHours = new Map<string, RefusalHour>();
  private dropped = 0;
  private timer: NodeJS.Timeout | null = null;
  private flushing: Promise<void> = Promise.resolve();
  private readonly now: () => number;

  constructor(
    private readonly deps: {
      store: Pick<RefusalStore, 'add' | 'addHours' | 'list' | 'hours'>;
      logger: Pick<Logger, 'warn'>;
      now?: () => number;
      flushAfterMs?: number;
    },
  ) {
    this.now = deps.now ?? Date.now;
  }

  /** Counts one refusal. */
  record(door: string, clientIp: string, campaignId: number | null, message: string): void {
    const key = `${door}\u0000${clientIp}\u0000${campaignId ?? 0}\u0000${message}`;
    const now = this.now();
    const known = this.pending.get(key);
    if (known) {
      known.count++;
      known.lastAt = now;
    } else if (this.pending.size >= MAX_KEYS) {
      this.dropped++;
    } else {
      this.pending.set(key, { door, clientIp, campaignId, message, count: 1, firstAt: now, lastAt: now });
    }
    // Per hour and message too (the dashboard's bands); a few keys per hour, so never capped.
    const hour = Math.floor(now / HOUR_MS) * HOUR_MS;
    const hourKey = `${hour}\u0000${message}`;
    const counted = this.pendingHours.get(hourKey);
    if (counted) counted.count++;
    else this.pendingHours.set(hourKey, { hour, message, count: 1 });
    this.timer ??= setTimeout(() => void this.flush(), this.deps.flushAfterMs ?? FLUSH_AFTER_MS).unref();
  }

  /** Writes what was counted since the last flush (one flush at a time; a failed one is logged and dropped). */
  flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const counts = [...this.pending.values()];
    const hours = [...this.pendingHours.values()];
    const dropped = this.dropped;
    this.pending = new Map();
    this.pendingHours = new Map();
    this.dropped = 0;
    this.flushing = this.flushing.then(async () => {
      if (dropped > 0) this.deps.logger.warn({ dropped }, 'refusals not counted: too many different ones at once');
      if (counts.length === 0 && hours.length === 0) return;
      try {
        await this.deps.store.add(counts);
        await this.deps.store.addHours(hours);
      } catch (error) {
        this.deps.logger.warn({ err: error, keys: counts.length }, 'refusal counts could not be written');
      }
    });
    return this.flushing;
  }

  /** Refusals per UTC hour and message of `from` ≤ hour < `to` (after a flush of what is pending). */
  async hours(span: { from: number; to: number }): Promise<RefusalHour[]> {
    await this.flush();
    return this.deps.store.hours(span);
  }

  /** The counts written so far (after a flush of what is pending), most recently refused first. */
  async list(query: RefusalQuery): Promise<RefusalCount[]> {
    await this.flush();
    return this.deps.store.list(query);
  }
}
