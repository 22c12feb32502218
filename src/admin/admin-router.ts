import express, { NextFunction, Request, Response, Router } from 'express';
import { z } from 'zod';
import { parseMoney } from '../core/money';
import { ACTION_ID_PATTERN } from '../core/action';
import { MAX_CAMPAIGN_ID, MAX_TRANSACTION_ID } from '../core/identifier-limits';
import type { Logger } from '../logger';
import type { Readiness } from '../store/schema-readiness';
import { AdminError, databaseTrouble } from '../http/admin-errors';
import { appVersion } from '../app-version';
import { apiRoute } from '../http/api-routes';
import { openApiDocumentOf } from './openapi-document';
import { idParameter, isIdText, singleText } from '../http/api-schemas';
import { readinessGate } from '../http/readiness-gate';
import type { AdminService } from './admin-service';
import type { HandEditService } from './hand-edit-service';
import { requireAdminToken } from './admin-auth';
import type { AdminAuthBrake } from '../auth/admin-auth-brake';
import {
  affiliateJson,
  affiliateSchema,
  testPostbackSchema,
  campaignJson,
  modificationSchema,
  campaignSchema,
  modificationJson,
  transactionJson,
  transactionSchema,
  transactionWithHistorySchema,
  whitelistEntryJson,
  whitelistEntrySchema,
} from './json-views';

const id32 = z.number().int().min(1).max(MAX_CAMPAIGN_ID);
const text = (max: number) => z.string().max(max);
const money = z
  .string({ message: 'must be a decimal string like "12.50"' })
  .refine(
    (v) => parseMoney(v) !== null,
    'must be a decimal string like "12.50" (at most 4 fraction digits, not negative)',
  )
  .transform((v) => parseMoney(v) as bigint)
  .meta({ description: 'exact decimal string, at most 4 fraction digits', example: '12.50' });
const instant = z
  .string()
  .refine((v) => !Number.isNaN(Date.parse(v)), 'must be an ISO 8601 date-time')
  .transform((v) => Date.parse(v))
  .meta({ description: 'ISO 8601 date-time, e.g. 2026-12-05T08:00:00Z' });

const affiliateCreate = z.strictObject({
  id: id32.optional(),
  name: text(255).min(1),
  postbackUrl: text(2048).nullable().optional(),
});
const affiliatePatch = z.strictObject({
  name: text(255).min(1).optional(),
  postbackUrl: text(2048).nullable().optional(),
});
const campaignFields = {
  allowExternalModification: z.boolean().optional(),
  password: z.string().nullable().optional(),
  whitelistOnly: z.boolean().optional(),
  uniqueMerchantReference: z.boolean().optional(),
};
const campaignCreate = z.strictObject({ id: id32.optional(), name: text(255).min(1), ...campaignFields });
const campaignPatch = z.strictObject({ name: text(255).min(1).optional(), ...campaignFields });
const whitelistCreate = z.strictObject({
  address: text(64),
  campaignId: id32.nullable().optional(),
  note: text(255).nullable().optional(),
});
const transactionCreate = z.strictObject({
  id: z.number().int().min(1).max(MAX_TRANSACTION_ID).optional(),
  campaignId: id32,
  affiliateId: id32,
  clickId: text(64).min(1).optional(),
  merchantReferenceId: text(255).nullable().optional(),
  subId: text(255).nullable().optional(),
  affiliateReferenceId: text(255).nullable().optional(),
  affiliatePayout: money,
  merchantRevenue: money,
  approved: z.boolean().optional(),
  occurredAt: instant.optional(),
  actionId: z
    .string()
    .regex(ACTION_ID_PATTERN, 'must be 1–64 characters of A-Z, a-z, 0-9, ".", "_" and "-"')
    .optional(),
  eventTypeId: id32.nullable().optional(),
  items: z
    .array(
      z.strictObject({
        sku: text(64).min(1),
        category: text(255).nullable().optional(),
        name: text(255).nullable().optional(),
        quantity: z.number().int().min(0).max(1_000_000),
        amount: money,
      }),
    )
    .max(1000)
    .nullable()
    .optional(),
  customerStatus: z.enum(['NEW', 'EXISTING']).nullable().optional(),
});

const handEdit = z
  .strictObject({
    affiliatePayout: money.optional(),
    merchantRevenue: money.optional(),
    approved: z.boolean().optional(),
    amount: money.optional(),
    dispositionCode: text(64).min(1).optional(),
    reason: text(255).trim().min(1, 'say why (it goes to the history)'),
    executeAffiliatePixel: z.boolean().optional(),
  })
  .meta({ id: 'HandEdit' });

