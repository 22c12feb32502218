import type { Request, Response, Router } from 'express';
import type { WhitelistEntry } from '../../store/whitelist-store';
import {
  actorOf,
  ConsoleContext,
  field,
  idFrom,
  noticeFor,
  route,
  seeOther,
  sendPage,
  sessionOf,
  problemOf,
} from '../console-context';
import { pathWithQuery } from '../html';
import { WhitelistFilter, WhitelistForm, whitelistView } from '../views/whitelist-view';

/** What an audit entry of the white-list names: the campaign's list or the global one. */
const whitelistTarget = (entry: Pick<WhitelistEntry, 'campaignId'>) =>
  entry.campaignId === null ? 'global white-list' : `campaign ${entry.campaignId}`;

function filterOf(value: unknown): WhitelistFilter {
  if (value === 'global') return { kind: 'global' };
  const id = idFrom(value);
  return id === null ? { kind: 'all' } : { kind: 'campaign', campaignId: id };
}

function pathOf(filter: WhitelistFilter): string {
  if (filter.kind === 'all') return '/admin/whitelist';
  return pathWithQuery('/admin/whitelist', { campaignId: filter.kind === 'global' ? 'global' : filter.campaignId });
}

// Only our own white-list page may be a redirect target, never an outside URL.
function safeReturn(value: string): string {
  return /^\/admin\/whitelist(\?campaignId=(global|\d{1,10}))?$/.test(value) ? value : '/admin/whitelist';
}

function withDone(path: string, done: string): string {
  return `${path}${path.includes('?') ? '&' : '?'}done=${done}`;
}

async function showWhitelist(
  req: Request,
  res: Response,
  context: ConsoleContext,
  filter: WhitelistFilter,
  extra: { form?: WhitelistForm; problems?: string[]; status?: number } = {},
) {
  const all = await context.admin.listWhitelist();
  const entries =
    filter.kind === 'all'
      ? all
      : all.filter((e) => e.campaignId === null || (filter.kind === 'campaign' && e.campaignId === filter.campaignId));
  const form = extra.form ?? {
    address: '',
    campaignId: filter.kind === 'campaign' ? String(filter.campaignId) : '',
    note: '',
  };
  const title = filter.kind === 'campaign' ? `White-listed IPs: campaign ${filter.campaignId}` : 'White-listed IPs';
  sendPage(
    req,
    res,
    context,
    {
      title,
      section: 'whitelist',
      notice: noticeFor(req),
      problems: extra.problems,
      body: whitelistView({ entries, filter, form, session: sessionOf(res), returnTo: pathOf(filter) }),
    },
    extra.status,
  );
}

/** White-listed IPs (LinkTrust's Accounts > Domains/IPs): global and per campaign; add and remove. */
export function whitelistRoutes(router: Router, context: ConsoleContext): void {
  router.get(
    '/whitelist',
    route(async (req, res) => {
      await showWhitelist(req, res, context, filterOf(req.query.campaignId));
    }),
  );

  router.post(
    '/whitelist',
    route(async (req, res) => {
      const form: WhitelistForm = {
        address: field(req.body, 'address').trim(),
        campaignId: field(req.body, 'campaignId').trim(),
        note: field(req.body, 'note').trim(),
      };
      const returnTo = safeReturn(field(req.body, 'returnTo'));
      const filter = filterOf(new URL(returnTo, 'http://console').searchParams.get('campaignId'));
      const problems: string[] = [];
      const campaignId = form.campaignId === '' ? null : idFrom(form.campaignId);
      if (form.address === '') problems.push('Type an IP address or CIDR range.');
      if (form.campaignId !== '' && campaignId === null)
        problems.push('Campaign ID must be a positive whole number, or empty for a global entry.');
      if (form.note.length > 255) problems.push('The note must be at most 255 characters.');
      if (problems.length === 0) {
        try {
          const audit = context.audit.within<WhitelistEntry>(
            actorOf(req, res),
            'whitelist.add',
            whitelistTarget,
            (entry) => ({ entryId: entry.id, address: entry.address, note: entry.note }),
          );
          await context.admin.addWhitelistEntry({ address: form.address, campaignId, note: form.note || null }, audit);
          seeOther(res, withDone(returnTo, 'whitelist-added'));
          return;
        } catch (error) {
          problems.push(problemOf(error));
        }
      }
      await showWhitelist(req, res, context, filter, { form, problems, status: 400 });
    }),
  );

  router.post(
    '/whitelist/:id/remove',
    route(async (req, res) => {
      const id = idFrom(req.params.id);
      const returnTo = safeReturn(field(req.body, 'returnTo'));
      const entry = id === null ? undefined : (await context.admin.listWhitelist()).find((e) => e.id === id);
      if (!entry) {
        await showWhitelist(
          req,
          res,
          context,
          { kind: 'all' },
          { problems: ['That white-list entry no longer exists.'], status: 404 },
        );
        return;
      }
      const details = { entryId: entry.id, address: entry.address, note: entry.note };
      await context.admin.removeWhitelistEntry(
        entry.id,
        context.audit.within(actorOf(req, res), 'whitelist.remove', whitelistTarget(entry), details),
      );
      seeOther(res, withDone(returnTo, 'whitelist-removed'));
    }),
  );
}
