import type { Request, Router } from 'express';
import { z } from 'zod';
import { MAX_CAMPAIGN_ID } from '../core/identifier-limits';
import { apiRoute } from '../http/api-routes';
import { idParameter, isoInstant } from '../http/api-schemas';
import type { Merchant } from '../store/merchant-store';
import type { MerchantUser } from '../store/merchant-user-store';
import type { MerchantService } from './merchant-service';
import { LINK_HOURS, type IssuedLink, type MerchantUserService } from './merchant-user-service';

const iso = (ms: number) => new Date(ms).toISOString();

/** A merchant as the admin API answers it. */
export const merchantSchema = z
  .object({
    id: z.number().int(),
    name: z.string(),
    selfService: z
      .boolean()
      .meta({ description: "whether its users may rotate their campaigns' passwords and manage their white-lists" }),
    campaignIds: z.array(z.number().int()).meta({ description: 'the campaigns it owns, by id' }),
    createdAt: isoInstant,
    updatedAt: isoInstant,
  })
  .meta({ id: 'Merchant' });

export function merchantJson(m: Merchant): z.output<typeof merchantSchema> {
  return {
    id: m.id,
    name: m.name,
    selfService: m.selfService,
    campaignIds: m.campaignIds,
    createdAt: iso(m.createdAt),
    updatedAt: iso(m.updatedAt),
  };
}

/** A merchant user as the admin API answers it (never a password or a link's hash). */
export const merchantUserSchema = z
  .object({
    id: z.number().int(),
    merchantId: z.number().int(),
    email: z.string(),
    name: z.string(),
    hasPassword: z.boolean().meta({ description: 'whether the user has chosen a password on its link' }),
    disabled: z.boolean(),
    disabledAt: isoInstant.nullable(),
    createdAt: isoInstant,
    updatedAt: isoInstant,
  })
  .meta({ id: 'MerchantUser' });

export function merchantUserJson(u: MerchantUser): z.output<typeof merchantUserSchema> {
  return {
    id: u.id,
    merchantId: u.merchantId,
    email: u.email,
    name: u.name,
    hasPassword: u.hasPassword,
    disabled: u.disabledAt !== null,
    disabledAt: u.disabledAt === null ? null : iso(u.disabledAt),
    createdAt: iso(u.createdAt),
    updatedAt: iso(u.updatedAt),
  };
}

const issuedLinkSchema = z
  .object({
    user: merchantUserSchema,
    setPasswordUrl: z.string().meta({
      description: `the one-time link on which the user chooses a password: hand it to that person only. It works once, for ${LINK_HOURS} hours; it is never shown again`,
    }),
    expiresAt: isoInstant,
  })
  .meta({ id: 'MerchantUserLink' });

/** The link as an absolute URL on the address the admin reached the API on. */
function issuedLinkJson(req: Request, issued: IssuedLink): z.output<typeof issuedLinkSchema> {
  return {
    user: merchantUserJson(issued.user),
    setPasswordUrl: `${req.protocol}://${req.get('host') ?? 'localhost'}/admin/set-password/${issued.token}`,
    expiresAt: iso(issued.expiresAt),
  };
}

const campaignIds = z.array(z.number().int().min(1).max(MAX_CAMPAIGN_ID)).max(10_000);
const merchantCreate = z.strictObject({
  id: z.number().int().min(1).max(2_147_483_647).optional(),
  name: z.string().trim().min(1).max(255),
  selfService: z.boolean().optional(),
  campaignIds: campaignIds.optional(),
});
const merchantPatch = z.strictObject({
  name: z.string().trim().min(1).max(255).optional(),
  selfService: z.boolean().optional(),
  campaignIds: campaignIds.optional(),
});
const userCreate = z.strictObject({
  email: z.string().max(254).meta({ description: 'the sign-in name; kept lower-case', example: 'ops@brand.example' }),
  name: z.string().trim().min(1).max(255),
});
const userPatch = z.strictObject({
  name: z.string().trim().min(1).max(255).optional(),
  disabled: z.boolean().optional().meta({ description: 'true: the user cannot sign in and its sessions end at once' }),
});

/**
 * Admin routes for merchants (brands) and their console users: `GET|POST /merchants`,
 * `GET|PATCH /merchants/:id`, `GET|POST /merchants/:id/users`, `PATCH /merchants/:id/users/:userId`,
 * `POST /merchants/:id/users/:userId/link`.
 */
