import { once } from 'node:events';
import path from 'node:path';
import type { Request, Response, Router } from 'express';
import type { StoredBatch } from '../../batch/batch-service';
import type { Batch } from '../../store/batch-store';
import { resultsCsvFor } from '../../impact/impact-results-csv';
import {
  actorOf,
  campaignScopeOf,
  ConsoleContext,
  idFrom,
  noticeFor,
  pageSessionOf,
  route,
  seeOther,
  sendPage,
  sessionOf,
} from '../console-context';
import type { MultipartPart } from '../multipart';
import { batchesView, batchTableView, batchView } from '../views/batches-view';

const LIST_LIMIT = 50;
/** Refused rows per page of a batch's page. */
const FAILED_PAGE = 100;

/** Which batches a session sees: all (an admin), or a merchant's — its own and its campaigns' intakes'. */
type BatchScope = { merchantId: number; campaignIds: ReadonlySet<number> } | null;

async function batchScopeOf(res: Response, context: ConsoleContext): Promise<BatchScope> {
  const { merchantId } = sessionOf(res);
  const campaignIds = await campaignScopeOf(res, context);
  return merchantId === null || campaignIds === null ? null : { merchantId, campaignIds };
}

function inScope(batch: Batch, scope: BatchScope): boolean {
  return (
    scope === null ||
    batch.merchantId === scope.merchantId ||
    (batch.campaignId !== null && scope.campaignIds.has(batch.campaignId))
  );
}

/** The newest batches the session sees, with the impact.com codes of each impact batch's rows. */
async function listed(res: Response, context: ConsoleContext) {
  const scope = await batchScopeOf(res, context);
  const batches = await context.batches.list(
    scope === null
      ? { limit: LIST_LIMIT }
      : { limit: LIST_LIMIT, merchantId: scope.merchantId, campaignIds: [...scope.campaignIds] },
  );
  const codes = await context.batches.codeCounts(batches.filter((b) => b.kind === 'impact').map((b) => b.id));
  return { batches, codes };
}

async function showBatches(
  req: Request,
  res: Response,
  context: ConsoleContext,
  extra: { problems?: string[]; status?: number } = {},
): Promise<void> {
  // A merchant user sees its own merchant's e-mail intake address (its session's merchant, never another).
  const { merchantId } = sessionOf(res);
  const emailAddress = merchantId === null ? null : (await context.intake.merchantAddress(merchantId)).emailAddress;
  const body = batchesView({
    ...(await listed(res, context)),
    session: pageSessionOf(res),
    maxUploadBytes: context.maxUploadBytes,
    emailAddress,
  });
  sendPage(
    req,
    res,
    context,
    { title: 'Batches', section: 'batches', notice: noticeFor(req), problems: extra.problems, body },
    extra.status,
  );
}

/**
 * The batch the path names, or null once the Batches page has answered 404 — also for a batch outside a
 * merchant session's scope, with the very page a missing id gets.
 */
async function batchOr404(req: Request, res: Response, context: ConsoleContext): Promise<Batch | null> {
  const id = idFrom(req.params.id);
  const found = id === null ? null : await context.batches.get(id);
  const batch = found && inScope(found, await batchScopeOf(res, context)) ? found : null;
  if (!batch) await showBatches(req, res, context, { problems: ['That batch does not exist.'], status: 404 });
  return batch;
}

// The browser's file name, reduced to its last segment (old browsers send a full Windows path).
function cleanFilename(name: string): string {
  return (
    path.win32
      .basename(path.posix.basename(name))
      .replace(/[\u0000-\u001f\u007f]/g, '')
      .slice(0, 255) || 'upload.txt'
  );
}

/** Batches: upload a TXT/CSV file, watch the submissions table, download results. */
export function batchRoutes(router: Router, context: ConsoleContext): void {
  router.get(
    '/batches',
    route(async (req, res) => showBatches(req, res, context)),
  );

  // The live region alone, for the page's script.
  router.get(
    '/batches/table',
    route(async (req, res) => {
      const { batches, codes } = await listed(res, context);
      const table = batchTableView(batches, codes);
      res.type('text/html; charset=utf-8').send(table.value);
    }),
  );

  router.post(
    '/batches',
    route(async (req, res) => {
      const { batches } = context;
      const parts = (res.locals.multipartParts as MultipartPart[] | undefined) ?? [];
      const file = parts.find((p) => p.name === 'file' && p.filename !== null);
      if (!file || file.data.length === 0) {
        await showBatches(req, res, context, {
          problems: ['Choose a non-empty TXT or CSV file to upload.'],
          status: 400,
        });
        return;
      }
      const force = parts.some((p) => p.name === 'force' && p.filename === null && p.data.toString('utf8') === 'on');
      const filename = cleanFilename(file.filename ?? '');
      const audit = context.audit.within<StoredBatch>(
        actorOf(req, res),
        'batch.upload',
        (batch) => `batch ${batch.id}`,
        (batch) => ({
          filename,
          bytes: file.data.length,
          records: batch.records,
          duplicateOf: batch.duplicateOf,
          forced: batch.forced,
        }),
      );
      const result = await batches.upload(
        {
          filename,
          bytes: file.data,
          clientIp: req.clientIp,
          force,
          channel: 'console',
          // A merchant's upload is its batch: the rows touch only its campaigns' transactions.
          merchantId: sessionOf(res).merchantId,
        },
        audit,
      );
      if (!result.ok) {
        await showBatches(req, res, context, { problems: [`${filename}: ${result.reason}`], status: 400 });
        return;
      }
      const { batch } = result;
      seeOther(
        res,
        `/admin/batches?done=${batch.duplicateOf !== null && !batch.forced ? 'duplicate' : 'uploaded'}#batch-${batch.id}`,
      );
    }),
  );

  router.get(
    '/batches/:id',
    route(async (req, res) => {
      const batch = await batchOr404(req, res, context);
      if (!batch) return;
      const after = idFrom(req.query.after) ?? 0;
      const failed = await context.batches.failedRows(batch.id, after, FAILED_PAGE);
      const codes = batch.kind === 'impact' ? (await context.batches.codeCounts([batch.id])).get(batch.id) : undefined;
      const nextHref =
        failed.length === FAILED_PAGE
          ? `/admin/batches/${batch.id}?after=${failed[failed.length - 1].rowNumber}#failed-h`
          : null;
      sendPage(req, res, context, {
        title: `Batch ${batch.id}`,
        section: 'batches',
        body: batchView({ batch, codes, failed, nextHref }),
      });
    }),
  );

  router.get(
    '/batches/:id/results',
    route(async (req, res) => {
      const batch = await batchOr404(req, res, context);
      if (!batch) return;
      res.status(200).type('text/csv; charset=utf-8').attachment(`batch-${batch.id}-results.csv`);
      // An impact.com batch's results in impact.com's columns, a Lead Poster batch's in LinkTrust's.
      const { header, record } = resultsCsvFor(batch.kind);
      res.write(header());
      // A page at a time, waiting for the browser when it reads slower than the database: 200,000 rows
      // need not sit in memory.
      for await (const page of context.batches.results(batch.id)) {
        if (!res.write(page.map(record).join(''))) await Promise.race([once(res, 'drain'), once(res, 'close')]);
        if (res.destroyed) return;
      }
      res.end();
    }),
  );
}
