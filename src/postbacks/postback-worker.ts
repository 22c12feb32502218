import crypto from 'node:crypto';
import os from 'node:os';
import type { Dispatcher } from 'undici';
import type { Logger } from '../logger';
import type { PostbackDelivery, PostbackStore } from '../store/postback-store';
import { deliverPostback } from './deliver';
import { PRIVATE_ADDRESS_REFUSED } from './network-guard';
import { nextAttemptDelayMs } from './retry-schedule';

/** Settings of one outbox worker. */
export interface PostbackWorkerOptions {
  retrySchedule: readonly number[];
  timeoutMs: number;
  concurrency: number;
  leaseMs: number;
  /** How often to look for due deliveries when nothing wakes the worker. */
  pollMs?: number;
  now?: () => number;
  random?: () => number;
}

/**
 * Delivers queued postbacks: claims due rows under a lease, sends each (GET, timeout, no redirects,
 * private-network guard in the dispatcher), records every attempt, and schedules the next one from the
 * retry schedule or marks the delivery failed. Delivery is at least once; receivers de-duplicate on
 * X-Postback-Id. Several workers (processes or nodes) may run at once.
 */
export class PostbackWorker {
  readonly id = `${os.hostname()}:${process.pid}:${crypto.randomBytes(3).toString('hex')}`;
  private readonly inFlight = new Set<Promise<void>>();
  private timer: NodeJS.Timeout | null = null;
  private running = false;
  private polling = false;
  private wakeRequested = false;
  private readonly now: () => number;

  constructor(
    private readonly store: PostbackStore,
    private readonly dispatcher: Dispatcher,
    private readonly logger: Logger,
    private readonly options: PostbackWorkerOptions,
  ) {
    this.now = options.now ?? Date.now;
  }

  /** Starts polling. */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.schedule(0);
  }

  /** Looks for due deliveries now (called after a change that queued one commits). */
  wake(): void {
    if (!this.running) return;
    if (this.polling) this.wakeRequested = true;
    else this.schedule(0);
  }

  /** Stops taking deliveries and waits for those in flight to be recorded (each is bounded by its timeout). */
  async stop(): Promise<void> {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await Promise.allSettled([...this.inFlight]);
  }

  /** One claim-and-deliver round, resolved when every claimed delivery is recorded (tests, one-shot runs). */
  async runOnce(): Promise<number> {
    const free = this.options.concurrency - this.inFlight.size;
    if (free <= 0) return 0;
    const claimed = await this.store.claimDue(this.id, this.now(), this.options.leaseMs, free);
    await Promise.allSettled(claimed.map((delivery) => this.track(this.attempt(delivery))));
    return claimed.length;
  }

  private track(promise: Promise<void>): Promise<void> {
    this.inFlight.add(promise);
    promise.finally(() => this.inFlight.delete(promise)).catch(() => undefined);
    return promise;
  }

  private schedule(delayMs: number): void {
    if (!this.running) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.poll(), delayMs);
    this.timer.unref();
  }

  private async poll(): Promise<void> {
    this.timer = null;
    if (!this.running || this.polling) return;
    this.polling = true;
    let claimed = 0;
    try {
      const free = this.options.concurrency - this.inFlight.size;
      if (free > 0) {
        const deliveries = await this.store.claimDue(this.id, this.now(), this.options.leaseMs, free);
        claimed = deliveries.length;
        for (const delivery of deliveries) {
          // When a delivery finishes there is room again: look for more at once.
          this.track(this.attempt(delivery)).then(() => this.wake());
        }
      }
    } catch (error) {
      this.logger.error({ err: error }, 'postback worker could not claim deliveries');
    } finally {
      this.polling = false;
    }
    const again = this.wakeRequested || claimed > 0;
    this.wakeRequested = false;
    this.schedule(again ? 0 : (this.options.pollMs ?? 1000));
  }

  private async attempt(delivery: PostbackDelivery): Promise<void> {
    const startedAt = this.now();
    try {
      const result = await deliverPostback({ url: delivery.url, postbackId: delivery.postbackId, timeoutMs: this.options.timeoutMs, dispatcher: this.dispatcher });
      const failedAttempts = delivery.attempts + 1;
      let outcome: { status: 'delivered' | 'pending' | 'failed'; nextAttemptAt: number; error: string | null };
      if (result.ok) outcome = { status: 'delivered', nextAttemptAt: this.now(), error: null };
      else if (result.error?.startsWith(PRIVATE_ADDRESS_REFUSED)) {
        // A refused destination does not become allowed by waiting: failed at once, with the reason.
        outcome = { status: 'failed', nextAttemptAt: this.now(), error: result.error };
      } else {
        const delay = nextAttemptDelayMs(failedAttempts, this.options.retrySchedule, this.options.random);
        outcome = delay === null ? { status: 'failed', nextAttemptAt: this.now(), error: result.error } : { status: 'pending', nextAttemptAt: this.now() + delay, error: result.error };
      }
      const kept = await this.store.recordAttempt(
        delivery,
        this.id,
        { startedAt, url: result.url, httpStatus: result.httpStatus, error: result.error, durationMs: result.durationMs },
        outcome,
        this.now(),
      );
      if (!kept) this.logger.warn({ deliveryId: delivery.id }, 'postback lease was taken over; attempt logged only');
    } catch (error) {
      // Recording failed (database trouble): the lease expires and another round retries the delivery.
      this.logger.error({ err: error, deliveryId: delivery.id }, 'postback attempt could not be recorded');
    }
  }
}
