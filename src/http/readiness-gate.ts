import type { NextFunction, Request, Response } from 'express';
import type { Readiness } from '../store/schema-readiness';

/**
 * The "not ready" gate of a front door mounted on express (the admin API, the console): requests pass
 * once the database schema is current — from then on without asking anything — and until then get
 * `Retry-After: 5` and the front door's own answer (`notReady`), instead of failing on a missing table.
 */
export function readinessGate(
  readiness: Readiness,
  notReady: (reason: string, res: Response, next: NextFunction) => void,
): (req: Request, res: Response, next: NextFunction) => void {
  return (_req, res, next) => {
    if (readiness.isCurrent) return next();
    readiness.notReadyReason().then((reason) => {
      if (reason === null) return next();
      res.setHeader('Retry-After', '5');
      notReady(reason, res, next);
    }, next);
  };
}
