import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import express, { NextFunction, Request, Response } from 'express';
import type { HelmetOptions } from 'helmet';
import { adminRouter } from './admin/admin-router';
import { openApiDocumentOf } from './admin/openapi-document';
import { appVersion } from './app-version';
import type { ApiReferenceDocument } from './console/views/api-reference-view';
import { batchRoutes } from './batch/batch-router';
import type { Services } from './composition';
import { consoleRouterFor } from './console/console-router';
import { eventTypeRoutes } from './event-types/event-type-router';
import { merchantRoutes } from './merchants/merchant-router';
import { intakeRoutes } from './intake/intake-router';
import { expressApis, handOver, type PlainRequest } from './http/express-apis';
import { readinessGate } from './http/readiness-gate';
import { requestContext } from './http/request-context';
import { securityHeaders } from './http/security-headers';
import { transactionEditHandler } from './linktrust/transaction-edit-route';
import { metricsRoute } from './metrics/metrics-route';
import { SchemaReadiness } from './store/schema-readiness';
import { postbackRoutes } from './postbacks/postbacks-router';
import { refusalRoutes } from './refusals/refusals-router';
import { processingRoutes } from './processing/processing-router';
import { apiAccountRoutes } from './impact-api/api-accounts-router';
import { impactApiRouter } from './impact-api/impact-api-router';

/**
 * helmet's options for every answer. An XML/JSON API: no inline scripts or frames anywhere; the console
 * sets its own CSP over these.
 */
export const API_HELMET_OPTIONS: Readonly<HelmetOptions> = {
  contentSecurityPolicy: { directives: { defaultSrc: ["'none'"], frameAncestors: ["'none'"] } },
};

/** A middleware or handler of the hot path: Node's request and response, express's APIs on demand. */
type PlainMiddleware = (req: PlainRequest, res: ServerResponse, next: NextFunction) => void;

/**
 * The request listener: the express app, with `GET /transaction.edit` — the hot path — handed to its
 * middlewares and handler directly. No listen(), so tests mount it on their own server.
 */
export function createApp(services: Services): RequestListener {
  return withHotPath(createExpressApp(services));
}

/** What the hot path calls, in the order the app's router calls them. */
interface HotPath {
  steps: [PlainMiddleware, PlainMiddleware, PlainMiddleware];
  notFound: (req: Request, res: Response) => void;
  lastResort: (error: unknown, req: Request, res: Response, next: NextFunction) => void;
}

const hotPaths = new WeakMap<express.Express, HotPath>();

/**
 * `GET /transaction.edit` (exactly that path: any other spelling the router accepts goes to it) without
 * express's router, and without express's per-request `Object.setPrototypeOf` of the request and
 * response: the same middlewares and handler run in the router's order on Node's own objects, which
 * reach for express's APIs (`expressApis`) only on rare paths — an error, an outsized request, a
 * conditional GET — and then get express's own preparation. The answer is the
 * router's, byte for byte (test/http/hot-path.test.ts compares them). Everything else goes to the app.
 */
export function withHotPath(app: express.Express): RequestListener {
  const hot = hotPaths.get(app);
  if (!hot) throw new Error('withHotPath needs an app made by createExpressApp');
  const [headers, context, edit] = hot.steps;
  return (incoming: IncomingMessage, outgoing: ServerResponse) => {
    if (incoming.method !== 'GET' || !isTransactionEditPath(incoming.url ?? '')) {
      app(incoming, outgoing);
      return;
    }
    const req = handOver(app, incoming);
    // As the router does: a thrown error or one passed on goes to the last-resort handler, a plain
    // next() to the 404 — both with express's APIs.
    const next = (error?: unknown) => {
      const { req: request, res: response } = expressApis(req, outgoing);
      if (error === undefined) hot.notFound(request, response);
      else hot.lastResort(error, request, response, () => undefined);
    };
    const guarded = (step: PlainMiddleware, then: () => void) => () => {
      try {
        step(req, outgoing, (error?: unknown) => (error === undefined ? then() : next(error)));
      } catch (error) {
        next(error);
      }
    };
    guarded(
      headers,
      guarded(
        context,
        guarded(edit, () => next()),
      ),
    )();
  };
}

/** `/transaction.edit` with or without a query string, in any letter case (express's routing ignores case). */
function isTransactionEditPath(url: string): boolean {
  const end = url.indexOf('?');
  const path = end === -1 ? url : url.slice(0, end);
  return path.length === 17 && path.toLowerCase() === '/transaction.edit';
}

