import crypto from 'node:crypto';
import os from 'node:os';
import type { Dispatcher } from 'undici';
import type { Logger } from '../logger';
import type { PostbackDelivery, PostbackStore } from '../store/postback-store';
import { PollLoop } from '../workers/poll-loop';
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
  private readonly loop: PollLoop;
  private readonly now: () => number;

  constructor(
    private readonly store: PostbackStore,
    private readonly dispatcher: Dispatcher,
    private readonly logger: Logger,
    private readonly options: PostbackWorkerOptions,
  ) {
    this.now = options.now ?? Date.now;
    const pollMs = options.pollMs ?? 1000;
    this.loop = new PollLoop(
      () => this.poll(pollMs),
      pollMs,
      (error) => logger.error({ err: error }, 'postback worker round failed'),
    );
  }

  /** Starts polling. */
  start(): void {
    this.loop.start();
  }

  /** Looks for due deliveries now (called after a change that queued one commits). */
  wake(): void {
    this.loop.wake();
  }

  /** Stops taking deliveries and waits for those in flight to be recorded (each is bounded by its timeout). */
  async stop(): Promise<void> {
    await this.loop.stop();
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

  /** Claims what fits and starts it without waiting; the next round at once when anything was claimed. */
  private async poll(pollMs: number): Promise<number> {
    const free = this.options.concurrency - this.inFlight.size;
    if (free <= 0) return pollMs;
    let deliveries: PostbackDelivery[];
    try {
      deliveries = await this.store.claimDue(this.id, this.now(), this.options.leaseMs, free);
    } catch (error) {
      this.logger.error({ err: error }, 'postback worker could not claim deliveries');
      return pollMs;
    }
    // When a delivery finishes there is room again: look for more at once.
    for (const delivery of deliveries) this.track(this.attempt(delivery)).then(() => this.wake());
    return deliveries.length > 0 ? 0 : pollMs;
  }

  private async attempt(delivery: PostbackDelivery): Promise<void> {
    const startedAt = this.now();
    try {
      const result = await deliverPostback({
        url: delivery.url,
        postbackId: delivery.postbackId,
        timeoutMs: this.options.timeoutMs,
        dispatcher: this.dispatcher,
      });
      const failedAttempts = delivery.attempts + 1;
      let outcome: { status: 'delivered' | 'pending' | 'failed'; nextAttemptAt: number; error: string | null };
      if (result.ok) outcome = { status: 'delivered', nextAttemptAt: this.now(), error: null };
      else if (result.error?.startsWith(PRIVATE_ADDRESS_REFUSED)) {
        // A refused destination does not become allowed by waiting: failed at once, with the reason.
        outcome = { status: 'failed', nextAttemptAt: this.now(), error: result.error };
      } else {
        const delay = nextAttemptDelayMs(failedAttempts, this.options.retrySchedule, this.options.random);
        outcome =
          delay === null
            ? { status: 'failed', nextAttemptAt: this.now(), error: result.error }
            : { status: 'pending', nextAttemptAt: this.now() + delay, error: result.error };
      }
      const kept = await this.store.recordAttempt(
        delivery,
        this.id,
        {
          startedAt,
          url: result.url,
          httpStatus: result.httpStatus,
          error: result.error,
          durationMs: result.durationMs,
        },
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
