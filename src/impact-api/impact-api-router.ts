import express, { type NextFunction, type Request, type Response, Router } from 'express';
import type { RawParameter } from '../core/raw-parameter';
import { databaseTrouble } from '../http/admin-errors';
import { readinessGate } from '../http/readiness-gate';
import type { Logger } from '../logger';
import type { ApiCaller } from '../store/api-account-store';
import type { ApiSubmissionType } from '../store/api-submission-store';
import type { Readiness } from '../store/schema-readiness';
import type { ImpactApiGate, RateLimitState } from './impact-api-gate';
import type { ImpactApiService } from './impact-api-service';
import { answerXml, fileErrorView, fileView, submissionView, type AnswerRecord } from './impact-api-views';

/** Largest request body (form or JSON): an Actions call is a few hundred bytes, a hundred items a few kB. */
const MAX_BODY_BYTES = 64 * 1024;
/** impact.com's default and largest page of a listing. */
const DEFAULT_PAGE_SIZE = 100;
const MAX_PAGE_SIZE = 1000;

type Answer = { status: number; body: AnswerRecord; items?: Record<string, string> };

/** What the routes need. */
export interface ImpactApiRouterDeps {
  gate: ImpactApiGate;
  impactApi: ImpactApiService;
  readiness: Readiness;
  logger: Logger;
}

/**
 * impact.com's REST API for modifications and reversals, mounted at `/Advertisers`: `PUT`/`DELETE
 * /:sid/Actions`, `GET /:sid/APISubmissions/:id`, `GET /:sid/FTPFileSubmissions` and
 * `GET /:sid/FTPFileSubmissions/:batchId/ErrorDetails`. Every call signs in with HTTP Basic
 * `AccountSID:AuthToken` (401 otherwise) as the account the path names (403 for another account's SID),
 * and carries X-RateLimit-Limit/-Remaining/-Reset (429 past the hour's calls). Answers are JSON, or XML
 * with `Accept: application/xml`; a refusal is `{"Status":"ERROR","Message":…}`.
 */
export function impactApiRouter(deps: ImpactApiRouterDeps): Router {
  const router = Router({ caseSensitive: false });
  router.use(
    readinessGate(deps.readiness, (reason, res) => {
      res.status(503).json({ Status: 'ERROR', Message: `Service Unavailable: ${reason}` });
    }),
  );
  router.use(express.raw({ type: 'application/x-www-form-urlencoded', limit: MAX_BODY_BYTES }));
  router.use(express.json({ limit: MAX_BODY_BYTES }));

  const route =
    (work: (req: Request, account: ApiCaller) => Promise<Answer>) => async (req: Request, res: Response) => {
      const xml = req.accepts(['application/json', 'application/xml']) === 'application/xml';
      const send = (answer: Answer) => {
        if (xml)
          res.status(answer.status).type('application/xml; charset=utf-8').send(answerXml(answer.body, answer.items));
        else res.status(answer.status).json(answer.body);
      };
      try {
        const checked = await deps.gate.check(req.ip ?? '', req.headers.authorization);
        if (checked.kind === 'braked' || checked.kind === 'unauthorized') {
          rateHeaders(res, deps.gate.nominal(Date.now()));
          if (checked.kind === 'braked') {
            res.setHeader('Retry-After', String(checked.retryAfterSeconds));
            return send(error(429, 'Too many failed authentications from this address; try again later'));
          }
          res.setHeader('WWW-Authenticate', 'Basic realm="txedit"');
          return send(error(401, 'Authentication failed: give your Account SID and Auth Token (HTTP Basic)'));
        }
        rateHeaders(res, checked.rate);
        if (checked.kind === 'rate_limited') {
          res.setHeader('Retry-After', String(Math.max(1, Math.ceil((checked.rate.resetAt - Date.now()) / 1000))));
          return send(error(429, `Rate limit exceeded: ${checked.rate.limit} calls per hour`));
        }
        if (req.params.sid !== checked.account.accountSid)
          return send(error(403, 'Forbidden: the Account SID in the path is not the one you signed in with'));
        send(await work(req, checked.account));
      } catch (failure) {
        const trouble = databaseTrouble(failure);
        if (trouble) {
          res.setHeader('Retry-After', '5');
          return send(error(503, trouble.message));
        }
        deps.logger.error({ err: failure, reqId: req.id }, 'impact API call failed');
        send(error(500, `Internal Server Error (request ${req.id})`));
      }
    };

  const actions = (type: ApiSubmissionType) =>
    route(async (req, account) => {
      const parameters = parametersOf(req);
      if (typeof parameters === 'string') return error(400, parameters);
      const header = req.headers['idempotency-key'];
      const key = typeof header === 'string' ? header : null;
      const answer = await deps.impactApi.submit(account, type, parameters, key);
      if (!answer.ok) return error(answer.status, answer.message);
      if (answer.replayed) req.res?.setHeader('Idempotent-Replayed', 'true');
      return {
        status: 200,
        body: {
          Status: 'QUEUED',
          QueuedUri: `/Advertisers/${account.accountSid}/APISubmissions/${answer.submission.publicId}`,
        },
      };
    });
  router.put('/:sid/Actions', actions('Modification'));
  router.delete('/:sid/Actions', actions('Reversal'));

  router.get(
    '/:sid/APISubmissions/:id',
    route(async (req, account) => {
      const submission = await deps.impactApi.submission(account, String(req.params.id));
      return submission ? { status: 200, body: submissionView(submission) } : error(404, 'Submission not found');
    }),
  );

  router.get(
    '/:sid/FTPFileSubmissions',
    route(async (req, account) => {
      const paging = pagingOf(req);
      if (typeof paging === 'string') return error(400, paging);
      const { batches, hasMore } = await deps.impactApi.files(account, paging);
      const base = `/Advertisers/${account.accountSid}/FTPFileSubmissions`;
      const next = new URLSearchParams({
        ...stringQuery(req),
        Page: String(paging.page + 1),
        PageSize: String(paging.pageSize),
      });
      return {
        status: 200,
        body: {
          '@page': paging.page,
          '@pagesize': paging.pageSize,
          '@nextpageuri': hasMore ? `${base}?${next}` : '',
          FTPFileSubmissions: batches.map((batch) => fileView(account.accountSid, batch)),
        },
        items: { FTPFileSubmissions: 'FTPFileSubmission' },
      };
    }),
  );

  router.get(
    '/:sid/FTPFileSubmissions/:batchId/ErrorDetails',
    route(async (req, account) => {
      const id = /^(?:F-)?([1-9][0-9]{0,15})$/i.exec(String(req.params.batchId));
      const errors = id ? await deps.impactApi.fileErrors(account, Number(id[1])) : null;
      if (errors === null) return error(404, 'File submission not found');
      return {
        status: 200,
        body: { BatchId: `F-${Number(id![1])}`, ErrorDetails: errors.map(fileErrorView) },
        items: { ErrorDetails: 'ErrorDetail' },
      };
    }),
  );

  // A body that cannot be read (bad JSON, too large) is answered as impact.com answers, never as a page.
  router.use((failure: unknown, req: Request, res: Response, next: NextFunction) => {
    const status = (failure as { status?: number }).status;
    if (!status || status >= 500) return next(failure);
    res.status(status).json({ Status: 'ERROR', Message: (failure as Error).message });
  });
  return router;
}

