import type { Router } from 'express';
import { ConsoleContext, sendPage } from '../console-context';
import { apiReferenceView } from '../views/api-reference-view';

/**
 * The admin API's reference: `/admin/api` renders the OpenAPI document for a signed-in admin, and
 * `/admin/api/openapi.json` hands the same document to download (the API serves it to bearer tokens).
 */
export function apiReferenceRoutes(router: Router, context: ConsoleContext): void {
  router.get('/api', (req, res) => {
    const origin = `${req.protocol}://${req.get('host') ?? 'localhost'}`;
    sendPage(req, res, context, {
      title: 'API reference',
      section: 'api',
      body: apiReferenceView(context.apiDocument(), origin),
    });
  });
  router.get('/api/openapi.json', (_req, res) => {
    res.set('Content-Disposition', 'attachment; filename="txedit-openapi.json"').json(context.apiDocument());
  });
}
