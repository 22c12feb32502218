import type { Request, Response, Router } from 'express';
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
import { idParam, validate } from '../http/params';
import type { EventTypeService } from './event-type-service';

const iso = (ms: number) => new Date(ms).toISOString();

/** An event type as JSON: amounts and percents as decimal strings. */
export function eventTypeJson(e: EventType) {
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
  .transform((v) => parseMoney(v) as bigint);
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
  const eventTypeId = (req: Request) => idParam(req.params.id, 'id', MAX_EVENT_TYPE_ID);
  return (router: Router): void => {
    router.get('/event-types', async (req: Request, res: Response) => {
      const { campaignId } = req.query;
      const filter = campaignId === undefined ? {} : { campaignId: idParam(campaignId, 'campaignId', MAX_CAMPAIGN_ID) };
      res.json((await eventTypes.list(filter)).map(eventTypeJson));
    });

    router.post('/event-types', async (req: Request, res: Response) => {
      res.status(201).json(eventTypeJson(await eventTypes.create(validate(eventTypeCreate, req.body))));
    });

    router.get('/event-types/:id', async (req: Request, res: Response) => {
      res.json(eventTypeJson(await eventTypes.getExisting(eventTypeId(req))));
    });

    router.patch('/event-types/:id', async (req: Request, res: Response) => {
      const id = eventTypeId(req);
      res.json(eventTypeJson(await eventTypes.update(id, validate(eventTypePatch, req.body))));
    });
  };
}
