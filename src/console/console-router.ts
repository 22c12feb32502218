import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import express, { NextFunction, Request, Response, Router } from 'express';
import helmet from 'helmet';
import { AdminError, databaseTrouble } from '../http/admin-errors';
import { clearConsoleCookie, readCookie, SESSION_COOKIE } from './console-cookies';
import { actorOf, ConsoleContext, route, sessionOf } from './console-context';
import { requireCsrf, requireSession, sendRefusal } from './console-guard';
import { boundaryOf, parseMultipart } from './multipart';
import { apiAccountsRoutes } from './routes/api-accounts-routes';
import { auditRoutes } from './routes/audit-routes';
import { refusalRoutes } from './routes/refusal-routes';
import { reportRoutes } from './routes/report-routes';
import { dashboardRoutes } from './routes/dashboard-routes';
import { batchRoutes } from './routes/batch-routes';
import { affiliateRoutes } from './routes/affiliate-routes';
import { campaignCredentialRoutes } from './routes/campaign-credential-routes';
import { campaignRoutes } from './routes/campaign-routes';
import { eventTypeRoutes } from './routes/event-type-routes';
import { processingRoutes } from './routes/processing-routes';
import { signInRoutes } from './routes/sign-in-routes';
import { setPasswordRoutes } from './routes/set-password-routes';
import { transactionRoutes } from './routes/transaction-routes';
import { whitelistRoutes } from './routes/whitelist-routes';
import { intakeRoutes } from './routes/intake-routes';
import { apiReferenceRoutes } from './routes/api-reference-routes';
import type { ApiReferenceDocument } from './views/api-reference-view';
import { CONSOLE_CSS } from './static/console-css';
import { CONSOLE_JS } from './static/console-js';
import type { Services } from '../composition';
import type { AssetUrls } from './views/layout';

const digest = (text: string) => crypto.createHash('sha256').update(text).digest('hex').slice(0, 12);
// Chart.js's self-contained UMD build, served from here (no CDN). The package exports no path to it,
// so it is found beside its CommonJS entry.
const CHART_JS = fs.readFileSync(path.join(path.dirname(require.resolve('chart.js')), 'chart.umd.min.js'), 'utf8');
const ASSETS = {
  css: { path: `/static/console-${digest(CONSOLE_CSS)}.css`, type: 'text/css; charset=utf-8', body: CONSOLE_CSS },
  js: { path: `/static/console-${digest(CONSOLE_JS)}.js`, type: 'text/javascript; charset=utf-8', body: CONSOLE_JS },
  chart: { path: `/static/chart-${digest(CHART_JS)}.js`, type: 'text/javascript; charset=utf-8', body: CHART_JS },
};

/** The URLs of the console's stylesheet and script (content-hashed, so they can be cached for good). */
export const CONSOLE_ASSETS: AssetUrls = {
  css: `/admin${ASSETS.css.path}`,
  js: `/admin${ASSETS.js.path}`,
  chart: `/admin${ASSETS.chart.path}`,
};

/**
 * The console's own Content-Security-Policy, replacing the API's `default-src 'none'`: styles and the
 * one script from this origin only, no inline code, forms posting only here, never framed.
 */
const consoleCsp = helmet({
  contentSecurityPolicy: {
    useDefaults: false,
    directives: {
      defaultSrc: ["'none'"],
      styleSrc: ["'self'"],
      scriptSrc: ["'self'"],
      imgSrc: ["'self'", 'data:'],
      connectSrc: ["'self'"],
      formAction: ["'self'"],
      frameAncestors: ["'none'"],
      baseUri: ["'none'"],
    },
  },
  // Same-origin referrers are not needed; never leak console URLs elsewhere.
  referrerPolicy: { policy: 'no-referrer' },
  xFrameOptions: { action: 'deny' },
});

