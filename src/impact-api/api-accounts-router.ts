import type { Request, Response, Router } from 'express';
import { z } from 'zod';
import { MAX_CAMPAIGN_ID } from '../core/identifier-limits';
import { invalid, notFound } from '../http/admin-errors';
import { validate } from '../http/params';
import { MAX_ACCOUNT_CAMPAIGNS, type ApiAccountService, type ApiAccountView } from './api-account-service';

const accountCreate = z.strictObject({
  name: z.string().trim().min(1).max(255),
  campaignIds: z.array(z.number().int().min(1).max(MAX_CAMPAIGN_ID)).min(1).max(MAX_ACCOUNT_CAMPAIGNS),
});

/** An account as JSON (never its token). */
export function apiAccountJson(account: ApiAccountView) {
  return {
    accountSid: account.accountSid,
    name: account.name,
    campaignIds: account.campaignIds,
    createdAt: new Date(account.createdAt).toISOString(),
    revokedAt: account.revokedAt === null ? null : new Date(account.revokedAt).toISOString(),
  };
}

/**
 * Admin routes for impact.com API accounts: `POST /api-accounts {name, campaignIds}` → 201 with
 * `accountSid` and `authToken` (the token is answered this once), `GET /api-accounts` (no tokens),
 * `DELETE /api-accounts/:sid` (revokes: the token no longer signs in; the account stays listed).
 */
export function apiAccountRoutes(deps: { apiAccounts: ApiAccountService }) {
  const { apiAccounts } = deps;
  return (router: Router): void => {
    router.post('/api-accounts', async (req: Request, res: Response) => {
      const created = await apiAccounts.create(validate(accountCreate, req.body));
      if (!created.ok) throw invalid(created.message);
      res.status(201).json({ ...apiAccountJson(created.account), authToken: created.authToken });
    });

    router.get('/api-accounts', async (_req: Request, res: Response) => {
      res.json((await apiAccounts.list()).map(apiAccountJson));
    });

    router.delete('/api-accounts/:sid', async (req: Request, res: Response) => {
      const account = await apiAccounts.revoke(String(req.params.sid));
      if (!account) throw notFound('API account');
      res.json(apiAccountJson(account));
    });
  };
}
