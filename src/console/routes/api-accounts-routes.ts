import type { Request, Response, Router } from 'express';
import { MAX_CAMPAIGN_ID } from '../../core/identifier-limits';
import { MAX_ACCOUNT_CAMPAIGNS, type ApiAccountView } from '../../impact-api/api-account-service';
import { actorOf, ConsoleContext, field, noticeFor, route, seeOther, sendPage, sessionOf } from '../console-context';
import { apiAccountsView, type ApiAccountForm, type NewCredentials } from '../views/api-accounts-view';

/** An account SID as the service makes them: letters and digits (it is part of the revoke URL). */
const SID = /^[A-Za-z0-9]{1,64}$/;

async function showAccounts(
  req: Request,
  res: Response,
  context: ConsoleContext,
  extra: { form?: ApiAccountForm; problems?: string[]; status?: number; created?: NewCredentials } = {},
) {
  const accounts = await context.apiAccounts.list();
  sendPage(
    req,
    res,
    context,
    {
      title: 'API accounts',
      section: 'api-accounts',
      notice: noticeFor(req),
      problems: extra.problems,
      body: apiAccountsView({
        accounts,
        form: extra.form ?? { name: '', campaignIds: '' },
        session: sessionOf(res),
        created: extra.created,
      }),
    },
    extra.status,
  );
}

/** The campaign ids of the form's field, or the problem with them. */
function campaignIdsOf(text: string): number[] | string {
  const parts = text.split(/[\s,]+/).filter(Boolean);
  if (parts.length === 0) return 'Give at least one campaign ID.';
  if (parts.length > MAX_ACCOUNT_CAMPAIGNS) return `An account may hold at most ${MAX_ACCOUNT_CAMPAIGNS} campaigns.`;
  const ids: number[] = [];
  for (const part of parts) {
    const id = /^\d{1,10}$/.test(part) ? Number(part) : 0;
    if (id < 1 || id > MAX_CAMPAIGN_ID)
      return `Campaign IDs must be positive whole numbers (not “${part.slice(0, 20)}”).`;
    ids.push(id);
  }
  return ids;
}

/**
 * impact.com API accounts: list, create (the token is shown on the answering page, once — never in a
 * redirect's URL, which browsers keep in their history) and revoke. Each change is audited.
 */
export function apiAccountsRoutes(router: Router, context: ConsoleContext): void {
  router.get(
    '/api-accounts',
    route(async (req, res) => {
      await showAccounts(req, res, context);
    }),
  );

  router.post(
    '/api-accounts',
    route(async (req, res) => {
      const form: ApiAccountForm = {
        name: field(req.body, 'name').trim(),
        campaignIds: field(req.body, 'campaignIds').trim(),
      };
      const problems: string[] = [];
      if (form.name === '') problems.push('Give the account a name.');
      if (form.name.length > 255) problems.push('The name must be at most 255 characters.');
      const campaignIds = campaignIdsOf(form.campaignIds);
      if (typeof campaignIds === 'string') problems.push(campaignIds);
      if (problems.length === 0 && typeof campaignIds !== 'string') {
        // Never the token in the audit entry: the audit log is read by every console user.
        const audit = context.audit.within<ApiAccountView>(
          actorOf(req, res),
          'api_account.create',
          (account) => `API account ${account.accountSid}`,
          (account) => ({ name: account.name, campaignIds: account.campaignIds }),
        );
        const created = await context.apiAccounts.create({ name: form.name, campaignIds }, audit);
        if (created.ok) {
          const { accountSid } = created.account;
          await showAccounts(req, res, context, { created: { accountSid, authToken: created.authToken }, status: 201 });
          return;
        }
        problems.push(created.message);
      }
      await showAccounts(req, res, context, { form, problems, status: 400 });
    }),
  );

  router.post(
    '/api-accounts/:sid/revoke',
    route(async (req, res) => {
      const sid = String(req.params.sid);
      const audit = context.audit.within<string>(actorOf(req, res), 'api_account.revoke', `API account ${sid}`);
      const revoked = SID.test(sid) ? await context.apiAccounts.revoke(sid, audit) : null;
      if (!revoked) {
        await showAccounts(req, res, context, { problems: ['That API account does not exist.'], status: 404 });
        return;
      }
      seeOther(res, '/admin/api-accounts?done=api-account-revoked');
    }),
  );
}