function error(status: number, message: string): Answer {
  return { status, body: { Status: 'ERROR', Message: message } };
}

function rateHeaders(res: Response, rate: RateLimitState): void {
  res.setHeader('X-RateLimit-Limit', String(rate.limit));
  res.setHeader('X-RateLimit-Remaining', String(rate.remaining));
  // When the hour's window ends, in seconds since the epoch.
  res.setHeader('X-RateLimit-Reset', String(Math.ceil(rate.resetAt / 1000)));
}

/**
 * The call's parameters: the query string's, then the body's (form-urlencoded or a JSON object of plain
 * values), as impact.com's clients send them; or why they cannot be read.
 */
function parametersOf(req: Request): RawParameter[] | string {
  const parameters: RawParameter[] = [];
  const query = req.url.indexOf('?');
  if (query !== -1)
    for (const [name, value] of new URLSearchParams(req.url.slice(query + 1))) parameters.push({ name, value });
  const body: unknown = req.body;
  if (Buffer.isBuffer(body)) {
    for (const [name, value] of new URLSearchParams(body.toString('utf8'))) parameters.push({ name, value });
  } else if (body !== undefined && body !== null && !(typeof body === 'object' && Object.keys(body).length === 0)) {
    if (typeof body !== 'object' || Array.isArray(body)) return 'The JSON body must be an object of parameters';
    for (const [name, value] of Object.entries(body as Record<string, unknown>)) {
      if (typeof value === 'string') parameters.push({ name, value });
      else if (typeof value === 'number' && Number.isFinite(value)) parameters.push({ name, value: String(value) });
      else return `Parameter ${name.slice(0, 40)}: must be a string or a number`;
    }
  }
  return parameters;
}

/** The query string's values (the first of each name). */
function stringQuery(req: Request): Record<string, string> {
  const query = req.url.indexOf('?');
  const values: Record<string, string> = {};
  if (query !== -1)
    for (const [name, value] of new URLSearchParams(req.url.slice(query + 1)))
      if (!(name in values)) values[name] = value;
  return values;
}

/**
 * impact.com's listing parameters: `Page` (from 1), `PageSize` (default 100, at most 1000),
 * `SubmissionDateStart` and `SubmissionDateEnd` (ISO 8601). Any other parameter is refused.
 */
function pagingOf(req: Request): { page: number; pageSize: number; from?: number; to?: number } | string {
  const paging: { page: number; pageSize: number; from?: number; to?: number } = {
    page: 1,
    pageSize: DEFAULT_PAGE_SIZE,
  };
  for (const [name, value] of Object.entries(stringQuery(req))) {
    const lower = name.toLowerCase();
    if (lower === 'page' || lower === 'pagesize') {
      const number = /^[0-9]{1,6}$/.test(value) ? Number(value) : 0;
      const max = lower === 'page' ? 100_000 : MAX_PAGE_SIZE;
      if (number < 1 || number > max) return `${name}: must be a whole number from 1 to ${max}`;
      if (lower === 'page') paging.page = number;
      else paging.pageSize = number;
    } else if (lower === 'submissiondatestart' || lower === 'submissiondateend') {
      const ms = Date.parse(value);
      if (Number.isNaN(ms)) return `${name}: must be an ISO 8601 date-time`;
      if (lower === 'submissiondatestart') paging.from = ms;
      else paging.to = ms;
    } else return `Unknown parameter: ${name.slice(0, 40)}`;
  }
  return paging;
}
