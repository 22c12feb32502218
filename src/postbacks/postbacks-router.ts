import type { Router } from 'express';
import { AdminError, invalid, notFound } from '../http/admin-errors';
import { idParam } from '../http/params';
import type { PostbackAttempt, PostbackDelivery, PostbackStatus } from '../store/postback-store';
import type { PostbackService } from './postback-service';

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
const STATUSES: PostbackStatus[] = ['pending', 'delivered', 'failed'];

/** A delivery and its attempts as JSON. */
export function deliveryJson(d: PostbackDelivery, attempts: PostbackAttempt[]) {
  return {
    id: d.id,
    postbackId: d.postbackId,
    transactionId: d.transactionId,
    modificationId: d.modificationId,
    affiliateId: d.affiliateId,
    url: d.url,
    status: d.status,
    attemptCount: d.attempts,
    nextAttemptAt: d.status === 'pending' ? iso(d.nextAttemptAt) : null,
    lastError: d.lastError,
    createdAt: iso(d.createdAt),
    finishedAt: iso(d.finishedAt),
    attempts: attempts
      .filter((a) => a.deliveryId === d.id)
      .map((a) => ({
        attempt: a.attempt,
        at: iso(a.startedAt),
        url: a.url,
        httpStatus: a.httpStatus,
        error: a.error,
        durationMs: a.durationMs,
      })),
  };
}

/** Admin routes for postback deliveries: list with attempts, and retry of a failed one. */
export function postbackRoutes(deps: { postbacks: PostbackService }) {
  return (router: Router): void => {
    router.get('/postbacks', async (req, res) => {
      const { transactionId, status } = req.query;
      if (status !== undefined && !STATUSES.includes(status as PostbackStatus))
        throw invalid('status must be pending, delivered or failed');
      const deliveries = await deps.postbacks.list({
        transactionId: transactionId === undefined ? undefined : idParam(transactionId, 'transactionId'),
        status: status as PostbackStatus | undefined,
      });
      const attempts = await deps.postbacks.attemptsFor(deliveries.map((d) => d.id));
      res.json(deliveries.map((d) => deliveryJson(d, attempts)));
    });

    router.post('/postbacks/:id/retry', async (req, res) => {
      const id = idParam(req.params.id);
      const retry = await deps.postbacks.retry(id);
      if (retry.kind === 'not_found') throw notFound(`postback delivery ${id}`);
      if (retry.kind === 'not_failed') {
        throw new AdminError(
          409,
          'conflict',
          `postback delivery ${id} is ${retry.delivery.status}; only failed deliveries can be retried`,
        );
      }
      const requeued = (await deps.postbacks.get(id)) as PostbackDelivery;
      res.json(deliveryJson(requeued, await deps.postbacks.attemptsFor([id])));
    });
  };
}
