import type { Router } from 'express';
import { z } from 'zod';
import {
  DISPOSITION_EFFECTS,
  eventTypeProblems,
  MAX_EVENT_TYPE_ID,
  MAX_LOCKING_DAYS,
  type EventType,
} from '../core/event-type';
import { MAX_CAMPAIGN_ID } from '../core/identifier-limits';
import { formatMoney, parseMoney } from '../core/money';
import { apiRoute } from '../http/api-routes';
import { decimalAmount, idParameter, isoInstant } from '../http/api-schemas';
import type { EventTypeService } from './event-type-service';

const iso = (ms: number) => new Date(ms).toISOString();

/** An event type as the admin API answers it. */
export const eventTypeSchema = z
  .object({
    id: z.number().int().meta({ description: 'the ActionTrackerId' }),
    campaignId: z.number().int(),
    name: z.string(),
    lockingDays: z.number().int(),
    payout: z.object({ type: z.enum(['percent', 'fixed']), value: decimalAmount }),
    dispositionCodes: z.array(z.object({ code: z.string(), effect: z.enum(DISPOSITION_EFFECTS) })),
    createdAt: isoInstant,
    updatedAt: isoInstant,
  })
  .meta({ id: 'EventType' });

/** An event type as JSON: amounts and percents as decimal strings. */
export function eventTypeJson(e: EventType): z.output<typeof eventTypeSchema> {
  return {
    id: e.id,
    campaignId: e.campaignId,
    name: e.name,
    lockingDays: e.lockingDays,
    payout: { type: e.payout.type, value: formatMoney(e.payout.value) },
    dispositionCodes: e.dispositionCodes.map((c) => ({ code: c.code, effect: c.effect })),
    createdAt: iso(e.createdAt),
    updatedAt: iso(e.updatedAt),
  };
}

const money = z
  .string({ message: 'must be a decimal string like "12.50"' })
  .refine(
    (v) => parseMoney(v) !== null,
    'must be a decimal string like "12.50" (at most 4 fraction digits, not negative)',
  )
  .transform((v) => parseMoney(v) as bigint)
  .meta({ description: 'exact decimal string, at most 4 fraction digits', example: '12.50' });
const payout = z.strictObject({ type: z.enum(['percent', 'fixed']), value: money });
const dispositionCode = z.strictObject({ code: z.string(), effect: z.enum(DISPOSITION_EFFECTS) });
const settings = {
  name: z.string().min(1).max(255),
  lockingDays: z.number().int().min(0).max(MAX_LOCKING_DAYS),
  payout,
  dispositionCodes: z.array(dispositionCode),
};

/** The checks of core/event-type (percent ≤ 100, custom codes) as issues on the fields they name. */
function withSettingsChecks<T extends z.ZodType<Parameters<typeof eventTypeProblems>[0]>>(schema: T) {
  return schema.superRefine((value, context) => {
    for (const problem of eventTypeProblems(value)) {
      const path = problem.field.split('.').map((part) => (/^\d+$/.test(part) ? Number(part) : part));
      context.addIssue({ code: 'custom', path, message: problem.message });
    }
  });
}

const eventTypeCreate = withSettingsChecks(
  z.strictObject({
    id: z.number().int().min(1).max(MAX_EVENT_TYPE_ID).optional(),
    campaignId: z.number().int().min(1).max(MAX_CAMPAIGN_ID),
    name: settings.name,
    lockingDays: settings.lockingDays.optional(),
    payout: settings.payout,
    dispositionCodes: settings.dispositionCodes.optional(),
  }),
);
const eventTypePatch = withSettingsChecks(
  z.strictObject({
    name: settings.name.optional(),
    lockingDays: settings.lockingDays.optional(),
    payout: settings.payout.optional(),
    dispositionCodes: settings.dispositionCodes.optional(),
  }),
);

/**
 * Admin routes for impact event types (ActionTrackerIds): `GET /event-types` (`?campaignId=`),
 * `POST /event-types`, `GET /event-types/:id`, `PATCH /event-types/:id`.
 */
export function eventTypeRoutes(deps: { eventTypes: EventTypeService }) {
  const { eventTypes } = deps;
  const tag = 'Event types';
  const idPath = z.object({ id: idParameter('id', MAX_EVENT_TYPE_ID) });
  return (router: Router): void => {
    apiRoute(
      router,
      {
        method: 'get',
        path: '/event-types',
        tag,
        summary: 'List event types',
        query: z.object({ campaignId: idParameter('campaignId', MAX_CAMPAIGN_ID).optional() }),
        responses: { 200: { description: 'the event types', schema: z.array(eventTypeSchema) } },
      },
      async ({ query }, _req, res) => {
        res.json((await eventTypes.list(query.campaignId === undefined ? {} : query)).map(eventTypeJson));
      },
    );

    apiRoute(
      router,
      {
        method: 'post',
        path: '/event-types',
        tag,
        summary: 'Create an event type (ActionTrackerId)',
        description: 'Payout as a percent of the amount or a fixed amount; custom disposition codes and their effect.',
        body: eventTypeCreate,
        responses: { 201: { description: 'the new event type', schema: eventTypeSchema } },
        errors: { 409: 'an event type with this id exists' },
      },
      async ({ body }, _req, res) => {
        res.status(201).json(eventTypeJson(await eventTypes.create(body)));
      },
    );

    apiRoute(
      router,
      {
        method: 'get',
        path: '/event-types/:id',
        tag,
        summary: 'Show an event type',
        params: idPath,
        responses: { 200: { description: 'the event type', schema: eventTypeSchema } },
        errors: { 404: 'no such event type' },
      },
      async ({ params }, _req, res) => {
        res.json(eventTypeJson(await eventTypes.getExisting(params.id)));
      },
    );

    apiRoute(
      router,
      {
        method: 'patch',
        path: '/event-types/:id',
        tag,
        summary: 'Change an event type',
        params: idPath,
        body: eventTypePatch,
        responses: { 200: { description: 'the event type as changed', schema: eventTypeSchema } },
        errors: { 404: 'no such event type' },
      },
      async ({ params, body }, _req, res) => {
        res.json(eventTypeJson(await eventTypes.update(params.id, body)));
      },
    );
  };
}
