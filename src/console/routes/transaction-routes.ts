import type { Request, Response, Router } from 'express';
import { AdminError } from '../../http/admin-errors';
import type { Transaction } from '../../core/transaction';
import { parseMoney, type Money } from '../../core/money';
import type { HandEdit } from '../../admin/hand-edit-service';
import {
  actorOf,
  campaignScopeOf,
  ConsoleContext,
  field,
  idFrom,
  noticeFor,
  pageSessionOf,
  route,
  seeOther,
  sendPage,
  sessionOf,
} from '../console-context';
import { AmendForm, TransactionSearch, transactionSearchView, transactionView } from '../views/transactions-view';

const text = (value: unknown) => (typeof value === 'string' ? value.trim().slice(0, 255) : '');

async function find(
  context: ConsoleContext,
  search: TransactionSearch,
): Promise<{ found: Transaction[] | null; problems: string[] }> {
  const given = [search.transactionId, search.clickId, search.merchantReferenceId].filter((v) => v !== '').length;
  if (given === 0)
    return { found: null, problems: search.campaignId ? ['Give the merchant reference ID with the campaign ID.'] : [] };
  if (given > 1)
    return {
      found: null,
      problems: ['Give one identifier: a transaction ID, a click ID, or a merchant reference ID with its campaign ID.'],
    };
  if (search.transactionId) {
    const id = idFrom(search.transactionId);
    if (id === null) return { found: null, problems: ['A transaction ID is a positive whole number.'] };
    const found = await context.admin.getTransaction(id).then(
      (r) => [r.transaction],
      (error) => (error instanceof AdminError && error.status === 404 ? [] : Promise.reject(error)),
    );
    return { found, problems: [] };
  }
  if (search.clickId) return { found: await context.admin.findTransactions({ clickId: search.clickId }), problems: [] };
  const campaignId = idFrom(search.campaignId);
  if (campaignId === null)
    return { found: null, problems: ['A merchant reference ID needs its campaign ID (CID), a positive whole number.'] };
  return {
    found: await context.admin.findTransactions({ merchantReferenceId: search.merchantReferenceId, campaignId }),
    problems: [],
  };
}

/** What the amend form sent, as typed (shown again when the change is refused). */
function amendFormOf(body: unknown): AmendForm {
  const names = [
    'affiliatePayout',
    'merchantRevenue',
    'approved',
    'amount',
    'dispositionCode',
    'reason',
    'postback',
  ] as const;
  return Object.fromEntries(names.map((name) => [name, field(body, name).trim().slice(0, 255)]));
}

/** The hand edit a form asks for, or what is wrong with it (money as the API takes it: exact, ≤ 4 decimals). */
function handEditOf(form: AmendForm): HandEdit | string {
  const moneyOf = (value: string | undefined, label: string): Money | undefined | string => {
    if (!value) return undefined;
    const parsed = parseMoney(value);
    return parsed === null ? `${label}: give an amount like 12.50 (at most 4 decimals, not negative).` : parsed;
  };
  const edit: HandEdit = { reason: form.reason ?? '' };
  for (const [name, label] of [
    ['affiliatePayout', 'Affiliate payout'],
    ['merchantRevenue', 'Merchant revenue'],
    ['amount', 'New sale amount'],
  ] as const) {
    const value = moneyOf(form[name], label);
    if (typeof value === 'string') return value;
    if (value !== undefined) edit[name] = value;
  }
  if (form.approved === 'yes' || form.approved === 'no') edit.approved = form.approved === 'yes';
  if (form.dispositionCode) edit.dispositionCode = form.dispositionCode;
  if (form.postback === 'on') edit.executeAffiliatePixel = true;
  if (!edit.reason) return 'Say why: the reason goes to the history.';
  return edit;
}

async function showTransaction(
  req: Request,
  res: Response,
  context: ConsoleContext,
  id: number,
  refused?: { form: AmendForm; problem: string; status: number },
): Promise<void> {
  const found = await context.admin
    .getTransaction(id)
    .catch((error) => (error instanceof AdminError && error.status === 404 ? null : Promise.reject(error)));
  const scope = await campaignScopeOf(res, context);
  // Another merchant's transaction is answered exactly as a missing one.
  if (!found || (scope !== null && !scope.has(found.transaction.campaignId))) {
    const search = { transactionId: String(id), clickId: '', merchantReferenceId: '', campaignId: '' };
    sendPage(
      req,
      res,
      context,
      { title: 'Transaction not found', section: 'transactions', body: transactionSearchView(search, []) },
      404,
    );
    return;
  }
  const affiliate = await context.admin.getAffiliate(found.transaction.affiliateId).catch(() => null);
  const deliveries = await context.postbacks.list({ transactionId: id });
  const attempts = await context.postbacks.attemptsFor(deliveries.map((d) => d.id));
  sendPage(
    req,
    res,
    context,
    {
      title: `Transaction ${id}`,
      section: 'transactions',
      notice: refused ? null : noticeFor(req),
      problems: refused ? [refused.problem] : [],
      body: transactionView({
        transaction: found.transaction,
        amend: refused?.form,
        affiliate,
        history: found.modifications,
        deliveries,
        attempts,
        session: pageSessionOf(res),
        now: Date.now(),
      }),
    },
    refused?.status ?? 200,
  );
}

