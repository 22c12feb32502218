import type { Request, Response } from 'express';
import type { Registry } from 'prom-client';
import { secretsEqual } from '../admin/admin-auth';
import type { AdminAuthBrake } from '../auth/admin-auth-brake';
import type { Logger } from '../logger';

/**
 * `GET /metrics` in the Prometheus text format, behind `Authorization: Bearer $METRICS_TOKEN` (Prometheus'
 * `authorization` scrape setting). With no token configured the route does not exist (404), so a fresh
 * install shows nothing about itself. A wrong token counts against the client's admin brake, as a wrong
 * admin token does (429 with Retry-After past its limit; a right token is still checked now and then).
 */
export function metricsRoute(registry: Registry, metricsToken: string | null, brake: AdminAuthBrake, logger: Logger) {
  return async (req: Request, res: Response): Promise<void> => {
    if (metricsToken === null) {
      res.status(404).type('text/plain; charset=utf-8').send('Not Found\n');
      return;
    }
    const match = /^Bearer\s+(.+)$/i.exec(req.get('authorization') ?? '');
    const answer = match
      ? await brake.attempt(req.clientIp, () => (secretsEqual(match[1].trim(), metricsToken) ? true : null))
      : null;
    if (answer?.ok !== true) {
      if (answer?.reason === 'throttled') res.status(429).set('Retry-After', String(answer.retryAfterSeconds));
      else res.status(401).set('WWW-Authenticate', 'Bearer');
      res
        .type('text/plain; charset=utf-8')
        .send(
          answer?.reason === 'throttled'
            ? 'too many failed authentications from this address\n'
            : 'missing or invalid bearer token\n',
        );
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
