import type { Router } from 'express';
import { z } from 'zod';
import { MAX_CAMPAIGN_ID } from '../core/identifier-limits';
import { apiRoute } from '../http/api-routes';
import { idParameter, isoInstant } from '../http/api-schemas';
import type { IntakeService, IntakeView } from './intake-service';
import type { PullResult } from './pull-run';

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

/** A campaign's intake as the admin API answers it (never the pull password). */
export const intakeSchema = z
  .object({
    campaignId: z.number().int(),
    upload: z.boolean().meta({ description: "FTP/SFTP upload by the campaign's intake users" }),
    email: z.boolean().meta({ description: 'files mailed to `emailAddress`' }),
    emailAddress: z.string().nullable(),
    pull: z
      .object({
        protocol: z.enum(['ftp', 'ftps', 'sftp']),
        host: z.string(),
        port: z.number().int(),
        directory: z.string(),
        username: z.string(),
        hostKeySha256: z.string().nullable().meta({ description: 'SFTP: the pinned host key (null: none yet)' }),
        passwordSet: z.boolean(),
      })
      .nullable()
      .meta({ description: "the scheduled pull from the brand's server (null: none)" }),
    lastPull: z.object({ at: isoInstant.nullable(), taken: z.number().int(), error: z.string().nullable() }).nullable(),
    users: z.array(
      z.object({ username: z.string(), createdAt: isoInstant.nullable(), revokedAt: isoInstant.nullable() }),
    ),
  })
  .meta({ id: 'Intake' });

/** A campaign's intake as JSON (the pull password never appears). */
export function intakeJson(view: IntakeView): z.output<typeof intakeSchema> {
  return {
    campaignId: view.campaignId,
    upload: view.upload,
    email: view.email,
    emailAddress: view.emailAddress,
    pull: view.pull,
    lastPull: view.lastPull && { at: iso(view.lastPull.at), taken: view.lastPull.taken, error: view.lastPull.error },
    users: view.users.map((u) => ({ username: u.username, createdAt: iso(u.createdAt), revokedAt: iso(u.revokedAt) })),
  };
}

/** What a pull did, as the admin API answers it. */
export const pullResultSchema = z
  .object({
    at: isoInstant.nullable(),
    taken: z.array(z.object({ name: z.string(), batchId: z.number().int().nullable(), error: z.string().nullable() })),
    error: z.string().nullable(),
  })
  .meta({ id: 'PullResult' });

/** What a pull did, as JSON. */
export function pullJson(result: PullResult): z.output<typeof pullResultSchema> {
  return { at: iso(result.at), taken: result.taken, error: result.error };
}

const host = z
  .string()
  .trim()
  .min(1)
  .max(255)
  .regex(/^[A-Za-z0-9.:[\]-]+$/, 'must be a host name or IP address');
const pull = z.strictObject({
  protocol: z.enum(['ftp', 'ftps', 'sftp']),
  host,
  port: z.number().int().min(1).max(65535).optional(),
  directory: z.string().min(1).max(1024).optional(),
  username: z.string().min(1).max(255),
  password: z.string().min(1).max(1024).optional(),
});
const intakeSettings = z.strictObject({ upload: z.boolean(), pull: pull.nullable(), email: z.boolean() });
const credentials = z.strictObject({ username: z.string().optional() });
const credentialsSchema = z
  .object({ campaignId: z.number().int(), username: z.string(), password: z.string() })
  .meta({ id: 'IntakeCredentials' });
const merchantAddressSchema = z
  .object({
    merchantId: z.number().int(),
    emailAddress: z.string().nullable().meta({
      description: "files mailed here cover exactly the merchant's campaigns (null: the merchant has no address)",
    }),
  })
  .meta({ id: 'MerchantIntakeEmailAddress' });
const merchantCredentialsSchema = z
  .object({ merchantId: z.number().int(), username: z.string(), password: z.string() })
  .meta({ id: 'MerchantIntakeCredentials' });

/**
 * Admin routes of a campaign's intake: `GET/PUT /campaigns/:id/intake`, `POST /campaigns/:id/intake/credentials`
 * (answers the password once), `DELETE /campaigns/:id/intake/credentials/:username`,
 * `POST /campaigns/:id/intake/email-address` (a new address; the old one is retired), and
 * `POST /campaigns/:id/intake/pull` (pull now); and a merchant's upload users, which cover exactly its
 * campaigns (also those given it later): `POST /merchants/:id/intake/credentials`,
 * `DELETE /merchants/:id/intake/credentials/:username`; and a merchant's own e-mail address:
 * `GET|POST|DELETE /merchants/:id/intake/email-address`.
 */
