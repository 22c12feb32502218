import { once } from 'node:events';
import net from 'node:net';
import express, { type Request, type Response, type Router } from 'express';
import { z } from 'zod';
import { AdminError, invalid, notFound } from '../http/admin-errors';
import { apiRoute } from '../http/api-routes';
import { idParameter, isoInstant, singleText } from '../http/api-schemas';
import { normaliseClientIp } from '../auth/ip-address';
import type { Batch } from '../store/batch-store';
import type { BatchService } from './batch-service';
import { resultsCsvFor } from '../impact/impact-results-csv';

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

/** A batch as the admin API answers it. */
export const batchSchema = z
  .object({
    id: z.number().int(),
    filename: z.string(),
    kind: z.enum(['lead-poster', 'impact']),
    channel: z.enum(['api', 'console', 'ftp', 'sftp', 'pull', 'email']),
    campaignId: z.number().int().nullable(),
    merchantId: z.number().int().nullable().meta({ description: "a merchant's batch: rows touch only its campaigns" }),
    submittedBy: z.string().nullable(),
    state: z.enum(['queued', 'processing', 'completed', 'failed']),
    records: z.number().int(),
    processed: z.number().int(),
    succeeded: z.number().int(),
    failed: z.number().int(),
    duplicateOf: z.number().int().nullable().meta({ description: 'an earlier batch with the same content' }),
    forced: z.boolean(),
    clientIp: z.string().nullable(),
    format: z.enum(['tab', 'csv', 'xml']),
    encoding: z.string(),
    contentSha256: z.string(),
    error: z.string().nullable(),
    createdAt: isoInstant.nullable(),
    startedAt: isoInstant.nullable(),
    finishedAt: isoInstant.nullable(),
  })
  .meta({ id: 'Batch' });

/** A batch as JSON: its File Submissions line. */
export function batchJson(b: Batch): z.output<typeof batchSchema> {
  return {
    id: b.id,
    filename: b.filename,
    kind: b.kind,
    channel: b.channel,
    campaignId: b.campaignId,
    merchantId: b.merchantId,
    submittedBy: b.submittedBy,
    state: b.state,
    records: b.records,
    processed: b.processed,
    succeeded: b.succeeded,
    failed: b.failed,
    duplicateOf: b.duplicateOf,
    forced: b.forced,
    clientIp: b.clientIp,
    format: b.format,
    encoding: b.encoding,
    contentSha256: b.contentSha256,
    error: b.error,
    createdAt: iso(b.createdAt),
    startedAt: iso(b.startedAt),
    finishedAt: iso(b.finishedAt),
  };
}

/** Options of an upload, from the query string or (multipart) the form's text fields. */
type UploadFields = Partial<Record<'filename' | 'clientIp' | 'force', string>>;

/**
 * Admin routes for bulk modification files: `POST /batches` (the file as the raw body, or a multipart
 * form's `file` field), `GET /batches`, `GET /batches/:id`, `GET /batches/:id/results` (CSV).
 */
export function batchRoutes(deps: { batches: BatchService; maxFileBytes: number }) {
  // Any content type: what the bytes are is decided by reading them (decode-file), not by a header.
  const fileBody = express.raw({ type: () => true, limit: deps.maxFileBytes });

  const idPath = z.object({ id: idParameter() });

  return (router: Router): void => {
    apiRoute(
      router,
      {
        method: 'post',
        path: '/batches',
        tag: 'Batches',
        summary: 'Upload a bulk modification file',
        description:
          'A Lead Poster file (tab or CSV) or an impact.com file (CSV or XML), as the raw body or the `file` ' +
          'field of a multipart form (whose `filename`, `clientIp` and `force` fields count like the query). ' +
          'A file already uploaded is answered with `duplicateOf` unless `force=true`.',
        query: uploadQuery,
        rawBody: {
          description: 'the file',
          content: {
            'application/octet-stream': { schema: { type: 'string', format: 'binary' } },
            'multipart/form-data': {
              schema: {
                type: 'object',
                properties: {
                  file: { type: 'string', format: 'binary' },
                  filename: { type: 'string' },
                  clientIp: { type: 'string' },
                  force: { type: 'string', enum: ['true', 'false'] },
                },
                required: ['file'],
              },
            },
          },
        },
        middlewares: [fileBody],
        responses: { 202: { description: 'the batch, queued', schema: batchSchema } },
        errors: { 400: '`unreadable_file`: the file cannot be read as any known kind' },
      },
      async ({ query }, req, res) => {
        const { bytes, fields, partName } = await readUpload(req);
        const options = { ...fields, ...query };
        const filename = uploadFilename(options.filename ?? partName);
        const result = await deps.batches.upload({
          filename,
          bytes,
          clientIp: options.clientIp === undefined ? req.clientIp : clientIpParam(options.clientIp),
          force: booleanParam(options.force, 'force'),
        });
        if (!result.ok) throw new AdminError(400, 'unreadable_file', `the file cannot be read: ${result.reason}`);
        res.status(202).json(batchJson(result.batch));
      },
    );

    apiRoute(
      router,
      {
        method: 'get',
        path: '/batches',
        tag: 'Batches',
        summary: 'List batches, newest first',
        query: z.object({
          limit: idParameter('limit', 1000, 'batches, at most 1000 (default 100)').optional(),
          before: idParameter('before', undefined, 'only batches with a smaller id (the next page)').optional(),
        }),
        responses: { 200: { description: 'the batches', schema: z.array(batchSchema) } },
      },
      async ({ query }, _req, res) => {
        res.json((await deps.batches.list({ limit: query.limit ?? 100, beforeId: query.before })).map(batchJson));
      },
    );

    apiRoute(
      router,
      {
        method: 'get',
        path: '/batches/:id',
        tag: 'Batches',
        summary: 'Show a batch',
        params: idPath,
        responses: { 200: { description: 'the batch', schema: batchSchema } },
        errors: { 404: 'no such batch' },
      },
      async ({ params }, _req, res) => {
        res.json(batchJson(await found(deps.batches, params.id)));
      },
    );

    apiRoute(
      router,
      {
        method: 'get',
        path: '/batches/:id/results',
        tag: 'Batches',
        summary: 'Download the results file',
        description: "An impact.com batch answers in impact.com's columns, a Lead Poster batch in LinkTrust's.",
        params: idPath,
        responses: {
          200: {
            description: 'one line per row of the file, streamed',
            content: { type: 'text/csv', schema: { type: 'string' } },
            headers: { 'Content-Disposition': 'attachment; filename="batch-ID-results.csv"' },
          },
        },
        errors: { 404: 'no such batch' },
      },
      async ({ params }, _req, res) => {
        const batch = await found(deps.batches, params.id);
        res
          .status(200)
          .type('text/csv; charset=utf-8')
          .set('Content-Disposition', `attachment; filename="batch-${batch.id}-results.csv"`);
        // An impact.com batch answers in impact.com's columns, a Lead Poster batch in LinkTrust's.
        const { header, record } = resultsCsvFor(batch.kind);
        // Streamed a page at a time: 200,000 rows need not sit in memory.
        try {
          res.write(header());
          for await (const page of deps.batches.results(batch.id)) {
            if (!res.write(page.map(record).join(''))) await drainedOrClosed(res);
            if (res.destroyed) return;
          }
          res.end();
        } catch (error) {
          // Headers are gone: the only honest signal left is a cut connection.
          res.destroy(error as Error);
        }
      },
    );
  };
}

