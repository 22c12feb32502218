import type { Router } from 'express';
import { ConsoleContext, idFrom, route, sendPage } from '../console-context';
import { auditView } from '../views/audit-view';

const PAGE = 100;

/** The audit log of console changes. */
export function auditRoutes(router: Router, context: ConsoleContext): void {
  router.get(
    '/audit',
    route(async (req, res) => {
      const before = idFrom(req.query.before) ?? undefined;
      const entries = await context.audit.recent({ limit: PAGE, beforeId: before });
      const older = entries.length === PAGE ? `/admin/audit?before=${entries[entries.length - 1].id}` : null;
      sendPage(req, res, context, { title: 'Audit log', section: 'audit', body: auditView(entries, older) });
    }),
  );
}
