import type { Router } from 'express';
import { z } from 'zod';
import { MAX_CAMPAIGN_ID } from '../core/identifier-limits';
import { invalid, notFound } from '../http/admin-errors';
import { apiRoute } from '../http/api-routes';
import { isoInstant } from '../http/api-schemas';
import { MAX_ACCOUNT_CAMPAIGNS, type ApiAccountService, type ApiAccountView } from './api-account-service';

const accountCreate = z
  .strictObject({
    name: z.string().trim().min(1).max(255),
    campaignIds: z.array(z.number().int().min(1).max(MAX_CAMPAIGN_ID)).min(1).max(MAX_ACCOUNT_CAMPAIGNS).optional(),
    merchantId: z.number().int().min(1).max(2_147_483_647).optional().meta({
      description:
        "instead of campaignIds: the account covers exactly the merchant's campaigns, also those added later",
    }),
  })
  .refine((body) => (body.campaignIds === undefined) !== (body.merchantId === undefined), {
    message: 'give campaignIds or merchantId, not both',
    path: ['campaignIds'],
  });

/** An impact.com API account as the admin API answers it (never its token). */
export const apiAccountSchema = z
  .object({
    accountSid: z.string(),
    name: z.string(),
    campaignIds: z
      .array(z.number().int())
      .meta({ description: "the campaigns it covers now (its merchant's, when tied to one)" }),
    merchantId: z.number().int().nullable(),
    createdAt: isoInstant,
    revokedAt: isoInstant.nullable(),
  })
  .meta({ id: 'ApiAccount' });

/** An account as JSON (never its token). */
export function apiAccountJson(account: ApiAccountView): z.output<typeof apiAccountSchema> {
  return {
    accountSid: account.accountSid,
    name: account.name,
    campaignIds: account.campaignIds,
    merchantId: account.merchantId,
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
  const tag = 'API accounts';
  return (router: Router): void => {
    apiRoute(
      router,
      {
        method: 'post',
        path: '/api-accounts',
        tag,
        summary: 'Create an impact.com API account',
        description: 'The `authToken` is answered this once.',
        body: accountCreate,
        responses: {
          201: {
            description: 'the account and its token',
            schema: apiAccountSchema.extend({ authToken: z.string() }).meta({ id: 'NewApiAccount' }),
          },
        },
        errors: {
          400: 'a campaign or the merchant does not exist; both or neither of campaignIds and merchantId given',
        },
      },
      async ({ body }, _req, res) => {
        const created = await apiAccounts.create(body);
        if (!created.ok) throw invalid(created.message);
        res.status(201).json({ ...apiAccountJson(created.account), authToken: created.authToken });
      },
    );

    apiRoute(
      router,
      {
        method: 'get',
        path: '/api-accounts',
        tag,
        summary: 'List impact.com API accounts',
        responses: { 200: { description: 'the accounts, revoked ones too', schema: z.array(apiAccountSchema) } },
      },
      async (_input, _req, res) => {
        res.json((await apiAccounts.list()).map(apiAccountJson));
      },
    );

    apiRoute(
      router,
      {
        method: 'delete',
        path: '/api-accounts/:sid',
        tag,
        summary: 'Revoke an impact.com API account',
        description: 'Its token no longer signs in; the account stays listed.',
        params: z.object({ sid: z.string().meta({ description: 'the AccountSID' }) }),
        responses: { 200: { description: 'the revoked account', schema: apiAccountSchema } },
        errors: { 404: 'no such account' },
      },
      async ({ params }, _req, res) => {
        const account = await apiAccounts.revoke(params.sid);
        if (!account) throw notFound('API account');
        res.json(apiAccountJson(account));
      },
    );
  };
}
