import type { Router } from 'express';
import { z } from 'zod';
import { AdminError, notFound } from '../http/admin-errors';
import { apiRoute } from '../http/api-routes';
import { idParameter, isoInstant } from '../http/api-schemas';
import type { PostbackAttempt, PostbackDelivery, PostbackStatus } from '../store/postback-store';
import type { PostbackService } from './postback-service';

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
const STATUSES = ['pending', 'delivered', 'failed'] as const satisfies readonly PostbackStatus[];

/** A postback delivery and its attempts as the admin API answers it. */
export const deliverySchema = z
  .object({
    id: z.number().int(),
    postbackId: z.string(),
    transactionId: z.number().int(),
    modificationId: z.number().int(),
    affiliateId: z.number().int(),
    url: z.string(),
    status: z.enum(['pending', 'delivered', 'failed']),
    attemptCount: z.number().int(),
    nextAttemptAt: isoInstant.nullable().meta({ description: 'when pending: the next attempt' }),
    lastError: z.string().nullable(),
    createdAt: isoInstant,
    finishedAt: isoInstant.nullable(),
    attempts: z.array(
      z.object({
        attempt: z.number().int(),
        at: isoInstant,
        url: z.string(),
        httpStatus: z.number().int().nullable(),
        error: z.string().nullable(),
        durationMs: z.number().int(),
      }),
    ),
  })
  .meta({ id: 'PostbackDelivery' });

/** A delivery and its attempts as JSON. */
export function deliveryJson(d: PostbackDelivery, attempts: PostbackAttempt[]): z.output<typeof deliverySchema> {
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
    createdAt: iso(d.createdAt) as string,
    finishedAt: iso(d.finishedAt),
    attempts: attempts
      .filter((a) => a.deliveryId === d.id)
      .map((a) => ({
        attempt: a.attempt,
        at: iso(a.startedAt) as string,
        url: a.url,
        httpStatus: a.httpStatus,
        error: a.error,
        durationMs: a.durationMs,
      })),
  };
}

const deliveryQuery = z.object({
  transactionId: idParameter('transactionId').optional(),
  status: z
    .enum(STATUSES, { error: 'status must be pending, delivered or failed' })
    .optional()
    .meta({ description: 'pending, delivered or failed' }),
});

/** Admin routes for postback deliveries: list with attempts, and retry of a failed one. */
export function postbackRoutes(deps: { postbacks: PostbackService }) {
  return (router: Router): void => {
    apiRoute(
      router,
      {
        method: 'get',
        path: '/postbacks',
        tag: 'Postbacks',
        summary: 'List postback deliveries',
        query: deliveryQuery,
        responses: { 200: { description: 'deliveries with their attempts', schema: z.array(deliverySchema) } },
      },
      async ({ query }, _req, res) => {
        const deliveries = await deps.postbacks.list(query);
        const attempts = await deps.postbacks.attemptsFor(deliveries.map((d) => d.id));
        res.json(deliveries.map((d) => deliveryJson(d, attempts)));
      },
    );

    apiRoute(
      router,
      {
        method: 'post',
        path: '/postbacks/:id/retry',
        tag: 'Postbacks',
        summary: 'Retry a failed delivery',
        params: z.object({ id: idParameter() }),
        responses: { 200: { description: 'the delivery, queued again', schema: deliverySchema } },
        errors: { 404: 'no such delivery', 409: 'the delivery has not failed' },
      },
      async ({ params: { id } }, _req, res) => {
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
      },
    );
  };
}
