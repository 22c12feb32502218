import type { Request, Response, Router } from 'express';
import { AdminError } from '../../http/admin-errors';
import type { Transaction } from '../../core/transaction';
import { actorOf, ConsoleContext, idFrom, noticeFor, route, seeOther, sendPage, sessionOf } from '../console-context';
import { TransactionSearch, transactionSearchView, transactionView } from '../views/transactions-view';

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

async function showTransaction(req: Request, res: Response, context: ConsoleContext, id: number): Promise<void> {
  const found = await context.admin
    .getTransaction(id)
    .catch((error) => (error instanceof AdminError && error.status === 404 ? null : Promise.reject(error)));
  if (!found) {
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
  sendPage(req, res, context, {
    title: `Transaction ${id}`,
    section: 'transactions',
    notice: noticeFor(req),
    body: transactionView({
      transaction: found.transaction,
      affiliate,
      history: found.modifications,
      deliveries,
      attempts,
      session: sessionOf(res),
      now: Date.now(),
    }),
  });
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
      const { found, problems } = await find(context, search);
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
