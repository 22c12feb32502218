import crypto from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';
import type { AdminAuthBrake } from '../auth/admin-auth-brake';

/** Constant-time string comparison (hashing first makes the lengths equal). */
export function secretsEqual(a: string, b: string): boolean {
  const ha = crypto.createHash('sha256').update(a).digest();
  const hb = crypto.createHash('sha256').update(b).digest();
  return crypto.timingSafeEqual(ha, hb);
}

/**
 * `Authorization: Bearer $ADMIN_TOKEN` on every admin API call. With no ADMIN_TOKEN configured the API
 * refuses everything (the safe default for a fresh install that forgot to set one). A wrong bearer token
 * counts against the client's admin brake (`AdminAuthBrake`, shared with the console's sign-in); past
 * its limit the client gets 429 with Retry-After, and one token per interval is still checked.
 */
export function requireAdminToken(adminToken: string | null, brake: AdminAuthBrake | null = null) {
  return (req: Request, res: Response, next: NextFunction): void => {
    if (adminToken === null) {
      res
        .status(401)
        .json({ error: { code: 'admin_api_disabled', message: 'the admin API is disabled: set ADMIN_TOKEN' } });
      return;
    }
    const match = /^Bearer\s+(.+)$/i.exec(req.get('authorization') ?? '');
    const refuse = () =>
      res
        .status(401)
        .set('WWW-Authenticate', 'Bearer')
        .json({ error: { code: 'unauthorized', message: 'missing or invalid bearer token' } });
    // No bearer token is no guess: refused, not counted.
    if (!match) {
      refuse();
      return;
    }
    const right = () => (secretsEqual(match[1].trim(), adminToken) ? true : null);
    if (!brake) {
      if (right()) next();
      else refuse();
      return;
    }
    brake.attempt(req.clientIp, right).then((answer) => {
      if (answer.ok) next();
      else if (answer.reason === 'invalid') refuse();
      else {
        const seconds = answer.retryAfterSeconds;
        res
          .status(429)
          .set('Retry-After', String(seconds))
          .json({
            error: {
              code: 'rate_limited',
              message: `too many failed authentications from this address; retry after ${seconds} s`,
            },
          });
      }
    }, next);
  };
}