async function found(batches: BatchService, id: number): Promise<Batch> {
  const batch = await batches.get(id);
  if (!batch) throw notFound(`batch ${id}`);
  return batch;
}

/** The file's bytes: the whole raw body, or the `file` part of a multipart form. */
async function readUpload(req: Request): Promise<{ bytes: Buffer; fields: UploadFields; partName?: string }> {
  if (!Buffer.isBuffer(req.body))
    throw invalid('send the file as the request body (raw, or multipart/form-data with a "file" field)');
  const contentType = req.headers['content-type'] ?? '';
  if (!/^multipart\/form-data\b/i.test(contentType)) return { bytes: req.body, fields: {} };

  // Node's own fetch implementation parses multipart bodies (undici's parser); no extra dependency.
  let form: FormData;
  try {
    form = await new Response(req.body, { headers: { 'content-type': contentType } }).formData();
  } catch {
    throw invalid('the multipart/form-data body cannot be read');
  }
  // The form holds the file now: let the raw body go rather than keep two copies through a long upload.
  req.body = undefined;
  const file = form.get('file');
  if (file === null || typeof file === 'string')
    throw invalid('the multipart form needs a "file" field holding the file');
  const fields: UploadFields = {};
  for (const name of ['filename', 'clientIp', 'force'] as const) {
    const value = form.get(name);
    if (typeof value === 'string' && value !== '') fields[name] = value;
  }
  return { bytes: Buffer.from(await file.arrayBuffer()), fields, partName: file.name || undefined };
}

/** The upload's options in the query string (each at most once); a multipart form's fields count alike. */
const uploadQuery = z.object({
  filename: singleText(
    'filename',
    'the name shown in the batch list (required unless the form names its file)',
  ).optional(),
  clientIp: singleText('clientIp', 'the address the file came from (default: the caller)').optional(),
  force: singleText('force', '`true`: process a file already uploaded again').optional(),
});

/** The name shown in the batch list: the last path segment (browsers may send C:\fakepath\…), printable, ≤ 255. */
function uploadFilename(value: string | undefined): string {
  const name = (value ?? '').split(/[\\/]/).pop()?.trim() ?? '';
  if (name === '') throw invalid('filename is required (?filename=NAME)');
  if (/[\u0000-\u001f\u007f]/.test(name)) throw invalid('filename must not contain control characters');
  if ([...name].length > 255) throw invalid('filename must be at most 255 characters');
  return name;
}

function clientIpParam(value: string): string {
  const ip = normaliseClientIp(value.trim());
  if (net.isIP(ip) === 0) throw invalid('clientIp must be an IPv4 or IPv6 address');
  return ip;
}

function booleanParam(value: string | undefined, name: string): boolean {
  if (value === undefined || value === '' || value === 'false') return false;
  if (value === 'true') return true;
  throw invalid(`${name} must be true or false`);
}

function drainedOrClosed(res: Response): Promise<unknown> {
  return Promise.race([once(res, 'drain'), once(res, 'close')]);
}
