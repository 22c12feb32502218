import { MAX_CAMPAIGN_ID } from '../../core/identifier-limits';
import type { Request, Response, Router } from 'express';
import { AdminError } from '../../http/admin-errors';
import type { Campaign } from '../../store/campaign-store';
import {
  foundOr404,
  actorOf,
  ConsoleContext,
  field,
  idFrom,
  noticeFor,
  route,
  seeOther,
  sendPage,
  sessionOf,
} from '../console-context';
import { postingBase, postingUrls } from '../posting-urls';
import { campaignListView, campaignView, type CampaignDraft } from '../views/campaigns-view';

const LIST_LIMIT = 200;
const FLAGS = ['allowExternalModification', 'whitelistOnly', 'uniqueMerchantReference'] as const;

async function showCampaign(
  req: Request,
  res: Response,
  context: ConsoleContext,
  campaign: Campaign,
  extra: { problems?: string[]; status?: number } = {},
) {
  const [campaignEntries, globalEntries] = await Promise.all([
    context.admin.listWhitelist(campaign.id),
    context.admin.listWhitelist(null),
  ]);
  const urls = postingUrls(postingBase(req.protocol, req.get('host')), campaign);
  sendPage(
    req,
    res,
    context,
    {
      title: `Campaign ${campaign.id}: ${campaign.name}`,
      section: 'campaigns',
      notice: noticeFor(req),
      problems: extra.problems,
      body: campaignView({
        campaign,
        session: sessionOf(res),
        urls,
        campaignEntries,
        globalCount: globalEntries.length,
      }),
    },
    extra.status,
  );
}

async function showList(
  req: Request,
  res: Response,
  context: ConsoleContext,
  extra: { draft?: CampaignDraft; problems?: string[]; status?: number } = {},
) {
  const search = typeof req.query.q === 'string' ? req.query.q.trim().slice(0, 255) : '';
  const campaigns = await context.admin.listCampaigns(search || null, LIST_LIMIT);
  sendPage(
    req,
    res,
    context,
    {
      title: 'Campaigns',
      section: 'campaigns',
      notice: noticeFor(req),
      problems: extra.problems,
      body: campaignListView(campaigns, search, LIST_LIMIT, { session: sessionOf(res), draft: extra.draft }),
    },
    extra.status,
  );
}

/** The campaign or null (404 page sent). */
function findCampaign(req: Request, res: Response, context: ConsoleContext): Promise<Campaign | null> {
  return foundOr404(req, res, context, (id) => context.admin.getCampaign(id), {
    title: 'Campaign not found',
    section: 'campaigns',
    message: 'There is no campaign with this CID.',
    back: ['/admin/campaigns', 'All campaigns'],
  });
}