/** The outline of an OpenAPI 3.1 document (the test validates the whole against the official schema). */
const openApiDocumentSchema = z
  .looseObject({
    openapi: z.literal('3.1.0'),
    info: z.looseObject({ title: z.string(), version: z.string() }),
    paths: z.record(z.string(), z.record(z.string(), z.unknown())),
  })
  .meta({ id: 'OpenApiDocument' });

const idPath = z.object({ id: idParameter() });
const affiliateListQuery = z.object({
  search: singleText('search', 'part of the name, or the id').optional(),
  offset: z
    .string()
    .regex(/^[0-9]{1,9}$/, 'offset must be a whole number')
    .transform(Number)
    .optional()
    .meta({ description: 'affiliates to skip (paging, 200 a page)' }),
});
const campaignListQuery = z.object({
  search: singleText('search', 'part of the name, or the id').optional(),
});
const whitelistListQuery = z.object({
  campaignId: z
    .string({ error: 'campaignId must be a positive integer' })
    .refine((v) => v === 'global' || isIdText(v), 'campaignId must be a positive integer')
    .transform((v) => (v === 'global' ? null : Number(v)))
    .meta({ description: 'a campaign id, or `global` for the global entries' })
    .optional(),
});
const transactionListQuery = z.object({
  actionId: singleText('actionId', 'an impact.com action id').optional(),
  clickId: singleText('clickId', 'the click id').optional(),
  merchantReferenceId: singleText('merchantReferenceId', 'with campaignId: the merchant reference').optional(),
  campaignId: idParameter('campaignId').optional(),
});

