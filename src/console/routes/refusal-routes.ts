import type { Router } from 'express';
import { refusalQueryOf } from '../../refusals/refusals-router';
import { campaignScopeOf, ConsoleContext, route, sendPage } from '../console-context';
import { refusalsView } from '../views/refusals-view';

const PAGE = 200;

/** Refusals: what /transaction.edit refused, filtered by campaign and client address (a merchant: its own). */
export function refusalRoutes(router: Router, context: ConsoleContext): void {
  router.get(
    '/refusals',
    route(async (req, res) => {
      const text = (value: unknown) => (typeof value === 'string' ? value.trim() : '');
      const filter = { campaignId: text(req.query.campaignId), clientIp: text(req.query.clientIp) };
      const query = refusalQueryOf({
        campaignId: filter.campaignId || undefined,
        clientIp: filter.clientIp || undefined,
        limit: String(PAGE),
      });
      // A merchant user sees its campaigns' refusals only: another merchant's CID finds nothing, like a missing one.
      const scope = await campaignScopeOf(res, context);
      if (scope !== null) query.campaignIds = (query.campaignIds ?? [...scope]).filter((id) => scope.has(id));
      const counts = await context.refusals.list(query);
      sendPage(req, res, context, {
        title: 'Refusals',
        section: 'refusals',
        body: refusalsView(counts, filter, scope !== null),
      });
    }),
  );
}