/** Campaigns: list and search; per campaign the LinkTrust settings, the password, and posting URLs. */
export function campaignRoutes(router: Router, context: ConsoleContext): void {
  router.get(
    '/campaigns',
    route(async (req, res) => {
      await showList(req, res, context);
    }),
  );

  router.post(
    '/campaigns',
    route(async (req, res) => {
      const draft = { id: field(req.body, 'id').trim(), name: field(req.body, 'name').trim() };
      const problems: string[] = [];
      if (draft.name === '') problems.push('Type the campaign’s name.');
      if (draft.name.length > 255) problems.push('The name is longer than 255 characters.');
      const id = draft.id ? idFrom(draft.id) : undefined;
      if (id === null || (id !== undefined && id > MAX_CAMPAIGN_ID))
        problems.push('The CID must be a positive whole number.');
      let created: Campaign | null = null;
      if (problems.length === 0) {
        try {
          created = await context.admin.createCampaign(
            { id: id ?? undefined, name: draft.name },
            context.audit.within(
              actorOf(req, res),
              'campaign.create',
              (c: Campaign) => `campaign ${c.id}`,
              (c: Campaign) => ({ name: c.name }),
            ),
          );
        } catch (error) {
          if (!(error instanceof AdminError) || error.status >= 500) throw error;
          problems.push(error.message);
        }
      }
      if (!created) {
        await showList(req, res, context, { draft, problems, status: 400 });
        return;
      }
      seeOther(res, `/admin/campaigns/${created.id}?done=campaign-created`);
    }),
  );

  router.get(
    '/campaigns/:id',
    route(async (req, res) => {
      const campaign = await findCampaign(req, res, context);
      if (campaign) await showCampaign(req, res, context, campaign);
    }),
  );

  router.post(
    '/campaigns/:id/settings',
    route(async (req, res) => {
      const campaign = await findCampaign(req, res, context);
      if (!campaign) return;
      // Unticked checkboxes are simply absent from a form post: absent means off.
      const wanted = Object.fromEntries(FLAGS.map((flag) => [flag, field(req.body, flag) === 'on'])) as Record<
        (typeof FLAGS)[number],
        boolean
      >;
      const changed = FLAGS.filter((flag) => wanted[flag] !== campaign[flag]);
      if (changed.length > 0) {
        const details = Object.fromEntries(
          changed.map((flag) => [flag, { before: campaign[flag], after: wanted[flag] }]),
        );
        try {
          await context.admin.updateCampaign(
            campaign.id,
            wanted,
            context.audit.within(actorOf(req, res), 'campaign.settings', `campaign ${campaign.id}`, details),
          );
        } catch (error) {
          if (!(error instanceof AdminError) || error.status >= 500) throw error;
          await showCampaign(req, res, context, campaign, { problems: [error.message], status: error.status });
          return;
        }
      }
      seeOther(res, `/admin/campaigns/${campaign.id}?done=settings`);
    }),
  );

  router.post(
    '/campaigns/:id/name',
    route(async (req, res) => {
      const campaign = await findCampaign(req, res, context);
      if (!campaign) return;
      const name = field(req.body, 'name').trim();
      const problems: string[] = [];
      if (name === '') problems.push('Type the campaign’s new name.');
      if (name.length > 255) problems.push('The name is longer than 255 characters.');
      if (problems.length === 0 && name !== campaign.name) {
        try {
          await context.admin.updateCampaign(
            campaign.id,
            { name },
            context.audit.within(actorOf(req, res), 'campaign.rename', `campaign ${campaign.id}`, {
              name: { before: campaign.name, after: name },
            }),
          );
        } catch (error) {
          if (!(error instanceof AdminError) || error.status >= 500) throw error;
          problems.push(error.message);
        }
      }
      if (problems.length > 0) {
        await showCampaign(req, res, context, campaign, { problems, status: 400 });
        return;
      }
      seeOther(res, `/admin/campaigns/${campaign.id}?done=campaign-renamed`);
    }),
  );

  router.post(
    '/campaigns/:id/password',
    route(async (req, res) => {
      const campaign = await findCampaign(req, res, context);
      if (!campaign) return;
      const password = field(req.body, 'password');
      const confirm = field(req.body, 'confirm');
      const problems: string[] = [];
      if (password === '') problems.push('Type the new password.');
      else if (password !== confirm) problems.push('The two passwords are not the same. Type them again.');
      if (problems.length === 0) {
        const action = campaign.passwordHash ? 'campaign.password_rotated' : 'campaign.password_set';
        try {
          await context.admin.updateCampaign(
            campaign.id,
            { password },
            context.audit.within(actorOf(req, res), action, `campaign ${campaign.id}`),
          );
        } catch (error) {
          if (!(error instanceof AdminError) || error.status >= 500) throw error;
          problems.push(error.message);
        }
      }
      if (problems.length > 0) {
        await showCampaign(req, res, context, campaign, { problems, status: 400 });
        return;
      }
      seeOther(res, `/admin/campaigns/${campaign.id}?done=password`);
    }),
  );
}
