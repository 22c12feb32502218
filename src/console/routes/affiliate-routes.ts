import { MAX_CAMPAIGN_ID } from '../../core/identifier-limits';
import type { Request, Response, Router } from 'express';
import { POSTBACK_TOKENS } from '../../postbacks/url-template';
import type { Affiliate } from '../../store/affiliate-store';
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
import { affiliateListView, affiliateView, type AffiliateDraft } from '../views/affiliates-view';
import type { TestPostbackResult } from '../../postbacks/test-postback';

const PAGE_SIZE = 50;

/** An admin's refusal (bad URL, duplicate AFID) as problems to show; anything else is thrown on. */
async function showList(
  req: Request,
  res: Response,
  context: ConsoleContext,
  extra: { draft?: AffiliateDraft; problems?: string[]; status?: number } = {},
) {
  const search = typeof req.query.q === 'string' ? req.query.q.trim().slice(0, 255) : '';
  const offsetText = typeof req.query.offset === 'string' ? req.query.offset : '';
  const offset = /^[0-9]{1,9}$/.test(offsetText) ? Number(offsetText) : 0;
  // One more than a page tells whether there is a next page without counting.
  const found = await context.admin.listAffiliates(search || null, { limit: PAGE_SIZE + 1, offset });
  sendPage(
    req,
    res,
    context,
    {
      title: 'Affiliates',
      section: 'affiliates',
      notice: noticeFor(req),
      problems: extra.problems,
      body: affiliateListView({
        affiliates: found.slice(0, PAGE_SIZE),
        search,
        offset,
        pageSize: PAGE_SIZE,
        hasMore: found.length > PAGE_SIZE,
        session: sessionOf(res),
        draft: extra.draft,
      }),
    },
    extra.status,
  );
}

function showAffiliate(
  req: Request,
  res: Response,
  context: ConsoleContext,
  affiliate: Affiliate,
  extra: { draft?: AffiliateDraft; problems?: string[]; status?: number; testResult?: TestPostbackResult } = {},
) {
  sendPage(
    req,
    res,
    context,
    {
      title: `Affiliate ${affiliate.id}: ${affiliate.name}`,
      section: 'affiliates',
      notice: noticeFor(req),
      problems: extra.problems,
      body: affiliateView({
        affiliate,
        session: sessionOf(res),
        tokens: POSTBACK_TOKENS,
        draft: extra.draft,
        testResult: extra.testResult,
      }),
    },
    extra.status,
  );
}

/** The affiliate or null (404 page sent). */
function findAffiliate(req: Request, res: Response, context: ConsoleContext): Promise<Affiliate | null> {
  return foundOr404(req, res, context, (id) => context.admin.getAffiliate(id), {
    title: 'Affiliate not found',
    section: 'affiliates',
    message: 'There is no affiliate with this AFID.',
    back: ['/admin/affiliates', 'All affiliates'],
  });
}

function draftOf(body: unknown): AffiliateDraft {
  return {
    id: field(body, 'id').trim(),
    name: field(body, 'name').trim(),
    postbackUrl: field(body, 'postbackUrl').trim(),
  };
}

/** Affiliates: list, search and create; per affiliate its name and postback URL, and a test postback. */
export function affiliateRoutes(router: Router, context: ConsoleContext): void {
  router.get(
    '/affiliates',
    route((req, res) => showList(req, res, context)),
  );

  router.post(
    '/affiliates',
    route(async (req, res) => {
      const draft = draftOf(req.body);
      const problems = nameProblems(draft.name, 'Type the affiliate’s name.');
      const id = draft.id ? idFrom(draft.id) : undefined;
      if (id === null || (id !== undefined && id > MAX_CAMPAIGN_ID))
        problems.push('The AFID must be a positive whole number.');
      let created: Affiliate | null = null;
      if (problems.length === 0) {
        const input = { id: id ?? undefined, name: draft.name, postbackUrl: draft.postbackUrl || null };
        try {
          created = await context.admin.createAffiliate(
            input,
            context.audit.within(
              actorOf(req, res),
              'affiliate.create',
              (a: Affiliate) => `affiliate ${a.id}`,
              (a: Affiliate) => ({ name: a.name, postbackUrl: a.postbackUrl }),
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
      seeOther(res, `/admin/affiliates/${created.id}?done=affiliate-created`);
    }),
  );

  router.get(
    '/affiliates/:id',
    route(async (req, res) => {
      const affiliate = await findAffiliate(req, res, context);
      if (affiliate) showAffiliate(req, res, context, affiliate);
    }),
  );

  router.post(
    '/affiliates/:id',
    route(async (req, res) => {
      const affiliate = await findAffiliate(req, res, context);
      if (!affiliate) return;
      const draft = draftOf(req.body);
      const problems = nameProblems(draft.name, 'Type the affiliate’s name.');
      const wanted = { name: draft.name, postbackUrl: draft.postbackUrl || null };
      const changed = (['name', 'postbackUrl'] as const).filter((key) => wanted[key] !== affiliate[key]);
      if (problems.length === 0 && changed.length > 0) {
        const details = Object.fromEntries(changed.map((key) => [key, { before: affiliate[key], after: wanted[key] }]));
        try {
          await context.admin.updateAffiliate(
            affiliate.id,
            Object.fromEntries(changed.map((key) => [key, wanted[key]])),
            context.audit.within(actorOf(req, res), 'affiliate.update', `affiliate ${affiliate.id}`, details),
          );
        } catch (error) {
          problems.push(problemOf(error));
        }
      }
      if (problems.length > 0) {
        showAffiliate(req, res, context, affiliate, { draft, problems, status: 400 });
        return;
      }
      seeOther(res, `/admin/affiliates/${affiliate.id}?done=affiliate-saved`);
    }),
  );

  router.post(
    '/affiliates/:id/test-postback',
    route(async (req, res) => {
      const affiliate = await findAffiliate(req, res, context);
      if (!affiliate) return;
      let testResult: TestPostbackResult;
      try {
        testResult = await context.admin.testPostback(affiliate.id);
      } catch (error) {
        showAffiliate(req, res, context, affiliate, { problems: [problemOf(error)], status: 409 });
        return;
      }
      // Nothing changed, so the entry is written on its own; it says where a request was sent and what came back.
      await context.audit.record(actorOf(req, res), 'affiliate.test_postback', `affiliate ${affiliate.id}`, {
        url: testResult.url,
        ok: testResult.ok,
        status: testResult.status ?? null,
        error: testResult.error ?? null,
        ms: testResult.ms,
      });
      showAffiliate(req, res, context, affiliate, { testResult });
    }),
  );
}