// Multipart bodies (the batch upload) are read only after the session check, and parsed into parts
// so the CSRF check can read the `_csrf` field like any other form's.
function multipartBody(maxBytes: number) {
  const raw = express.raw({ type: 'multipart/form-data', limit: maxBytes });
  return (req: Request, res: Response, next: NextFunction): void => {
    const boundary = boundaryOf(req.get('content-type'));
    if (req.method !== 'POST' || boundary === null) {
      next();
      return;
    }
    raw(req, res, (error?: unknown) => {
      if (error) {
        next(error);
        return;
      }
      const parts = Buffer.isBuffer(req.body) ? parseMultipart(req.body, boundary) : null;
      res.locals.multipartParts = parts ?? [];
      const fields: Record<string, string> = {};
      for (const part of parts ?? []) if (part.filename === null) fields[part.name] = part.data.toString('utf8');
      req.body = fields;
      next();
    });
  };
}

/** What a merchant user's session may request (method, path below /admin). */
const MERCHANT_PATHS: ReadonlyArray<[string, RegExp]> = [
  ['GET', /^\/$/],
  ['HEAD', /^\/$/],
  ['POST', /^\/sign-out$/],
  ['GET', /^\/transactions$/],
  ['HEAD', /^\/transactions$/],
  ['GET', /^\/transactions\/[^/]+$/],
  ['HEAD', /^\/transactions\/[^/]+$/],
  ['POST', /^\/transactions\/[^/]+\/amend$/],
  // Its own campaigns (posting URLs), and with self-service their password and white-list.
  ['GET', /^\/campaigns$/],
  ['HEAD', /^\/campaigns$/],
  ['GET', /^\/campaigns\/[^/]+$/],
  ['HEAD', /^\/campaigns\/[^/]+$/],
  ['POST', /^\/campaigns\/[^/]+\/password$/],
  ['POST', /^\/campaigns\/[^/]+\/whitelist$/],
  ['POST', /^\/campaigns\/[^/]+\/whitelist\/[^/]+\/remove$/],
  // What its CRM's requests were refused with.
  ['GET', /^\/refusals$/],
  ['HEAD', /^\/refusals$/],
  // Its campaigns' reports (scoped by campaignScopeOf in the routes).
  ['GET', /^\/reports$/],
  ['HEAD', /^\/reports$/],
  ['GET', /^\/reports\.csv$/],
  ['HEAD', /^\/reports\.csv$/],
  // Batches: the routes show a merchant only its own (batch-routes.ts).
  ['GET', /^\/batches$/],
  ['HEAD', /^\/batches$/],
  ['POST', /^\/batches$/],
  ['GET', /^\/batches\/table$/],
  ['GET', /^\/batches\/[^/]+$/],
  ['HEAD', /^\/batches\/[^/]+$/],
  ['GET', /^\/batches\/[^/]+\/results$/],
  ['HEAD', /^\/batches\/[^/]+\/results$/],
];

