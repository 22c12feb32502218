import express, { NextFunction, Request, Response } from 'express';
import type { HelmetOptions } from 'helmet';
import { adminRouter } from './admin/admin-router';
import { batchRoutes } from './batch/batch-router';
import type { Services } from './composition';
import { consoleRouterFor } from './console/console-router';
import { requestContext } from './http/request-context';
import { securityHeaders } from './http/security-headers';
import { transactionEditHandler } from './linktrust/transaction-edit-route';
import { databaseIsReachable } from './store/database';
import { postbackRoutes } from './postbacks/postbacks-router';
import { processingRoutes } from './processing/processing-router';

/**
 * helmet's options for every answer. An XML/JSON API: no inline scripts or frames anywhere; the console
 * sets its own CSP over these.
 */
export const API_HELMET_OPTIONS: Readonly<HelmetOptions> = {
  contentSecurityPolicy: { directives: { defaultSrc: ["'none'"], frameAncestors: ["'none'"] } },
};

/** Assembles the express app from the services; no listen(), so tests mount it on their own server. */
export function createApp(services: Services): express.Express {
  const { config, logger } = services;
  const app = express();
  app.set('trust proxy', config.trustProxy);
  app.set('etag', false);
  app.disable('x-powered-by');
  // helmet's headers, worked out once at start-up rather than by helmet's middleware chain per request.
  app.use(securityHeaders(API_HELMET_OPTIONS));
  app.use(requestContext(logger));

  app.all(
    '/transaction.edit',
    transactionEditHandler({
      modifications: services.modifications,
      idempotency: services.idempotency,
      logger,
      requireHttps: config.security.requireHttps,
      rateLimitDelayMs: config.security.rateLimitDelayMs,
    }),
  );

  app.get('/healthz', async (_req, res) => {
    const ok = await databaseIsReachable(services.db);
    res.status(ok ? 200 : 503).json({ status: ok ? 'ok' : 'unavailable' });
  });

  app.use(
    '/api/v1',
    adminRouter({
      admin: services.admin,
      adminToken: config.adminToken,
      logger,
      extend: [
        postbackRoutes({ postbacks: services.stores.postbacks, onRequeued: () => services.postbackWorker.wake() }),
        processingRoutes({ processing: services.processing }),
        batchRoutes({ batches: services.batches, maxFileBytes: config.batches.maxFileBytes }),
      ],
    }),
  );

  // The web console: its own CSP, cookies and CSRF checks live in its router.
  app.use('/admin', consoleRouterFor(services));

  app.use((req: Request, res: Response) => {
    res.status(404).type('text/plain; charset=utf-8').send('Not Found\n');
  });
  // Last resort: never an HTML page or a stack trace.
  app.use((error: unknown, req: Request, res: Response, _next: NextFunction) => {
    const status = (error as { status?: number }).status;
    if (status && status >= 400 && status < 500) {
      res.status(status).type('text/plain; charset=utf-8').send(`${(error as Error).message}\n`);
      return;
    }
    logger.error({ err: error, reqId: req.id }, 'unhandled error');
    res.status(500).type('text/plain; charset=utf-8').send(`Internal Server Error (request ${req.id})\n`);
  });
  return app;
}
