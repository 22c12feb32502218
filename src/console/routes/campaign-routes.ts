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
  nameProblems,
  problemOf,
} from '../console-context';
import { postingBase, postingUrls } from '../posting-urls';
import {
  campaignListView,
  campaignView,
  type CampaignDraft,
  type CampaignViewer,
  type WhitelistDraft,
} from '../views/campaigns-view';

const LIST_LIMIT = 200;
const FLAGS = ['allowExternalModification', 'whitelistOnly', 'uniqueMerchantReference'] as const;

/** A campaign as the session may see it: the network sees all and may change all; a merchant, its own. */
export interface CampaignAccess {
  campaign: Campaign;
  viewer: CampaignViewer;
}

/** Sends a campaign's page (again, with `problems`, after a refused form). */
export async function showCampaign(
  req: Request,
  res: Response,
  context: ConsoleContext,
  access: CampaignAccess,
  extra: { problems?: string[]; status?: number; whitelistDraft?: WhitelistDraft } = {},
) {
  const { campaign, viewer } = access;
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
        viewer,
        urls,
        campaignEntries,
        globalCount: globalEntries.length,
        whitelistDraft: extra.whitelistDraft,
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
  const { merchantId } = sessionOf(res);
  const campaigns =
    merchantId === null
      ? await context.admin.listCampaigns(search || null, LIST_LIMIT)
      : await context.merchantCampaigns.list(merchantId, search || null, LIST_LIMIT);
  sendPage(
    req,
    res,
    context,
    {
      title: 'Campaigns',
      section: 'campaigns',
      notice: noticeFor(req),
      problems: extra.problems,
      body: campaignListView(
        campaigns,
        search,
        LIST_LIMIT,
        merchantId === null ? { session: sessionOf(res), draft: extra.draft } : null,
      ),
    },
    extra.status,
  );
}

/**
 * The campaign the path names as the session may see it, or null once the 404 page is sent: another
 * merchant's campaign answers exactly as a missing one.
 */
export function findCampaign(req: Request, res: Response, context: ConsoleContext): Promise<CampaignAccess | null> {
  const { merchantId } = sessionOf(res);
  const load = async (id: number): Promise<CampaignAccess> => {
    if (merchantId === null)
      return { campaign: await context.admin.getCampaign(id), viewer: { merchant: false, canChange: true } };
    const { campaign, selfService } = await context.merchantCampaigns.get(merchantId, id);
    return { campaign, viewer: { merchant: true, canChange: selfService } };
  };
  return foundOr404(req, res, context, load, {
    title: 'Campaign not found',
    section: 'campaigns',
    message: 'There is no campaign with this CID.',
    back: ['/admin/campaigns', 'All campaigns'],
  });
}

/**
 * Campaigns: list and search; per campaign the LinkTrust settings and posting URLs (the password and the
 * campaign's white-list: campaign-credential-routes). A merchant user sees its own campaigns only.
 */
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
      const problems = nameProblems(draft.name, 'Type the campaign’s name.');
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
          problems.push(problemOf(error));
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
      const access = await findCampaign(req, res, context);
      if (access) await showCampaign(req, res, context, access);
    }),
  );

  router.post(
    '/campaigns/:id/settings',
    route(async (req, res) => {
      const access = await findCampaign(req, res, context);
      if (!access) return;
      const { campaign } = access;
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
          await showCampaign(req, res, context, access, { problems: [error.message], status: error.status });
          return;
        }
      }
      seeOther(res, `/admin/campaigns/${campaign.id}?done=settings`);
    }),
  );

  router.post(
    '/campaigns/:id/name',
    route(async (req, res) => {
      const access = await findCampaign(req, res, context);
      if (!access) return;
      const { campaign } = access;
      const name = field(req.body, 'name').trim();
      const problems = nameProblems(name, 'Type the campaign’s new name.');
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
          problems.push(problemOf(error));
        }
      }
      if (problems.length > 0) {
        await showCampaign(req, res, context, access, { problems, status: 400 });
        return;
      }
      seeOther(res, `/admin/campaigns/${campaign.id}?done=campaign-renamed`);
    }),
  );
}
