import type { AfterChange } from '../store/after-change';
import { retryingLockConflicts } from '../store/lock-retries';
import type { PostbackAttempt, PostbackDelivery, PostbackStatus, PostbackStore } from '../store/postback-store';

/** What a retry of a delivery came to. */
export type PostbackRetry =
  | { kind: 'not_found' }
  /** Only a failed delivery is queued again; `delivery` is as it was read before the attempt. */
  | { kind: 'not_failed'; delivery: PostbackDelivery }
  /** Queued again; `delivery` is as it was read before (its status and attempt count then). */
  | { kind: 'requeued'; delivery: PostbackDelivery };

export interface PostbackServiceDeps {
  postbacks: PostbackStore;
  now?: () => number;
  /** Called after a delivery is queued again (wakes the in-process postback worker, if running). */
  onRequeued?: () => void;
}

/** Postback deliveries for the admin API and the console: list them with their attempts, retry a failed one. */
export class PostbackService {
  constructor(private readonly deps: PostbackServiceDeps) {}

  /** Newest first (at most 200), optionally of one transaction or in one status. */
  list(filter: { transactionId?: number; status?: PostbackStatus; attempted?: boolean }): Promise<PostbackDelivery[]> {
    return this.deps.postbacks.list(filter);
  }

  get(id: number): Promise<PostbackDelivery | null> {
    return this.deps.postbacks.get(id);
  }

  /** The attempts of these deliveries, oldest first. */
  attemptsFor(deliveryIds: number[]): Promise<PostbackAttempt[]> {
    return this.deps.postbacks.attemptsFor(deliveryIds);
  }

  /**
   * Queues a failed delivery again (lock conflicts retried). `afterChange`, given the delivery as read,
   * returns a hook written in the same database transaction as the requeue (the console's audit entry).
   */
  async retry(id: number, afterChange?: (delivery: PostbackDelivery) => AfterChange<void>): Promise<PostbackRetry> {
    const delivery = await this.deps.postbacks.get(id);
    if (!delivery) return { kind: 'not_found' };
    const hook = afterChange?.(delivery);
    const now = this.deps.now ?? Date.now;
    if (!(await retryingLockConflicts(() => this.deps.postbacks.requeueFailed(id, now(), hook))))
      return { kind: 'not_failed', delivery };
    this.deps.onRequeued?.();
    return { kind: 'requeued', delivery };
  }
}