export function merchantRoutes(deps: { merchants: MerchantService; merchantUsers: MerchantUserService }) {
  const { merchants, merchantUsers } = deps;
  const tag = 'Merchants';
  const idPath = z.object({ id: idParameter('id', 2_147_483_647) });
  const userPath = z.object({
    id: idParameter('id', 2_147_483_647),
    userId: idParameter('userId', 2_147_483_647),
  });
  return (router: Router): void => {
    apiRoute(
      router,
      {
        method: 'get',
        path: '/merchants',
        tag,
        summary: 'List merchants',
        responses: { 200: { description: 'every merchant with its campaigns', schema: z.array(merchantSchema) } },
      },
      async (_input, _req, res) => {
        res.json((await merchants.list()).map(merchantJson));
      },
    );
    apiRoute(
      router,
      {
        method: 'post',
        path: '/merchants',
        tag,
        summary: 'Create a merchant',
        description:
          'A campaign belongs to at most one merchant: naming a campaign another merchant owns is a 409 that names both.',
        body: merchantCreate,
        responses: { 201: { description: 'the new merchant', schema: merchantSchema } },
        errors: { 409: 'the id exists, or a campaign belongs to another merchant' },
      },
      async ({ body }, _req, res) => {
        res.status(201).json(merchantJson(await merchants.create(body)));
      },
    );
    apiRoute(
      router,
      {
        method: 'get',
        path: '/merchants/:id',
        tag,
        summary: 'Show a merchant',
        params: idPath,
        responses: { 200: { description: 'the merchant', schema: merchantSchema } },
        errors: { 404: 'no such merchant' },
      },
      async ({ params }, _req, res) => {
        res.json(merchantJson(await merchants.get(params.id)));
      },
    );
    apiRoute(
      router,
      {
        method: 'patch',
        path: '/merchants/:id',
        tag,
        summary: 'Change a merchant',
        description: '`campaignIds` replaces the list it owns: campaigns left out go back to the network.',
        params: idPath,
        body: merchantPatch,
        responses: { 200: { description: 'the merchant as changed', schema: merchantSchema } },
        errors: { 404: 'no such merchant', 409: 'a campaign belongs to another merchant' },
      },
      async ({ params, body }, _req, res) => {
        res.json(merchantJson(await merchants.update(params.id, body)));
      },
    );
    apiRoute(
      router,
      {
        method: 'get',
        path: '/merchants/:id/users',
        tag,
        summary: "List a merchant's console users",
        params: idPath,
        responses: { 200: { description: 'its users', schema: z.array(merchantUserSchema) } },
        errors: { 404: 'no such merchant' },
      },
      async ({ params }, _req, res) => {
        res.json((await merchantUsers.list(params.id)).map(merchantUserJson));
      },
    );
    apiRoute(
      router,
      {
        method: 'post',
        path: '/merchants/:id/users',
        tag,
        summary: 'Create a console user for a merchant',
        description:
          'Answers a one-time link on which the user chooses a password (never a password in clear). The user then signs in to the console with its e-mail address and sees only its merchant’s campaigns.',
        params: idPath,
        body: userCreate,
        responses: { 201: { description: 'the user and its one-time link', schema: issuedLinkSchema } },
        errors: { 404: 'no such merchant', 409: 'a user with this e-mail address exists' },
      },
      async ({ params, body }, req, res) => {
        res.status(201).json(issuedLinkJson(req, await merchantUsers.create(params.id, body)));
      },
    );
    apiRoute(
      router,
      {
        method: 'patch',
        path: '/merchants/:id/users/:userId',
        tag,
        summary: 'Rename, disable or enable a merchant user',
        description: 'Disabling ends the user’s console sessions at once.',
        params: userPath,
        body: userPatch,
        responses: { 200: { description: 'the user as changed', schema: merchantUserSchema } },
        errors: { 404: 'no such user of this merchant' },
      },
      async ({ params, body }, _req, res) => {
        res.json(merchantUserJson(await merchantUsers.update(params.id, params.userId, body)));
      },
    );
    apiRoute(
      router,
      {
        method: 'post',
        path: '/merchants/:id/users/:userId/link',
        tag,
        summary: 'Issue a new one-time link',
        description:
          'For a lost password or an expired link: the previous link stops working; the password in use stays until the new link is used.',
        params: userPath,
        responses: { 201: { description: 'the user and its new one-time link', schema: issuedLinkSchema } },
        errors: { 404: 'no such user of this merchant', 409: 'the user is disabled' },
      },
      async ({ params }, req, res) => {
        res.status(201).json(issuedLinkJson(req, await merchantUsers.issueLink(params.id, params.userId)));
      },
    );
  };
}
