import type { Request, Response, Router } from 'express';
import { z } from 'zod';
import { MAX_CAMPAIGN_ID } from '../core/identifier-limits';
import { idParam, validate } from '../http/params';
import type { IntakeService, IntakeView } from './intake-service';
import type { PullResult } from './pull-run';

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

/** A campaign's intake as JSON (the pull password never appears). */
export function intakeJson(view: IntakeView) {
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

/** What a pull did, as JSON. */
export function pullJson(result: PullResult) {
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

/**
 * Admin routes of a campaign's intake: `GET/PUT /campaigns/:id/intake`, `POST /campaigns/:id/intake/credentials`
 * (answers the password once), `DELETE /campaigns/:id/intake/credentials/:username`,
 * `POST /campaigns/:id/intake/email-address` (a new address; the old one is retired), and
 * `POST /campaigns/:id/intake/pull` (pull now).
 */
export function intakeRoutes(deps: { intake: IntakeService }) {
  const { intake } = deps;
  const campaignId = (req: Request) => idParam(req.params.id, 'id', MAX_CAMPAIGN_ID);
  return (router: Router): void => {
    router.get('/campaigns/:id/intake', async (req: Request, res: Response) => {
      res.json(intakeJson(await intake.show(campaignId(req))));
    });
    router.put('/campaigns/:id/intake', async (req: Request, res: Response) => {
      const id = campaignId(req);
      res.json(intakeJson(await intake.set(id, validate(intakeSettings, req.body))));
    });
    router.post('/campaigns/:id/intake/credentials', async (req: Request, res: Response) => {
      const id = campaignId(req);
      const { username } = validate(credentials, req.body);
      res.status(201).json({ campaignId: id, ...(await intake.createCredentials(id, username)) });
    });
    router.delete('/campaigns/:id/intake/credentials/:username', async (req: Request, res: Response) => {
      await intake.revokeCredentials(campaignId(req), String(req.params.username));
      res.status(204).end();
    });
    router.post('/campaigns/:id/intake/email-address', async (req: Request, res: Response) => {
      res.json(intakeJson(await intake.regenerateAddress(campaignId(req))));
    });
    router.post('/campaigns/:id/intake/pull', async (req: Request, res: Response) => {
      res.json(pullJson(await intake.pullNow(campaignId(req))));
    });
  };
}