/** The web console at /admin: server-rendered pages over the services, behind a session. */
export function consoleRouter(context: ConsoleContext): Router {
  const router = express.Router();
  router.use(consoleCsp);
  router.use((_req, res, next) => {
    // Pages show campaign settings and history: never keep them in shared or browser caches.
    res.set('Cache-Control', 'no-store');
    next();
  });
  for (const asset of Object.values(ASSETS)) {
    router.get(asset.path, (_req, res) => {
      res.set('Cache-Control', 'public, max-age=31536000, immutable').type(asset.type).send(asset.body);
    });
  }
  router.use(express.urlencoded({ extended: false, limit: '64kb', parameterLimit: 50 }));
  signInRoutes(router, context);
  setPasswordRoutes(router, context);

  router.use(requireSession(context.auth, context.assets));
  // Slack for the multipart envelope around the file (boundaries, part headers, the CSRF field).
  router.use(multipartBody(context.maxUploadBytes + 64 * 1024));
  router.use(requireCsrf(context.assets));

  // A merchant user's session reaches only the addresses below; every other one answers 404, exactly as an
  // address that does not exist (deny by default: a page added later is an admin's until opened here).
  router.use((req: Request, res: Response, next: NextFunction) => {
    if (
      sessionOf(res).merchantId === null ||
      MERCHANT_PATHS.some(([method, path]) => method === req.method && path.test(req.path))
    )
      return next();
    sendRefusal(res, context.assets, 404, 'Page not found', 'There is no console page at this address.');
  });

  // A merchant's landing page is its transactions; an admin's the dashboard (below).
  router.get('/', (_req: Request, res: Response, next: NextFunction) =>
    sessionOf(res).merchantId === null ? next() : res.redirect(303, '/admin/transactions'),
  );
  router.post(
    '/sign-out',
    route(async (req, res) => {
      const who = actorOf(req, res);
      await context.auth.signOut(readCookie(req, SESSION_COOKIE), context.audit.within(who, 'session.sign_out', null));
      clearConsoleCookie(req, res, SESSION_COOKIE);
      res.redirect(303, '/admin/sign-in?done=signed-out');
    }),
  );
  dashboardRoutes(router, context);
  campaignRoutes(router, context);
  campaignCredentialRoutes(router, context);
  affiliateRoutes(router, context);
  intakeRoutes(router, context);
  eventTypeRoutes(router, context);
  whitelistRoutes(router, context);
  apiAccountsRoutes(router, context);
  transactionRoutes(router, context);
  batchRoutes(router, context);
  processingRoutes(router, context);
  reportRoutes(router, context);
  refusalRoutes(router, context);
  auditRoutes(router, context);
  apiReferenceRoutes(router, context);

  router.use((_req: Request, res: Response) => {
    sendRefusal(res, context.assets, 404, 'Page not found', 'There is no console page at this address.');
  });
  router.use((error: unknown, req: Request, res: Response, _next: NextFunction) => {
    const status = (error as { status?: number }).status;
    if (status === 413) {
      const megabytes = Math.floor(context.maxUploadBytes / (1024 * 1024));
      sendRefusal(
        res,
        context.assets,
        413,
        'Too large',
        `The upload is larger than the limit of ${megabytes} MB (BATCH_MAX_FILE_MB).`,
      );
      return;
    }
    if (error instanceof AdminError && error.status < 500) {
      sendRefusal(res, context.assets, error.status, 'Not possible', error.message);
      return;
    }
    if (status && status >= 400 && status < 500) {
      sendRefusal(
        res,
        context.assets,
        status,
        'Request refused',
        'The browser sent a request the console could not read.',
      );
      return;
    }
    if (databaseTrouble(error)) {
      context.logger.warn({ err: error, reqId: req.id }, 'console: database trouble after retries');
      res.set('Retry-After', '1');
      sendRefusal(
        res,
        context.assets,
        503,
        'Database busy',
        'The database could not complete this just now. Check the page, then try again in a moment.',
      );
      return;
    }
    context.logger.error({ err: error, reqId: req.id }, 'console page failed');
    sendRefusal(
      res,
      context.assets,
      500,
      'Something went wrong',
      `The console could not complete this. The error is logged under request ${req.id}.`,
    );
  });
  return router;
}

/** What the console uses of the app's services: the slice `createApp` hands it. */
export type ConsoleServices = Pick<
  Services,
  | 'consoleAuth'
  | 'consoleAudit'
  | 'admin'
  | 'handEdits'
  | 'merchantUsers'
  | 'merchantCampaigns'
  | 'apiAccounts'
  | 'eventTypes'
  | 'postbacks'
  | 'processing'
  | 'batches'
  | 'refusals'
  | 'intake'
  | 'dashboard'
  | 'logger'
> & {
  /** BATCH_MAX_FILE_MB, in bytes. */
  maxUploadBytes: number;
  /** The admin API's OpenAPI document. */
  apiDocument: () => ApiReferenceDocument;
};

/** The console mounted over its slice of the app's services (what `createApp` uses). */
export function consoleRouterFor(services: ConsoleServices): Router {
  return consoleRouter({
    auth: services.consoleAuth,
    audit: services.consoleAudit,
    admin: services.admin,
    handEdits: services.handEdits,
    merchantUsers: services.merchantUsers,
    merchantCampaigns: services.merchantCampaigns,
    apiAccounts: services.apiAccounts,
    eventTypes: services.eventTypes,
    postbacks: services.postbacks,
    processing: services.processing,
    batches: services.batches,
    refusals: services.refusals,
    intake: services.intake,
    dashboard: services.dashboard,
    maxUploadBytes: services.maxUploadBytes,
    logger: services.logger,
    assets: CONSOLE_ASSETS,
    apiDocument: services.apiDocument,
  });
}
