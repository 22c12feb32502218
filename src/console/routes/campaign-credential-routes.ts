import type { Request, Response, Router } from 'express';
import { AdminError } from '../../http/admin-errors';
import type { Campaign } from '../../store/campaign-store';
import type { WhitelistEntry } from '../../store/whitelist-store';
import { actorOf, ConsoleContext, field, idFrom, route, seeOther, sessionOf } from '../console-context';
import { type CampaignAccess, findCampaign, showCampaign } from './campaign-routes';

/** The campaign page again with the refusal's words, kept for what a person can fix; other failures throw. */
async function refused(
  req: Request,
  res: Response,
  context: ConsoleContext,
  access: CampaignAccess,
  error: unknown,
  extra: { whitelistDraft?: { address: string; note: string } } = {},
): Promise<void> {
  if (!(error instanceof AdminError) || error.status >= 500) throw error;
  // A 404 here is an entry gone since the page was drawn: the campaign itself was found.
  const status = error.status === 404 ? 404 : error.status === 403 ? 403 : 400;
  const message = error.status === 404 ? 'That white-list entry no longer exists.' : error.message;
  await showCampaign(req, res, context, access, { problems: [message], status, ...extra });
}

/**
 * What lets a merchant's CRM in, on the campaign's page: the custom password and the campaign's own
 * white-list entries. The network may change both; a merchant user only on its own campaigns and only with
 * self-service on (`MerchantCampaigns`). Every change is audited in the same unit.
 */
export function campaignCredentialRoutes(router: Router, context: ConsoleContext): void {
  router.post(
    '/campaigns/:id/password',
    route(async (req, res) => {
      const access = await findCampaign(req, res, context);
      if (!access) return;
      const { campaign } = access;
      const password = field(req.body, 'password');
      const problems: string[] = [];
      if (password === '') problems.push('Type the new password.');
      else if (password !== field(req.body, 'confirm'))
        problems.push('The two passwords are not the same. Type them again.');
      if (problems.length > 0) {
        await showCampaign(req, res, context, access, { problems, status: 400 });
        return;
      }
      const action = campaign.passwordHash ? 'campaign.password_rotated' : 'campaign.password_set';
      const audit = context.audit.within<Campaign>(actorOf(req, res), action, `campaign ${campaign.id}`);
      const { merchantId } = sessionOf(res);
      try {
        if (merchantId === null) await context.admin.updateCampaign(campaign.id, { password }, audit);
        else await context.merchantCampaigns.setPassword(merchantId, campaign.id, password, audit);
      } catch (error) {
        await refused(req, res, context, access, error);
        return;
      }
      seeOther(res, `/admin/campaigns/${campaign.id}?done=password`);
    }),
  );

  router.post(
    '/campaigns/:id/whitelist',
    route(async (req, res) => {
      const access = await findCampaign(req, res, context);
      if (!access) return;
      const { campaign } = access;
      const draft = { address: field(req.body, 'address').trim(), note: field(req.body, 'note').trim() };
      const problems: string[] = [];
      if (draft.address === '') problems.push('Type an IP address or CIDR range.');
      if (draft.note.length > 255) problems.push('The note must be at most 255 characters.');
      if (problems.length > 0) {
        await showCampaign(req, res, context, access, { problems, status: 400, whitelistDraft: draft });
        return;
      }
      const input = { address: draft.address, note: draft.note || null };
      const audit = context.audit.within<WhitelistEntry>(
        actorOf(req, res),
        'whitelist.add',
        `campaign ${campaign.id}`,
        (entry) => ({ entryId: entry.id, address: entry.address, note: entry.note }),
      );
      const { merchantId } = sessionOf(res);
      try {
        if (merchantId === null) await context.admin.addWhitelistEntry({ ...input, campaignId: campaign.id }, audit);
        else await context.merchantCampaigns.addWhitelistEntry(merchantId, campaign.id, input, audit);
      } catch (error) {
        await refused(req, res, context, access, error, { whitelistDraft: draft });
        return;
      }
      seeOther(res, `/admin/campaigns/${campaign.id}?done=whitelist-added`);
    }),
  );

  router.post(
    '/campaigns/:id/whitelist/:entryId/remove',
    route(async (req, res) => {
      const access = await findCampaign(req, res, context);
      if (!access) return;
      const { campaign } = access;
      const entryId = idFrom(req.params.entryId) ?? 0;
      const audit = (entry: WhitelistEntry) =>
        context.audit.within<void>(actorOf(req, res), 'whitelist.remove', `campaign ${campaign.id}`, {
          entryId: entry.id,
          address: entry.address,
          note: entry.note,
        });
      const { merchantId } = sessionOf(res);
      try {
        if (merchantId === null) await context.admin.removeCampaignWhitelistEntry(campaign.id, entryId, audit);
        else await context.merchantCampaigns.removeWhitelistEntry(merchantId, campaign.id, entryId, audit);
      } catch (error) {
        await refused(req, res, context, access, error);
        return;
      }
      seeOther(res, `/admin/campaigns/${campaign.id}?done=whitelist-removed`);
    }),
  );
}