/** Transactions: find one, see its history and postbacks, retry a failed postback. */
export function transactionRoutes(router: Router, context: ConsoleContext): void {
  router.get(
    '/transactions',
    route(async (req, res) => {
      const search: TransactionSearch = {
        transactionId: text(req.query.transactionId),
        clickId: text(req.query.clickId),
        merchantReferenceId: text(req.query.merchantReferenceId),
        campaignId: text(req.query.campaignId),
      };
      const scope = await campaignScopeOf(res, context);
      const { found: all, problems } = await find(context, search);
      const found = all && scope !== null ? all.filter((t) => scope.has(t.campaignId)) : all;
      if (found?.length === 1) {
        seeOther(res, `/admin/transactions/${found[0].id}`);
        return;
      }
      sendPage(
        req,
        res,
        context,
        { title: 'Transactions', section: 'transactions', problems, body: transactionSearchView(search, found) },
        problems.length ? 400 : 200,
      );
    }),
  );

  router.get(
    '/transactions/:id',
    route(async (req, res) => {
      const id = idFrom(req.params.id);
      if (id === null) {
        sendPage(
          req,
          res,
          context,
          {
            title: 'Transaction not found',
            section: 'transactions',
            body: transactionSearchView(
              { transactionId: '', clickId: '', merchantReferenceId: '', campaignId: '' },
              [],
            ),
          },
          404,
        );
        return;
      }
      await showTransaction(req, res, context, id);
    }),
  );

  router.post(
    '/transactions/:id/amend',
    route(async (req, res) => {
      const id = idFrom(req.params.id);
      if (id === null) {
        seeOther(res, '/admin/transactions');
        return;
      }
      const form = amendFormOf(req.body);
      const edit = handEditOf(form);
      if (typeof edit === 'string') {
        await showTransaction(req, res, context, id, { form, problem: edit, status: 400 });
        return;
      }
      const who = actorOf(req, res);
      try {
        await context.handEdits.amend(
          id,
          edit,
          {
            actor: who.actor,
            clientIp: req.clientIp,
            requestId: String(req.id),
            merchantId: sessionOf(res).merchantId,
          },
          context.audit.within(who, 'transaction.amend', `transaction ${id}`, {
            reason: edit.reason,
            ...(edit.dispositionCode ? { dispositionCode: edit.dispositionCode } : {}),
          }),
        );
      } catch (error) {
        if (!(error instanceof AdminError) || error.status >= 500) throw error;
        // impact.com's refusals carry its result code (upper case), which its people look up: shown with the words.
        const problem = /^[A-Z][A-Z_]+$/.test(error.code)
          ? `${error.message} (impact.com code ${error.code})`
          : error.message;
        await showTransaction(req, res, context, id, { form, problem, status: error.status });
        return;
      }
      seeOther(res, `/admin/transactions/${id}?done=amended`);
    }),
  );

  router.post(
    '/postbacks/:id/retry',
    route(async (req, res) => {
      const id = idFrom(req.params.id);
      const retry =
        id === null
          ? ({ kind: 'not_found' } as const)
          : await context.postbacks.retry(id, (delivery) =>
              context.audit.within(actorOf(req, res), 'postback.retry', `postback ${delivery.id}`, {
                transactionId: delivery.transactionId,
                attemptsBefore: delivery.attempts,
              }),
            );
      if (retry.kind === 'not_found') {
        sendPage(
          req,
          res,
          context,
          {
            title: 'Postback not found',
            section: 'transactions',
            body: transactionSearchView(
              { transactionId: '', clickId: '', merchantReferenceId: '', campaignId: '' },
              null,
            ),
          },
          404,
        );
        return;
      }
      const { delivery } = retry;
      if (retry.kind === 'not_failed') {
        sendPage(
          req,
          res,
          context,
          {
            title: `Transaction ${delivery.transactionId}`,
            section: 'transactions',
            problems: [`Postback ${delivery.id} is ${delivery.status}; only failed postbacks can be retried.`],
            body: transactionSearchView(
              { transactionId: String(delivery.transactionId), clickId: '', merchantReferenceId: '', campaignId: '' },
              null,
            ),
          },
          409,
        );
        return;
      }
      seeOther(res, `/admin/transactions/${delivery.transactionId}?done=retried`);
    }),
  );
}