export function intakeRoutes(deps: { intake: IntakeService }) {
  const { intake } = deps;
  const tag = 'Intake';
  const campaignPath = z.object({ id: idParameter('id', MAX_CAMPAIGN_ID) });
  const noCampaign = 'no such campaign';
  const merchantPath = z.object({ id: idParameter('id', 2_147_483_647) });
  return (router: Router): void => {
    apiRoute(
      router,
      {
        method: 'post',
        path: '/merchants/:id/intake/credentials',
        tag,
        summary: "Create a merchant's upload user",
        description:
          "The password is answered this once. The user's files may touch exactly the merchant's campaigns, as they are when the rows run.",
        params: merchantPath,
        body: credentials,
        responses: { 201: { description: 'the user and its password', schema: merchantCredentialsSchema } },
        errors: { 404: 'no such merchant', 409: 'the username is taken' },
      },
      async ({ params, body }, _req, res) => {
        res
          .status(201)
          .json({ merchantId: params.id, ...(await intake.createMerchantCredentials(params.id, body.username)) });
      },
    );
    apiRoute(
      router,
      {
        method: 'delete',
        path: '/merchants/:id/intake/credentials/:username',
        tag,
        summary: "Revoke a merchant's upload user",
        params: merchantPath.extend({ username: z.string().meta({ description: 'the upload user' }) }),
        responses: { 204: { description: 'revoked' } },
        errors: { 404: 'no such merchant or user' },
      },
      async ({ params }, _req, res) => {
        await intake.revokeMerchantCredentials(params.id, params.username);
        res.status(204).end();
      },
    );
    apiRoute(
      router,
      {
        method: 'get',
        path: '/merchants/:id/intake/email-address',
        tag,
        summary: "Show a merchant's e-mail intake address",
        params: merchantPath,
        responses: { 200: { description: 'the current address, or null', schema: merchantAddressSchema } },
        errors: { 404: 'no such merchant' },
      },
      async ({ params }, _req, res) => {
        res.json(await intake.merchantAddress(params.id));
      },
    );
    apiRoute(
      router,
      {
        method: 'post',
        path: '/merchants/:id/intake/email-address',
        tag,
        summary: 'Give the merchant a new e-mail intake address',
        description:
          "Each .csv/.xml attachment of a message to it becomes a batch of the merchant, whose rows may touch exactly the merchant's campaigns, as they are when the rows run. A current address is retired: mail to it is refused from now on.",
        params: merchantPath,
        responses: { 200: { description: 'the new address', schema: merchantAddressSchema } },
        errors: { 404: 'no such merchant', 409: 'e-mail intake is off (SMTP_DOMAIN unset)' },
      },
      async ({ params }, _req, res) => {
        res.json(await intake.replaceMerchantAddress(params.id));
      },
    );
    apiRoute(
      router,
      {
        method: 'delete',
        path: '/merchants/:id/intake/email-address',
        tag,
        summary: "Retire a merchant's e-mail intake address",
        description: 'Mail to it is refused from now on.',
        params: merchantPath,
        responses: { 204: { description: 'retired' } },
        errors: { 404: 'no such merchant, or it has no address' },
      },
      async ({ params }, _req, res) => {
        await intake.retireMerchantAddress(params.id);
        res.status(204).end();
      },
    );
    apiRoute(
      router,
      {
        method: 'get',
        path: '/campaigns/:id/intake',
        tag,
        summary: "Show a campaign's intake",
        params: campaignPath,
        responses: { 200: { description: 'the intake settings', schema: intakeSchema } },
        errors: { 404: noCampaign },
      },
      async ({ params }, _req, res) => {
        res.json(intakeJson(await intake.show(params.id)));
      },
    );
    apiRoute(
      router,
      {
        method: 'put',
        path: '/campaigns/:id/intake',
        tag,
        summary: "Set a campaign's intake",
        description: 'A pull without `password` keeps the one set before.',
        params: campaignPath,
        body: intakeSettings,
        responses: { 200: { description: 'the intake settings', schema: intakeSchema } },
        errors: { 404: noCampaign },
      },
      async ({ params, body }, _req, res) => {
        res.json(intakeJson(await intake.set(params.id, body)));
      },
    );
    apiRoute(
      router,
      {
        method: 'post',
        path: '/campaigns/:id/intake/credentials',
        tag,
        summary: 'Create an upload user',
        description: 'The password is answered this once.',
        params: campaignPath,
        body: credentials,
        responses: { 201: { description: 'the user and its password', schema: credentialsSchema } },
        errors: { 404: noCampaign, 409: 'the username is taken' },
      },
      async ({ params, body }, _req, res) => {
        res.status(201).json({ campaignId: params.id, ...(await intake.createCredentials(params.id, body.username)) });
      },
    );
    apiRoute(
      router,
      {
        method: 'delete',
        path: '/campaigns/:id/intake/credentials/:username',
        tag,
        summary: 'Revoke an upload user',
        params: campaignPath.extend({ username: z.string().meta({ description: 'the upload user' }) }),
        responses: { 204: { description: 'revoked' } },
        errors: { 404: 'no such campaign or user' },
      },
      async ({ params }, _req, res) => {
        await intake.revokeCredentials(params.id, params.username);
        res.status(204).end();
      },
    );
    apiRoute(
      router,
      {
        method: 'post',
        path: '/campaigns/:id/intake/email-address',
        tag,
        summary: 'Give the campaign a new e-mail address',
        description: 'The old address is retired.',
        params: campaignPath,
        responses: { 200: { description: 'the intake settings', schema: intakeSchema } },
        errors: { 404: noCampaign, 409: 'e-mail intake is off (SMTP_DOMAIN unset, or `email` false)' },
      },
      async ({ params }, _req, res) => {
        res.json(intakeJson(await intake.regenerateAddress(params.id)));
      },
    );
    apiRoute(
      router,
      {
        method: 'post',
        path: '/campaigns/:id/intake/pull',
        tag,
        summary: "Pull from the brand's server now",
        params: campaignPath,
        responses: { 200: { description: 'what the pull took', schema: pullResultSchema } },
        errors: { 404: noCampaign, 409: 'the campaign has no pull settings, or pulling is off in this process' },
      },
      async ({ params }, _req, res) => {
        res.json(pullJson(await intake.pullNow(params.id)));
      },
    );
  };
}
