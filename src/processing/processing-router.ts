import type { Router } from 'express';
import { z } from 'zod';
import { AdminError } from '../http/admin-errors';
import { apiRoute } from '../http/api-routes';
import { isIdText } from '../http/api-schemas';
import { MAX_CAMPAIGN_ID } from '../core/identifier-limits';
import type { ProcessingService } from './processing-service';
import {
  dailyRowJson,
  dailyRowSchema,
  hourlyRowJson,
  hourlyRowSchema,
  nightlyReportJson,
  nightlyReportSchema,
  parseInstant,
  rollupJson,
  rollupSchema,
  statusJson,
  statusSchema,
} from './processing-json';
import { isReportingDate } from './reporting-calendar';

const instant = z
  .string()
  .refine((v) => parseInstant(v) !== null, 'must be an ISO 8601 date-time with a zone, e.g. 2026-11-25T10:00:00Z')
  .transform((v) => parseInstant(v) as number)
  .meta({ description: 'ISO 8601 date-time with a zone, e.g. 2026-11-25T10:00:00Z' });
const date = z.string().refine(isReportingDate, 'must be a date YYYY-MM-DD').meta({ description: 'YYYY-MM-DD' });

const hourlyRun = z.strictObject({ through: instant.optional() });
const nightlyRun = z.strictObject({ date: date.optional() });
const nightlyHold = z.strictObject({ inProgress: z.boolean({ message: 'must be true or false' }) });

const DEFAULT_REPORT_ROWS = 1000;
const MAX_REPORT_ROWS = 10_000;

/**
 * A report's query parameter: absent or empty → undefined; given twice → `NAME must be given once`;
 * else `parse` reads it or the answer is `NAME must be EXPECTED`.
 */
function reportParameter<T>(name: string, parse: (text: string) => T | null, expected: string, description: string) {
  return z
    .string({ error: `${name} must be given once` })
    .refine((text) => text === '' || parse(text) !== null, `${name} must be ${expected}`)
    .transform((text) => (text === '' ? undefined : (parse(text) as T)))
    .meta({ description })
    .optional();
}

const idOf = (max: number) => (text: string) => (isIdText(text, max) ? Number(text) : null);
const reportFilter = {
  campaignId: reportParameter('campaignId', idOf(MAX_CAMPAIGN_ID), 'a positive integer', 'only this campaign'),
  affiliateId: reportParameter('affiliateId', idOf(MAX_CAMPAIGN_ID), 'a positive integer', 'only this affiliate'),
  limit: reportParameter(
    `limit (at most ${MAX_REPORT_ROWS})`,
    idOf(MAX_REPORT_ROWS),
    'a positive integer',
    `rows, at most ${MAX_REPORT_ROWS} (default ${DEFAULT_REPORT_ROWS})`,
  ),
};
const instantText = 'an ISO 8601 date-time with a zone';
const hourlyQuery = z.object({
  ...reportFilter,
  from: reportParameter('from', parseInstant, instantText, 'hours from this instant (ISO 8601 with a zone)'),
  to: reportParameter('to', parseInstant, instantText, 'hours before this instant (ISO 8601 with a zone)'),
});
const asDate = (text: string) => (isReportingDate(text) ? text : null);
const dailyQuery = z.object({
  ...reportFilter,
  from: reportParameter('from', asDate, 'a date YYYY-MM-DD', 'first reporting day, YYYY-MM-DD'),
  to: reportParameter('to', asDate, 'a date YYYY-MM-DD', 'last reporting day, YYYY-MM-DD'),
});

/**
 * Processing and report routes of the admin API. Mounted inside the admin router (its bearer auth, JSON
 * body parser and error handler apply): `/processing…` and `/reports/…`.
 */
export function processingRoutes(deps: { processing: ProcessingService }) {
  const { processing } = deps;
  return (router: Router): void => {
    apiRoute(
      router,
      {
        method: 'get',
        path: '/processing',
        tag: 'Processing',
        summary: 'Show the processing state',
        responses: { 200: { description: 'nightly and hourly processing', schema: statusSchema } },
      },
      async (_input, _req, res) => {
        res.json(statusJson(await processing.status()));
      },
    );

    apiRoute(
      router,
      {
        method: 'post',
        path: '/processing/hourly/run',
        tag: 'Processing',
        summary: 'Run the hourly roll-up now',
        description: 'Rolls up the hours that are over (through `through` when given).',
        body: hourlyRun,
        responses: { 200: { description: 'the watermark before and after', schema: rollupSchema } },
      },
      async ({ body }, _req, res) => {
        res.json(rollupJson(await processing.runHourly(body)));
      },
    );

    apiRoute(
      router,
      {
        method: 'post',
        path: '/processing/nightly/run',
        tag: 'Processing',
        summary: 'Run nightly processing now',
        description: 'For `date`, or the previous reporting day.',
        body: nightlyRun,
        responses: { 200: { description: 'the completed run', schema: nightlyReportSchema } },
        errors: {
          409: '`nightly_in_progress`: a run holds the lease or a hold is set; `day_not_over`; `already_completed`',
        },
      },
      async ({ body }, _req, res) => {
        const outcome = await processing.runNightly(body);
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
      },
    );

    apiRoute(
      router,
      {
        method: 'put',
        path: '/processing/nightly',
        tag: 'Processing',
        summary: 'Hold or release the nightly flag by hand',
        description: 'While held, /transaction.edit answers "Nightly processing in progress".',
        body: nightlyHold,
        responses: { 200: { description: 'the processing state', schema: statusSchema } },
      },
      async ({ body }, _req, res) => {
        res.json(statusJson(await processing.holdNightly(body.inProgress)));
      },
    );

    apiRoute(
      router,
      {
        method: 'get',
        path: '/reports/hourly',
        tag: 'Reports',
        summary: 'Hourly statistics',
        query: hourlyQuery,
        responses: { 200: { description: 'rows per hour, campaign and affiliate', schema: z.array(hourlyRowSchema) } },
      },
      async ({ query }, _req, res) => {
        const { limit, ...filter } = query;
        res.json(
          (await processing.hourlyReport({ ...filter, limit: limit ?? DEFAULT_REPORT_ROWS })).map(hourlyRowJson),
        );
      },
    );

    apiRoute(
      router,
      {
        method: 'get',
        path: '/reports/daily',
        tag: 'Reports',
        summary: 'Daily statistics',
        description: 'Days of REPORTING_TIMEZONE, as nightly processing computed them.',
        query: dailyQuery,
        responses: { 200: { description: 'rows per day, campaign and affiliate', schema: z.array(dailyRowSchema) } },
      },
      async ({ query }, _req, res) => {
        const { limit, ...filter } = query;
        res.json((await processing.dailyReport({ ...filter, limit: limit ?? DEFAULT_REPORT_ROWS })).map(dailyRowJson));
      },
    );
  };
}
