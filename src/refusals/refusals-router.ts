import type { Router } from 'express';
import { z } from 'zod';
import { normaliseClientIp } from '../auth/ip-address';
import { apiRoute } from '../http/api-routes';
import { idParameter, isoInstant } from '../http/api-schemas';
import { validateParameters } from '../http/params';
import { MAX_CAMPAIGN_ID } from '../core/identifier-limits';
import type { RefusalCount, RefusalQuery } from '../store/refusal-store';
import type { RefusalTally } from './refusal-tally';

const MAX_LIMIT = 1000;
const DEFAULT_LIMIT = 100;

/** A count of refusals as the admin API answers it. */
export const refusalSchema = z
  .object({
    door: z.string().meta({ description: 'the front door that refused (`linktrust`)' }),
    clientIp: z.string(),
    campaignId: z.number().int().nullable().meta({ description: 'null when the request named no known campaign' }),
    message: z.string().meta({ description: 'the refusal, word for word as the client got it' }),
    count: z.number().int(),
    firstAt: isoInstant,
    lastAt: isoInstant,
  })
  .meta({ id: 'RefusalCount' });

/** A count as JSON. */
export function refusalJson(r: RefusalCount): z.output<typeof refusalSchema> {
  return {
    door: r.door,
    clientIp: r.clientIp,
    campaignId: r.campaignId,
    message: r.message,
    count: r.count,
    firstAt: new Date(r.firstAt).toISOString(),
    lastAt: new Date(r.lastAt).toISOString(),
  };
}

const SINCE_MESSAGE = 'since must be an ISO date or time, e.g. 2026-12-05T00:00:00Z';
const CLIENT_IP_MESSAGE = 'clientIp must be an IPv4 or IPv6 address';

/** The query of a refusals list (admin API and console alike). */
export const refusalQuery = z.object({
  campaignId: idParameter('campaignId', MAX_CAMPAIGN_ID).optional(),
  clientIp: z
    .string({ error: CLIENT_IP_MESSAGE })
    .max(45, CLIENT_IP_MESSAGE)
    .regex(/^[0-9A-Fa-f:.]+$/, CLIENT_IP_MESSAGE)
    .transform(normaliseClientIp)
    .meta({ description: 'an IPv4 or IPv6 address' })
    .optional(),
  since: z
    .string({ error: SINCE_MESSAGE })
    .regex(/^\d{4}-\d{2}-\d{2}/, SINCE_MESSAGE)
    .refine((text) => !Number.isNaN(Date.parse(text)), SINCE_MESSAGE)
    .transform((text) => Date.parse(text))
    .meta({ description: 'only those refused again since this ISO date or time' })
    .optional(),
  limit: idParameter('limit', MAX_LIMIT, `rows, at most ${MAX_LIMIT} (default ${DEFAULT_LIMIT})`).optional(),
});

/** The query of a refusals list (admin API and console alike), or a 400 naming what is wrong. */
export function refusalQueryOf(query: Record<string, unknown>): RefusalQuery {
  return queryOf(validateParameters(refusalQuery, query));
}

function queryOf(query: z.output<typeof refusalQuery>): RefusalQuery {
  return {
    campaignIds: query.campaignId === undefined ? undefined : [query.campaignId],
    clientIp: query.clientIp,
    since: query.since,
    limit: query.limit ?? DEFAULT_LIMIT,
  };
}

/** `GET /refusals`: what /transaction.edit refused, per client address, campaign and message. */
export function refusalRoutes(deps: { refusals: RefusalTally }) {
  return (router: Router): void => {
    apiRoute(
      router,
      {
        method: 'get',
        path: '/refusals',
        tag: 'Refusals',
        summary: 'List refusals of /transaction.edit',
        description: 'Per client address, campaign and message: how often, first and last; newest last refusal first.',
        query: refusalQuery,
        responses: { 200: { description: 'the counts', schema: z.array(refusalSchema) } },
      },
      async ({ query }, _req, res) => {
        res.json((await deps.refusals.list(queryOf(query))).map(refusalJson));
      },
    );
  };
}
