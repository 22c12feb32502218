import crypto from 'node:crypto';
import type { ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Logger } from '../logger';
import { normaliseClientIp } from '../auth/ip-address';
import { forwardedClientIp, pathOf, type PlainRequest } from './express-apis';

declare module 'express-serve-static-core' {
  interface Request {
    /** Id of this request, in every log line about it and in the X-Request-Id response header. */
    id: string;
    /** The client address under TRUST_PROXY, IPv4-mapped IPv6 normalised to IPv4. */
    clientIp: string;
  }
}

/**
 * The normalised client address. Without an X-Forwarded-For header req.ip is the socket's address
 * whatever TRUST_PROXY says, so it is worked out once per connection (keep-alive clients send many
 * requests) instead of by proxy-addr on every request; with one, TRUST_PROXY applies as for req.ip.
 */
function clientIpOf(req: PlainRequest, res: ServerResponse, byConnection: WeakMap<Socket, string>): string {
  if (req.headers['x-forwarded-for'] !== undefined) return normaliseClientIp(forwardedClientIp(req, res));
  const socket = req.socket;
  let clientIp = byConnection.get(socket);
  if (clientIp === undefined) {
    clientIp = normaliseClientIp(socket.remoteAddress);
    byConnection.set(socket, clientIp);
  }
  return clientIp;
}

/**
 * Gives each request an id and a normalised client IP, and logs one line when it finishes. Only the
 * full path is logged — never the query string or body, which carry the campaign Password.
 */
export function requestContext(
  logger: Logger,
  /** Told of every finished request (metrics): its path, status and duration in seconds. */
  observe?: (path: string, status: number, seconds: number) => void,
) {
  const clientIps = new WeakMap<Socket, string>();
  const logs = () => logger.isLevelEnabled('info');
  return (req: PlainRequest, res: ServerResponse, next: () => void): void => {
    req.id = crypto.randomUUID();
    req.clientIp = clientIpOf(req, res, clientIps);
    res.setHeader('X-Request-Id', req.id);
    // No clock reading, listener or log object per request when request logs are off (LOG_LEVEL=warn and
    // up) and metrics are too.
    const logging = logs();
    if (!logging && !observe) {
      next();
      return;
    }
    const started = process.hrtime.bigint();
    res.on('finish', () => {
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      const path = pathOf(req);
      observe?.(path, res.statusCode, ms / 1000);
      if (logging)
        logger.info(
          { reqId: req.id, method: req.method, path, status: res.statusCode, ms, ip: req.clientIp },
          'request',
        );
    });
    next();
  };
}
