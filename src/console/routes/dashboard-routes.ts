import type { Router } from 'express';
import type { PostbackStatus } from '../../store/postback-store';
import { ConsoleContext, route, sendPage } from '../console-context';
import { dashboardView } from '../views/dashboard-view';
import { POSTBACK_FILTERS, PostbackFilter, postbacksView } from '../views/postbacks-view';

const STATUS_OF: Record<PostbackFilter, { status: PostbackStatus; attempted?: boolean }> = {
  delivered: { status: 'delivered' },
  retrying: { status: 'pending', attempted: true },
  waiting: { status: 'pending', attempted: false },
  failed: { status: 'failed' },
};

/** The dashboard (the console's landing page) and the postback deliveries list its figures link to. */
export function dashboardRoutes(router: Router, context: ConsoleContext): void {
  router.get(
    '/',
    route(async (req, res) => {
      const window = req.query.window === '7d' ? '7d' : '24h';
      const dashboard = await context.dashboard.dashboard(window);
      sendPage(req, res, context, {
        title: 'Dashboard',
        section: 'dashboard',
        charts: true,
        body: dashboardView(dashboard),
      });
    }),
  );
  router.get(
    '/postbacks',
    route(async (req, res) => {
      const asked = String(req.query.status ?? '');
      const status = (POSTBACK_FILTERS as readonly string[]).includes(asked) ? (asked as PostbackFilter) : null;
      const deliveries = await context.postbacks.list(status ? STATUS_OF[status] : {});
      sendPage(req, res, context, {
        title: 'Postbacks',
        section: 'dashboard',
        body: postbacksView(deliveries, status),
      });
    }),
  );
}
