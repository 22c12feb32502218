import crypto from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';
import type { Logger } from '../logger';
import { normaliseClientIp } from '../auth/ip-address';

declare module 'express-serve-static-core' {
  interface Request {
    /** Id of this request, in every log line about it and in the X-Request-Id response header. */
    id: string;
    /** The client address under TRUST_PROXY, IPv4-mapped IPv6 normalised to IPv4. */
    clientIp: string;
  }
}

/**
 * Gives each request an id and a normalised client IP, and logs one line when it finishes. Only the
 * path is logged — never the query string or body, which carry the campaign Password.
 */
export function requestContext(logger: Logger) {
  return (req: Request, res: Response, next: NextFunction): void => {
    const started = process.hrtime.bigint();
    req.id = crypto.randomUUID();
    req.clientIp = normaliseClientIp(req.ip);
    res.setHeader('X-Request-Id', req.id);
    // No listener (and no log object) per request when request logs are off (LOG_LEVEL=warn and up).
    if (!logger.isLevelEnabled('info')) {
      next();
      return;
    }
    res.on('finish', () => {
      logger.info(
        {
          reqId: req.id,
          method: req.method,
          path: req.path,
          status: res.statusCode,
          ms: Number(process.hrtime.bigint() - started) / 1e6,
          ip: req.clientIp,
        },
        'request',
      );
    });
    next();
  };
}
