import type { Request, Response, Router } from 'express';
import { AdminError } from '../../http/admin-errors';
import type { IntakeInput } from '../../intake/intake-service';
import { actorOf, ConsoleContext, field, idFrom, route, seeOther, sendPage, sessionOf } from '../console-context';
import { type IntakeOnce, intakeView } from '../views/intake-view';

const PROTOCOLS = ['ftp', 'ftps', 'sftp'] as const;

async function showIntake(
  req: Request,
  res: Response,
  context: ConsoleContext,
  campaignId: number,
  extra: { once?: IntakeOnce; problems?: string[]; status?: number } = {},
) {
  const intake = await context.intake.show(campaignId);
  sendPage(
    req,
    res,
    context,
    {
      title: `Intake: campaign ${campaignId}`,
      section: 'campaigns',
      notice: req.query.done === 'saved' ? 'Intake settings saved.' : null,
      problems: extra.problems,
      body: intakeView({ intake, session: sessionOf(res), once: extra.once ?? null }),
    },
    extra.status,
  );
}

/** The settings form as the service takes it, or the problems found. */
function settingsFrom(body: unknown): IntakeInput | string[] {
  const protocol = field(body, 'protocol');
  const upload = field(body, 'upload') === 'on';
  const email = field(body, 'email') === 'on';
  if (protocol === '') return { upload, email, pull: null };
  if (!PROTOCOLS.includes(protocol as (typeof PROTOCOLS)[number])) return ['Choose ftp, ftps, sftp or off.'];
  const problems: string[] = [];
  const host = field(body, 'host').trim();
  const portText = field(body, 'port').trim();
  const port = portText === '' ? undefined : Number(portText);
  if (!/^[A-Za-z0-9.:[\]-]{1,255}$/.test(host)) problems.push('Type the brand’s host name or IP address.');
  if (port !== undefined && !(Number.isInteger(port) && port >= 1 && port <= 65535))
    problems.push('The port must be a whole number from 1 to 65535.');
  const username = field(body, 'username').trim();
  if (username === '') problems.push('Type the user name to log in as.');
  if (problems.length) return problems;
  const password = field(body, 'password');
  return {
    upload,
    email,
    pull: {
      protocol: protocol as (typeof PROTOCOLS)[number],
      host,
      port,
      directory: field(body, 'directory').trim() || '/',
      username,
      ...(password === '' ? {} : { password }),
    },
  };
}

/** A campaign's Intake page and its forms (settings, upload users, e-mail address, pull now); each action audited. */
export function intakeRoutes(router: Router, context: ConsoleContext): void {
  const campaignOf = (req: Request) => {
    const id = idFrom(req.params.id);
    if (id === null) throw new AdminError(404, 'not_found', 'campaign not found');
    return id;
  };
  const refused = async (req: Request, res: Response, id: number, error: unknown) => {
    if (!(error instanceof AdminError) || error.status >= 500 || error.status === 404) throw error;
    await showIntake(req, res, context, id, { problems: [error.message], status: 400 });
  };

  router.get(
    '/campaigns/:id/intake',
    route(async (req, res) => showIntake(req, res, context, campaignOf(req))),
  );

  router.post(
    '/campaigns/:id/intake',
    route(async (req, res) => {
      const id = campaignOf(req);
      const input = settingsFrom(req.body);
      if (Array.isArray(input)) return showIntake(req, res, context, id, { problems: input, status: 400 });
      try {
        await context.intake.set(id, input);
      } catch (error) {
        return refused(req, res, id, error);
      }
      await context.audit.record(actorOf(req, res), 'intake.settings', `campaign ${id}`, {
        upload: input.upload,
        email: input.email,
        pull: input.pull
          ? { protocol: input.pull.protocol, host: input.pull.host, username: input.pull.username }
          : null,
      });
      seeOther(res, `/admin/campaigns/${id}/intake?done=saved`);
    }),
  );

  router.post(
    '/campaigns/:id/intake/credentials',
    route(async (req, res) => {
      const id = campaignOf(req);
      const wanted = field(req.body, 'username').trim();
      let created: { username: string; password: string };
      try {
        created = await context.intake.createCredentials(id, wanted === '' ? undefined : wanted);
      } catch (error) {
        return refused(req, res, id, error);
      }
      await context.audit.record(actorOf(req, res), 'intake.user_created', `campaign ${id}`, {
        username: created.username,
      });
      // Shown in this answer only (no redirect): the password is never stored in clear.
      await showIntake(req, res, context, id, { once: { kind: 'credentials', ...created } });
    }),
  );

  router.post(
    '/campaigns/:id/intake/credentials/:username/revoke',
    route(async (req, res) => {
      const id = campaignOf(req);
      const username = String(req.params.username);
      try {
        await context.intake.revokeCredentials(id, username);
      } catch (error) {
        return refused(req, res, id, error);
      }
      await context.audit.record(actorOf(req, res), 'intake.user_revoked', `campaign ${id}`, { username });
      seeOther(res, `/admin/campaigns/${id}/intake?done=saved`);
    }),
  );

  router.post(
    '/campaigns/:id/intake/email-address',
    route(async (req, res) => {
      const id = campaignOf(req);
      try {
        await context.intake.regenerateAddress(id);
      } catch (error) {
        return refused(req, res, id, error);
      }
      await context.audit.record(actorOf(req, res), 'intake.email_address', `campaign ${id}`);
      seeOther(res, `/admin/campaigns/${id}/intake?done=saved`);
    }),
  );

  router.post(
    '/campaigns/:id/intake/pull',
    route(async (req, res) => {
      const id = campaignOf(req);
      let result;
      try {
        result = await context.intake.pullNow(id);
      } catch (error) {
        return refused(req, res, id, error);
      }
      await context.audit.record(actorOf(req, res), 'intake.pull', `campaign ${id}`, { error: result.error });
      await showIntake(req, res, context, id, { once: { kind: 'pull', result } });
    }),
  );
}
