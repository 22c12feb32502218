import type { Request, Response } from 'express';
import type { Registry } from 'prom-client';
import { secretsEqual } from '../admin/admin-auth';
import type { Logger } from '../logger';

/**
 * `GET /metrics` in the Prometheus text format, behind `Authorization: Bearer $METRICS_TOKEN` (Prometheus'
 * `authorization` scrape setting). With no token configured the route does not exist (404), so a fresh
 * install shows nothing about itself.
 */
export function metricsRoute(registry: Registry, metricsToken: string | null, logger: Logger) {
  return async (req: Request, res: Response): Promise<void> => {
    if (metricsToken === null) {
      res.status(404).type('text/plain; charset=utf-8').send('Not Found\n');
      return;
    }
    const match = /^Bearer\s+(.+)$/i.exec(req.get('authorization') ?? '');
    if (!match || !secretsEqual(match[1].trim(), metricsToken)) {
      res.status(401).set('WWW-Authenticate', 'Bearer').type('text/plain; charset=utf-8').send('missing or invalid bearer token\n');
      return;
    }
    try {
      const body = await registry.metrics();
      res.status(200).type(registry.contentType).send(body);
    } catch (error) {
      // A gauge reads the database: while it is down, say so rather than publish half a scrape.
      logger.warn({ err: error, reqId: req.id }, 'metrics unavailable');
      res.status(503).type('text/plain; charset=utf-8').send('metrics unavailable: the database did not answer\n');
    }
  };
}