/** Assembles the express app from the services. */
export function createExpressApp(services: Services): express.Express {
  const { config, logger } = services;
  const app = express();
  app.set('trust proxy', config.trustProxy);
  app.set('etag', false);
  app.disable('x-powered-by');
  // helmet's headers, worked out once at start-up rather than by helmet's middleware chain per request.
  const headers = securityHeaders(API_HELMET_OPTIONS);
  const { instruments } = services;
  const context = requestContext(
    logger,
    instruments ? (path, status, seconds) => instruments.request(path, status, seconds) : undefined,
  );
  // Until every migration is applied, each front door answers "not yet" instead of a system error.
  const readiness = new SchemaReadiness(services.db);
  const edit = transactionEditHandler({
    modifications: services.modifications,
    logger,
    requireHttps: config.security.requireHttps,
    rateLimitDelayMs: config.security.rateLimitDelayMs,
    readiness,
    onAnswer: instruments
      ? (message, rateLimited) => instruments.answered('linktrust', message, rateLimited)
      : undefined,
    onRefusal: (clientIp, campaignId, message) => services.refusals.record('linktrust', clientIp, campaignId, message),
  });
  app.use(headers);
  app.use(context);
  app.all('/transaction.edit', edit);

  // Ready to serve: the database answers and its schema is current (README, Operations).
  app.get('/healthz', async (_req, res) => {
    const problem = await readiness.healthProblem();
    if (problem === null) res.status(200).json({ status: 'ok' });
    else res.status(503).json({ status: 'unavailable', reason: problem });
  });

  // Browsers ask every host for an icon: no content rather than a 404 in every log (the console links its own).
  app.get('/favicon.ico', (_req, res) => {
    res.status(204).set('Cache-Control', 'public, max-age=86400').end();
  });

  app.get('/metrics', metricsRoute(services.metrics, config.metricsToken, services.adminAuthBrake, logger));

  const adminApi = adminRouter({
    admin: services.admin,
    handEdits: services.handEdits,
    adminToken: config.adminToken,
    adminAuthBrake: services.adminAuthBrake,
    logger,
    readiness,
    extend: [
      postbackRoutes({ postbacks: services.postbacks }),
      refusalRoutes({ refusals: services.refusals }),
      processingRoutes({ processing: services.processing }),
      batchRoutes({ batches: services.batches, maxFileBytes: config.batches.maxFileBytes }),
      eventTypeRoutes({ eventTypes: services.eventTypes }),
      intakeRoutes({ intake: services.intake }),
      apiAccountRoutes({ apiAccounts: services.apiAccounts }),
      merchantRoutes({ merchants: services.merchants, merchantUsers: services.merchantUsers }),
    ],
  });
  app.use('/api/v1', adminApi);

  // impact.com's REST API (Actions, APISubmissions, FTPFileSubmissions), as its clients call it.
  app.use(
    '/Advertisers',
    impactApiRouter({ gate: services.impactApiGate, impactApi: services.impactApi, readiness, logger }),
  );

  // The web console: its own CSP, cookies and CSRF checks live in its router.
  app.use(
    '/admin',
    readinessGate(readiness, (reason, res) => {
      res.status(503).type('text/plain; charset=utf-8').send(`Service Unavailable: ${reason}\n`);
    }),
  );
  app.use(
    '/admin',
    consoleRouterFor({
      consoleAuth: services.consoleAuth,
      consoleAudit: services.consoleAudit,
      admin: services.admin,
      handEdits: services.handEdits,
      merchantUsers: services.merchantUsers,
      merchantCampaigns: services.merchantCampaigns,
      apiAccounts: services.apiAccounts,
      eventTypes: services.eventTypes,
      processing: services.processing,
      batches: services.batches,
      refusals: services.refusals,
      intake: services.intake,
      dashboard: services.dashboard,
      logger,
      postbacks: services.postbacks,
      maxUploadBytes: config.batches.maxFileBytes,
      // The page reads the document as plain JSON: the parts it shows, typed loosely.
      apiDocument: () => openApiDocumentOf(adminApi, appVersion()) as unknown as ApiReferenceDocument,
    }),
  );

  const notFound = (req: Request, res: Response) => {
    res.status(404).type('text/plain; charset=utf-8').send('Not Found\n');
  };
  app.use(notFound);
  // Last resort: never an HTML page or a stack trace.
  const lastResort = (error: unknown, req: Request, res: Response, _next: NextFunction) => {
    const status = (error as { status?: number }).status;
    if (status && status >= 400 && status < 500) {
      res
        .status(status)
        .type('text/plain; charset=utf-8')
        .send(`${(error as Error).message}\n`);
      return;
    }
    logger.error({ err: error, reqId: req.id }, 'unhandled error');
    res.status(500).type('text/plain; charset=utf-8').send(`Internal Server Error (request ${req.id})\n`);
  };
  app.use(lastResort);
  hotPaths.set(app, { steps: [headers, context, edit], notFound, lastResort });
  return app;
}
