import { once } from 'node:events';
import net from 'node:net';
import express, { type Request, type Response, type Router } from 'express';
import { AdminError, invalid, notFound } from '../http/admin-errors';
import { idParam } from '../http/params';
import { normaliseClientIp } from '../auth/ip-address';
import type { Batch } from '../store/batch-store';
import type { BatchService } from './batch-service';
import { resultsCsvFor } from '../impact/impact-results-csv';

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

/** A batch as JSON: its File Submissions line. */
export function batchJson(b: Batch) {
  return {
    id: b.id,
    filename: b.filename,
    kind: b.kind,
    channel: b.channel,
    campaignId: b.campaignId,
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

  return (router: Router): void => {
    router.post('/batches', fileBody, async (req: Request, res: Response) => {
      const { bytes, fields, partName } = await readUpload(req);
      const options = { ...fields, ...queryFields(req) };
      const filename = uploadFilename(options.filename ?? partName);
      const result = await deps.batches.upload({
        filename,
        bytes,
        clientIp: options.clientIp === undefined ? req.clientIp : clientIpParam(options.clientIp),
        force: booleanParam(options.force, 'force'),
      });
      if (!result.ok) throw new AdminError(400, 'unreadable_file', `the file cannot be read: ${result.reason}`);
      res.status(202).json(batchJson(result.batch));
    });

    router.get('/batches', async (req: Request, res: Response) => {
      const limit = req.query.limit === undefined ? 100 : idParam(req.query.limit, 'limit', 1000);
      const beforeId = req.query.before === undefined ? undefined : idParam(req.query.before, 'before');
      res.json((await deps.batches.list({ limit, beforeId })).map(batchJson));
    });

    router.get('/batches/:id', async (req: Request, res: Response) => {
      res.json(batchJson(await found(deps.batches, idParam(req.params.id))));
    });

    router.get('/batches/:id/results', async (req: Request, res: Response) => {
      const batch = await found(deps.batches, idParam(req.params.id));
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
    });
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

function queryFields(req: Request): UploadFields {
  const fields: UploadFields = {};
  for (const name of ['filename', 'clientIp', 'force'] as const) {
    const value = req.query[name];
    if (value === undefined) continue;
    if (typeof value !== 'string') throw invalid(`${name} must be given once`);
    fields[name] = value;
  }
  return fields;
}

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
