import type { Request, Router } from 'express';
import { statisticsReport, statisticsReportQueryOf } from '../../reports/statistics-report';
import { campaignScopeOf, ConsoleContext, route, sendPage } from '../console-context';
import { reportCsv, reportsView } from '../views/reports-view';

function queryOf(req: Request, context: ConsoleContext) {
  const input: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.query)) if (typeof value === 'string') input[name] = value;
  return statisticsReportQueryOf(input, context.processing.calendar.dateOf(Date.now()));
}

/**
 * Reports: hourly and daily statistics with charts, and the same rows as CSV. A merchant session sees its
 * campaigns' rows only (another merchant's campaign as the filter answers as a missing one: no rows).
 */
export function reportRoutes(router: Router, context: ConsoleContext): void {
  router.get(
    '/reports',
    route(async (req, res) => {
      const { query, problems } = queryOf(req, context);
      const scope = await campaignScopeOf(res, context);
      const report = await statisticsReport(context.processing, query, scope);
      sendPage(
        req,
        res,
        context,
        {
          title: 'Reports',
          section: 'reports',
          problems,
          charts: true,
          body: reportsView(report),
        },
        problems.length ? 400 : 200,
      );
    }),
  );
  router.get(
    '/reports.csv',
    route(async (req, res) => {
      const { query, problems } = queryOf(req, context);
      if (problems.length) {
        res
          .status(400)
          .type('text/plain; charset=utf-8')
          .send(`${problems.join('\n')}\n`);
        return;
      }
      const report = await statisticsReport(context.processing, query, await campaignScopeOf(res, context));
      const name = `report-${query.granularity}-${query.from}-${query.to}.csv`;
      res
        .type('text/csv; charset=utf-8')
        .set('Content-Disposition', `attachment; filename="${name}"`)
        .send(reportCsv(report));
    }),
  );
}