/** The admin JSON API at /api/v1 (the contract the CLI, the console and outside tests use). */
export function adminRouter(deps: {
  admin: AdminService;
  /** Amendments by hand (POST /transactions/:id/modifications); absent: the route answers 404. */
  handEdits?: HandEditService;
  adminToken: string | null;
  /** The brake on wrong bearer tokens per client (shared with the console's sign-in); null: none. */
  adminAuthBrake?: AdminAuthBrake | null;
  logger: Logger;
  /**
   * Each adds its routes (postbacks, processing, batches…) behind the same auth, JSON and errors — with
   * `apiRoute`, so that they are in the OpenAPI document (a test fails for a route that is not).
   */
  extend?: Array<(router: Router) => void>;
  /** Until the database schema is current every call is answered 503 `not_ready`. */
  readiness?: Readiness;
}): Router {
  const { admin, readiness } = deps;
  const router = express.Router();
  router.use(requireAdminToken(deps.adminToken, deps.adminAuthBrake ?? null));
  if (readiness) {
    router.use(readinessGate(readiness, (reason, _res, next) => next(new AdminError(503, 'not_ready', reason))));
  }
  router.use(express.json({ limit: '256kb' }));

  const affiliates = 'Affiliates';
  apiRoute(
    router,
    {
      method: 'post',
      path: '/affiliates',
      tag: affiliates,
      summary: 'Create an affiliate',
      description: 'A supplied id is kept (networks migrate with their AFIDs).',
      body: affiliateCreate,
      responses: { 201: { description: 'the new affiliate', schema: affiliateSchema } },
      errors: { 409: 'an affiliate with this id exists' },
    },
    async ({ body }, _req, res) => {
      res.status(201).json(affiliateJson(await admin.createAffiliate(body)));
    },
  );
  apiRoute(
    router,
    {
      method: 'get',
      path: '/affiliates/:id',
      tag: affiliates,
      summary: 'Show an affiliate',
      params: idPath,
      responses: { 200: { description: 'the affiliate', schema: affiliateSchema } },
      errors: { 404: 'no such affiliate' },
    },
    async ({ params }, _req, res) => {
      res.json(affiliateJson(await admin.getAffiliate(params.id)));
    },
  );
  apiRoute(
    router,
    {
      method: 'get',
      path: '/affiliates',
      tag: affiliates,
      summary: 'List affiliates',
      query: affiliateListQuery,
      responses: { 200: { description: 'the affiliates by id (at most 200)', schema: z.array(affiliateSchema) } },
    },
    async ({ query }, _req, res) => {
      const search = query.search === undefined || query.search === '' ? null : query.search;
      res.json((await admin.listAffiliates(search, { limit: 200, offset: query.offset })).map(affiliateJson));
    },
  );
  apiRoute(
    router,
    {
      method: 'post',
      path: '/affiliates/:id/test-postback',
      tag: affiliates,
      summary: "Send a test postback to the affiliate's URL",
      description:
        'One request with sample values, through the same delivery and private-network guard as the outbox; ' +
        "answers the receiver's status and first bytes, or why there was no answer. Nothing is recorded.",
      params: idPath,
      responses: { 200: { description: 'what the receiver answered', schema: testPostbackSchema } },
      errors: { 404: 'no such affiliate', 409: 'the affiliate has no postback URL' },
    },
    async ({ params }, _req, res) => {
      res.json(await admin.testPostback(params.id));
    },
  );
  apiRoute(
    router,
    {
      method: 'patch',
      path: '/affiliates/:id',
      tag: affiliates,
      summary: 'Change an affiliate',
      description: '`postbackUrl: null` clears the postback URL.',
      params: idPath,
      body: affiliatePatch,
      responses: { 200: { description: 'the affiliate as changed', schema: affiliateSchema } },
      errors: { 404: 'no such affiliate' },
    },
    async ({ params, body }, _req, res) => {
      res.json(affiliateJson(await admin.updateAffiliate(params.id, body)));
    },
  );

  const campaigns = 'Campaigns';
  apiRoute(
    router,
    {
      method: 'post',
      path: '/campaigns',
      tag: campaigns,
      summary: 'Create a campaign',
      description: 'The password is stored as a bcrypt hash and never answered, only `hasPassword`.',
      body: campaignCreate,
      responses: { 201: { description: 'the new campaign', schema: campaignSchema } },
      errors: { 409: 'a campaign with this id exists' },
    },
    async ({ body }, _req, res) => {
      res.status(201).json(campaignJson(await admin.createCampaign(body)));
    },
  );
  apiRoute(
    router,
    {
      method: 'get',
      path: '/campaigns',
      tag: campaigns,
      summary: 'List campaigns',
      query: campaignListQuery,
      responses: { 200: { description: 'the campaigns (at most 200)', schema: z.array(campaignSchema) } },
    },
    async ({ query }, _req, res) => {
      const search = query.search === undefined || query.search === '' ? null : query.search;
      res.json((await admin.listCampaigns(search)).map(campaignJson));
    },
  );
  apiRoute(
    router,
    {
      method: 'get',
      path: '/campaigns/:id',
      tag: campaigns,
      summary: 'Show a campaign',
      params: idPath,
      responses: { 200: { description: 'the campaign', schema: campaignSchema } },
      errors: { 404: 'no such campaign' },
    },
    async ({ params }, _req, res) => {
      res.json(campaignJson(await admin.getCampaign(params.id)));
    },
  );
  apiRoute(
    router,
    {
      method: 'patch',
      path: '/campaigns/:id',
      tag: campaigns,
      summary: 'Change a campaign',
      description: '`password: null` clears the password.',
      params: idPath,
      body: campaignPatch,
      responses: { 200: { description: 'the campaign as changed', schema: campaignSchema } },
      errors: {
        404: 'no such campaign',
        409: 'turning `uniqueMerchantReference` on while transactions share a merchant reference',
      },
    },
    async ({ params, body }, _req, res) => {
      res.json(campaignJson(await admin.updateCampaign(params.id, body)));
    },
  );

  const whitelist = 'Whitelist';
  apiRoute(
    router,
    {
      method: 'post',
      path: '/whitelist',
      tag: whitelist,
      summary: 'White-list an address',
      description: 'Without `campaignId` the entry is global.',
      body: whitelistCreate,
      responses: { 201: { description: 'the new entry', schema: whitelistEntrySchema } },
    },
    async ({ body }, _req, res) => {
      res.status(201).json(whitelistEntryJson(await admin.addWhitelistEntry(body)));
    },
  );
  apiRoute(
    router,
    {
      method: 'get',
      path: '/whitelist',
      tag: whitelist,
      summary: 'List white-listed addresses',
      query: whitelistListQuery,
      responses: { 200: { description: 'the entries', schema: z.array(whitelistEntrySchema) } },
    },
    async ({ query }, _req, res) => {
      res.json((await admin.listWhitelist(query.campaignId)).map(whitelistEntryJson));
    },
  );
  apiRoute(
    router,
    {
      method: 'delete',
      path: '/whitelist/:id',
      tag: whitelist,
      summary: 'Remove a white-listed address',
      params: idPath,
      responses: { 204: { description: 'removed' } },
      errors: { 404: 'no such entry' },
    },
    async ({ params }, _req, res) => {
      await admin.removeWhitelistEntry(params.id);
      res.status(204).end();
    },
  );

  const transactions = 'Transactions';
  apiRoute(
    router,
    {
      method: 'post',
      path: '/transactions',
      tag: transactions,
      summary: 'Create a transaction',
      description:
        'A click id is generated when absent. Amounts are decimal strings; with `items`, `merchantRevenue` is their sum.',
      body: transactionCreate,
      responses: { 201: { description: 'the new transaction', schema: transactionSchema } },
      errors: { 409: 'a duplicate id, click id, action id, or merchant reference on an enforcing campaign' },
    },
    async ({ body }, _req, res) => {
      const items = body.items?.map((item) => ({ ...item, category: item.category ?? null, name: item.name ?? null }));
      res.status(201).json(transactionJson(await admin.createTransaction({ ...body, items })));
    },
  );
  apiRoute(
    router,
    {
      method: 'get',
      path: '/transactions',
      tag: transactions,
      summary: 'Find transactions',
      description: 'By `actionId`, by `clickId`, or by `merchantReferenceId` with `campaignId`.',
      query: transactionListQuery,
      responses: { 200: { description: 'the transactions found', schema: z.array(transactionSchema) } },
    },
    async ({ query }, _req, res) => {
      res.json((await admin.findTransactions(query)).map((t) => transactionJson(t)));
    },
  );
  apiRoute(
    router,
    {
      method: 'get',
      path: '/transactions/:id',
      tag: transactions,
      summary: 'Show a transaction and its history',
      params: idPath,
      responses: {
        200: { description: 'the transaction with its changes, oldest first', schema: transactionWithHistorySchema },
      },
      errors: { 404: 'no such transaction' },
    },
    async ({ params }, _req, res) => {
      const { transaction, modifications } = await admin.getTransaction(params.id);
      res.json({ ...transactionJson(transaction), modifications: modifications.map(modificationJson) });
    },
  );

  const { handEdits } = deps;
  if (handEdits)
    apiRoute(
      router,
      {
        method: 'post',
        path: '/transactions/:id/modifications',
        tag: transactions,
        summary: 'Amend a transaction by hand',
        description:
          "Through the same core as `/transaction.edit`, source `admin`: opt-in, password and white-list do not apply; nightly processing and an hour not rolled up refuse (409, LinkTrust's words). An impact.com action (a transaction with an event type) takes `amount` and `dispositionCode` (default `ORDER_UPDATE`) under impact's rules and answers its codes; any other transaction takes `affiliatePayout`, `merchantRevenue` and `approved`.",
        params: idPath,
        body: handEdit,
        responses: {
          201: {
            description: 'the transaction as amended, with its new history row',
            schema: transactionSchema.extend({ modification: modificationSchema }).meta({ id: 'AmendedTransaction' }),
          },
        },
        errors: {
          404: 'no such transaction',
          409: 'refused: `nightly_in_progress`, `hourly_pending`, or an impact.com code (`ALREADY_REVERSED`, `BAD_DISPOSITION`…)',
          503: 'passing trouble (`temporary_failure`): try again',
        },
      },
      async ({ params, body }, req, res) => {
        const { transaction, modification } = await handEdits.amend(params.id, body, {
          actor: 'admin API',
          clientIp: req.clientIp,
          requestId: String(req.id),
        });
        res.status(201).json({ ...transactionJson(transaction), modification: modificationJson(modification) });
      },
    );

  for (const addRoutes of deps.extend ?? []) addRoutes(router);

  apiRoute(
    router,
    {
      method: 'get',
      path: '/openapi.json',
      tag: 'Reference',
      summary: 'This document',
      description: 'The OpenAPI 3.1 description of every route above, built from the schemas that validate them.',
      responses: { 200: { description: 'the OpenAPI 3.1 document', schema: openApiDocumentSchema } },
    },
    async (_input, _req, res) => {
      res.json(openApiDocumentOf(router, appVersion()));
    },
  );

  router.use((req: Request, res: Response) => {
    res.status(404).json({ error: { code: 'not_found', message: `no route ${req.method} ${req.baseUrl}${req.path}` } });
  });
  router.use((error: unknown, req: Request, res: Response, _next: NextFunction) => {
    if (error instanceof AdminError) {
      res.status(error.status).json({ error: { code: error.code, message: error.message } });
      return;
    }
    const trouble = databaseTrouble(error);
    if (trouble) {
      deps.logger.warn({ err: error, reqId: req.id }, 'admin API: database trouble after retries');
      res
        .status(trouble.status)
        .set('Retry-After', '1')
        .json({ error: { code: trouble.code, message: trouble.message } });
      return;
    }
    const status = (error as { status?: number }).status;
    if (status && status >= 400 && status < 500) {
      // body-parser: malformed JSON (400), too large (413), wrong charset (415).
      const code = status === 413 ? 'payload_too_large' : status === 400 ? 'invalid_json' : 'bad_request';
      res.status(status).json({ error: { code, message: (error as Error).message } });
      return;
    }
    deps.logger.error({ err: error, reqId: req.id }, 'admin API failed');
    res.status(500).json({ error: { code: 'internal_error', message: `internal error (request ${req.id})` } });
  });
  return router;
}
