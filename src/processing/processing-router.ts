import type { NextFunction, Request, Response, Router } from 'express';
import { z } from 'zod';
import { AdminError, invalid } from '../http/admin-errors';
import { idParam, validate } from '../http/params';
import { MAX_CAMPAIGN_ID } from '../core/identifier-limits';
import type { ProcessingService } from './processing-service';
import {
  dailyRowJson,
  hourlyRowJson,
  nightlyReportJson,
  parseInstant,
  rollupJson,
  statusJson,
} from './processing-json';
import { isReportingDate } from './reporting-calendar';

const instant = z
  .string()
  .refine((v) => parseInstant(v) !== null, 'must be an ISO 8601 date-time with a zone, e.g. 2026-11-25T10:00:00Z')
  .transform((v) => parseInstant(v) as number);
const date = z.string().refine(isReportingDate, 'must be a date YYYY-MM-DD');

const hourlyRun = z.strictObject({ through: instant.optional() });
const nightlyRun = z.strictObject({ date: date.optional() });
const nightlyHold = z.strictObject({ inProgress: z.boolean({ message: 'must be true or false' }) });

const DEFAULT_REPORT_ROWS = 1000;
const MAX_REPORT_ROWS = 10_000;

type Handler = (req: Request, res: Response) => Promise<void>;
const route = (handler: Handler) => (req: Request, res: Response, next: NextFunction) => handler(req, res).catch(next);

/** One query parameter's value; absent or empty → undefined; given twice → 400. */
function queryValue(req: Request, name: string): string | undefined {
  const value = req.query[name];
  if (value === undefined || value === '') return undefined;
  if (typeof value !== 'string') throw invalid(`${name} must be given once`);
  return value;
}

function queryParsed<T>(
  req: Request,
  name: string,
  parse: (text: string) => T | null,
  expected: string,
): T | undefined {
  const text = queryValue(req, name);
  if (text === undefined) return undefined;
  const value = parse(text);
  if (value === null) throw invalid(`${name} must be ${expected}`);
  return value;
}

/** The filter every report takes: campaignId, affiliateId and a row limit. */
function reportFilter(req: Request) {
  const campaignId = queryValue(req, 'campaignId');
  const affiliateId = queryValue(req, 'affiliateId');
  const limit = queryValue(req, 'limit');
  return {
    campaignId: campaignId === undefined ? undefined : idParam(campaignId, 'campaignId', MAX_CAMPAIGN_ID),
    affiliateId: affiliateId === undefined ? undefined : idParam(affiliateId, 'affiliateId', MAX_CAMPAIGN_ID),
    limit:
      limit === undefined ? DEFAULT_REPORT_ROWS : idParam(limit, `limit (at most ${MAX_REPORT_ROWS})`, MAX_REPORT_ROWS),
  };
}

/**
 * Processing and report routes of the admin API. Mounted inside the admin router (its bearer auth, JSON
 * body parser and error handler apply): `/processing…` and `/reports/…`.
 */
export function processingRoutes(deps: { processing: ProcessingService }) {
  const { processing } = deps;
  return (router: Router): void => {
    router.get(
      '/processing',
      route(async (_req, res) => {
        res.json(statusJson(await processing.status()));
      }),
    );

    router.post(
      '/processing/hourly/run',
      route(async (req, res) => {
        const { through } = validate(hourlyRun, req.body);
        res.json(rollupJson(await processing.runHourly({ through })));
      }),
    );

    router.post(
      '/processing/nightly/run',
      route(async (req, res) => {
        const outcome = await processing.runNightly(validate(nightlyRun, req.body));
        switch (outcome.kind) {
          case 'completed':
            res.json(nightlyReportJson(outcome.report));
            return;
          case 'already_in_progress': {
            const since = outcome.startedAt === null ? '' : ` since ${new Date(outcome.startedAt).toISOString()}`;
            throw new AdminError(
              409,
              'nightly_in_progress',
              `nightly processing is already in progress (or held by hand)${since}; a run that died stops counting when its lease expires, or release it with PUT /api/v1/processing/nightly {"inProgress": false}`,
            );
          }
          case 'day_not_over':
            throw new AdminError(
              409,
              'day_not_over',
              `${outcome.date} in ${processing.calendar.timeZone} is not over: its last hour ends at ${new Date(outcome.hoursEndAt).toISOString()}`,
            );
          case 'already_completed':
            throw new AdminError(409, 'already_completed', `nightly processing already completed ${outcome.date}`);
        }
      }),
    );

    router.put(
      '/processing/nightly',
      route(async (req, res) => {
        const { inProgress } = validate(nightlyHold, req.body);
        res.json(statusJson(await processing.holdNightly(inProgress)));
      }),
    );

    router.get(
      '/reports/hourly',
      route(async (req, res) => {
        const filter = reportFilter(req);
        const from = queryParsed(req, 'from', parseInstant, 'an ISO 8601 date-time with a zone');
        const to = queryParsed(req, 'to', parseInstant, 'an ISO 8601 date-time with a zone');
        res.json((await processing.hourlyReport({ ...filter, from, to })).map(hourlyRowJson));
      }),
    );

    router.get(
      '/reports/daily',
      route(async (req, res) => {
        const filter = reportFilter(req);
        const asDate = (text: string) => (isReportingDate(text) ? text : null);
        const from = queryParsed(req, 'from', asDate, 'a date YYYY-MM-DD');
        const to = queryParsed(req, 'to', asDate, 'a date YYYY-MM-DD');
        res.json((await processing.dailyReport({ ...filter, from, to })).map(dailyRowJson));
      }),
    );
  };
}
