import crypto from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';

/** Constant-time string comparison (hashing first makes the lengths equal). */
export function secretsEqual(a: string, b: string): boolean {
  const ha = crypto.createHash('sha256').update(a).digest();
  const hb = crypto.createHash('sha256').update(b).digest();
  return crypto.timingSafeEqual(ha, hb);
}

/**
 * `Authorization: Bearer $ADMIN_TOKEN` on every admin API call. With no ADMIN_TOKEN configured the API
 * refuses everything (the safe default for a fresh install that forgot to set one).
 */
export function requireAdminToken(adminToken: string | null) {
  return (req: Request, res: Response, next: NextFunction): void => {
    const header = req.get('authorization') ?? '';
    const match = /^Bearer\s+(.+)$/i.exec(header);
    if (adminToken === null) {
      res.status(401).json({ error: { code: 'admin_api_disabled', message: 'the admin API is disabled: set ADMIN_TOKEN' } });
      return;
    }
    if (!match || !secretsEqual(match[1].trim(), adminToken)) {
      res.status(401).set('WWW-Authenticate', 'Bearer').json({ error: { code: 'unauthorized', message: 'missing or invalid bearer token' } });
      return;
    }
    next();
  };
}
