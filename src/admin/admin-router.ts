import express, { NextFunction, Request, Response, Router } from 'express';
import { z } from 'zod';
import { parseMoney } from '../core/money';
import { ACTION_ID_PATTERN } from '../core/action';
import { MAX_CAMPAIGN_ID, MAX_TRANSACTION_ID } from '../core/identifier-limits';
import type { Logger } from '../logger';
import type { Readiness } from '../store/schema-readiness';
import { AdminError, databaseTrouble } from '../http/admin-errors';
import { idParam, validate } from '../http/params';
import { readinessGate } from '../http/readiness-gate';
import type { AdminService } from './admin-service';
import type { HandEditService } from './hand-edit-service';
import { requireAdminToken } from './admin-auth';
import type { AdminAuthBrake } from '../auth/admin-auth-brake';
import { affiliateJson, campaignJson, modificationJson, transactionJson, whitelistEntryJson } from './json-views';

const id32 = z.number().int().min(1).max(MAX_CAMPAIGN_ID);
const text = (max: number) => z.string().max(max);
const money = z
  .string({ message: 'must be a decimal string like "12.50"' })
  .refine(
    (v) => parseMoney(v) !== null,
    'must be a decimal string like "12.50" (at most 4 fraction digits, not negative)',
  )
  .transform((v) => parseMoney(v) as bigint);
const instant = z
  .string()
  .refine((v) => !Number.isNaN(Date.parse(v)), 'must be an ISO 8601 date-time')
  .transform((v) => Date.parse(v));

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

const handEdit = z.strictObject({
  affiliatePayout: money.optional(),
  merchantRevenue: money.optional(),
  approved: z.boolean().optional(),
  amount: money.optional(),
  dispositionCode: text(64).min(1).optional(),
  reason: text(255).trim().min(1, 'say why (it goes to the history)'),
  executeAffiliatePixel: z.boolean().optional(),
});

type Handler = (req: Request, res: Response) => Promise<void>;
const route = (handler: Handler) => (req: Request, res: Response, next: NextFunction) => handler(req, res).catch(next);

/** The admin JSON API at /api/v1 (the contract the CLI, the console and outside tests use). */
export function adminRouter(deps: {
  admin: AdminService;
  /** Amendments by hand (POST /transactions/:id/modifications); absent: the route answers 404. */
  handEdits?: HandEditService;
  adminToken: string | null;
  /** The brake on wrong bearer tokens per client (shared with the console's sign-in); null: none. */
  adminAuthBrake?: AdminAuthBrake | null;
  logger: Logger;
  /** Each adds its routes (postbacks, processing, batches…) behind the same auth, JSON and errors. */
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

  router.post(
    '/affiliates',
    route(async (req, res) => {
      res.status(201).json(affiliateJson(await admin.createAffiliate(validate(affiliateCreate, req.body))));
    }),
  );
  router.get(
    '/affiliates/:id',
    route(async (req, res) => {
      res.json(affiliateJson(await admin.getAffiliate(idParam(req.params.id))));
    }),
  );
  router.patch(
    '/affiliates/:id',
    route(async (req, res) => {
      res.json(affiliateJson(await admin.updateAffiliate(idParam(req.params.id), validate(affiliatePatch, req.body))));
    }),
  );

  router.post(
    '/campaigns',
    route(async (req, res) => {
      res.status(201).json(campaignJson(await admin.createCampaign(validate(campaignCreate, req.body))));
    }),
  );
  router.get(
    '/campaigns',
    route(async (req, res) => {
      const search = typeof req.query.search === 'string' && req.query.search !== '' ? req.query.search : null;
      res.json((await admin.listCampaigns(search)).map(campaignJson));
    }),
  );
  router.get(
    '/campaigns/:id',
    route(async (req, res) => {
      res.json(campaignJson(await admin.getCampaign(idParam(req.params.id))));
    }),
  );
  router.patch(
    '/campaigns/:id',
    route(async (req, res) => {
      res.json(campaignJson(await admin.updateCampaign(idParam(req.params.id), validate(campaignPatch, req.body))));
    }),
  );

  router.post(
    '/whitelist',
    route(async (req, res) => {
      res.status(201).json(whitelistEntryJson(await admin.addWhitelistEntry(validate(whitelistCreate, req.body))));
    }),
  );
  router.get(
    '/whitelist',
    route(async (req, res) => {
      const campaign = req.query.campaignId;
      const filter =
        campaign === undefined ? undefined : campaign === 'global' ? null : idParam(campaign, 'campaignId');
      res.json((await admin.listWhitelist(filter)).map(whitelistEntryJson));
    }),
  );
  router.delete(
    '/whitelist/:id',
    route(async (req, res) => {
      await admin.removeWhitelistEntry(idParam(req.params.id));
      res.status(204).end();
    }),
  );

  router.post(
    '/transactions',
    route(async (req, res) => {
      const input = validate(transactionCreate, req.body);
      const items = input.items?.map((item) => ({ ...item, category: item.category ?? null, name: item.name ?? null }));
      res.status(201).json(transactionJson(await admin.createTransaction({ ...input, items })));
    }),
  );
  router.get(
    '/transactions',
    route(async (req, res) => {
      const { clickId, merchantReferenceId, campaignId, actionId } = req.query;
      const found = await admin.findTransactions({
        actionId: typeof actionId === 'string' ? actionId : undefined,
        clickId: typeof clickId === 'string' ? clickId : undefined,
        merchantReferenceId: typeof merchantReferenceId === 'string' ? merchantReferenceId : undefined,
        campaignId: campaignId === undefined ? undefined : idParam(campaignId, 'campaignId'),
      });
      res.json(found.map(transactionJson));
    }),
  );
  router.get(
    '/transactions/:id',
    route(async (req, res) => {
      const { transaction, modifications } = await admin.getTransaction(idParam(req.params.id));
      res.json({ ...transactionJson(transaction), modifications: modifications.map(modificationJson) });
    }),
  );

  const { handEdits } = deps;
  if (handEdits)
    router.post(
      '/transactions/:id/modifications',
      route(async (req, res) => {
        const edit = validate(handEdit, req.body);
        const { transaction, modification } = await handEdits.amend(idParam(req.params.id), edit, {
          actor: 'admin API',
          clientIp: req.clientIp,
          requestId: String(req.id),
        });
        res.status(201).json({ ...transactionJson(transaction), modification: modificationJson(modification) });
      }),
    );

  for (const addRoutes of deps.extend ?? []) addRoutes(router);

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
