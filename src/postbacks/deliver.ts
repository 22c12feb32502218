/**
 * One HTTP attempt at an affiliate postback. Retrying, recording and scheduling belong to the caller;
 * this only turns "GET this URL" into a result value.
 */
import { performance } from 'node:perf_hooks';
import { request, type Dispatcher } from 'undici';

/** How much of a response body we read before hanging up; receivers' pages are never needed. */
export const MAX_POSTBACK_BODY_BYTES = 64 * 1024;

/** What one attempt did, in the shape the delivery log stores. */
export interface DeliveryAttemptResult {
  /** True only for a 2xx answer received in full (or up to the body limit) within the timeout. */
  ok: boolean;
  /** The status line's code, or null when no response arrived. */
  httpStatus: number | null;
  /** A short, log-safe explanation when `ok` is false; null when `ok` is true. */
  error: string | null;
  durationMs: number;
  url: string;
  /** The body's first bytes (as text) when the caller asked for them with `keepBodyBytes`. */
  bodyStart?: string;
}

/**
 * Sends one postback: a GET with an `X-Postback-Id` header (so receivers can de-duplicate retries),
 * without following redirects, with one deadline covering connect, headers and body. Never throws:
 * every failure, including a network-guard refusal, comes back as `ok: false` with an `error`.
 */
export async function deliverPostback(params: {
  url: string;
  postbackId: string;
  timeoutMs: number;
  dispatcher: Dispatcher;
  userAgent?: string;
  /** Keep this many of the body's first bytes in `bodyStart` (the console's test postback shows them). */
  keepBodyBytes?: number;
}): Promise<DeliveryAttemptResult> {
  const { url, postbackId, timeoutMs, dispatcher } = params;
  const startedAt = performance.now();
  const finish = (httpStatus: number | null, error: string | null): DeliveryAttemptResult => ({
    ok: error === null,
    httpStatus,
    error,
    durationMs: Math.round(performance.now() - startedAt),
    url,
  });

  // One deadline for the whole exchange: undici's bodyTimeout restarts on every chunk, so a receiver
  // dripping a byte a second would otherwise hold the worker indefinitely.
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), timeoutMs);
  let httpStatus: number | null = null;
  try {
    const response = await request(url, {
      method: 'GET',
      dispatcher,
      signal: controller.signal,
      headers: { 'x-postback-id': postbackId, 'user-agent': params.userAgent ?? 'txedit-postback' },
    });
    httpStatus = response.statusCode;
    const bodyStart = await discardBody(response.body, params.keepBodyBytes ?? 0);
    const result = finish(httpStatus, statusError(httpStatus));
    return params.keepBodyBytes === undefined ? result : { ...result, bodyStart };
  } catch (err) {
    if (controller.signal.aborted) return finish(httpStatus, `timeout after ${timeoutMs} ms`);
    return finish(httpStatus, describeError(err));
  } finally {
    clearTimeout(timer);
  }
}

/** Why a status is a failure, or null for 2xx. */
function statusError(status: number): string | null {
  if (status >= 200 && status < 300) return null;
  // Following a redirect would mean connecting somewhere the affiliate never configured; the guard
  // would check it, but an affiliate is better served by fixing the URL.
  if (status >= 300 && status < 400) return `redirect not followed (${status})`;
  return `HTTP ${status}`;
}

/**
 * Reads and drops the body, stopping at MAX_POSTBACK_BODY_BYTES so a receiver streaming forever
 * cannot hold the worker. Reading a small body to the end lets undici reuse the connection.
 */
async function discardBody(body: Dispatcher.ResponseData['body'], keepBytes: number): Promise<string> {
  let received = 0;
  const kept: Buffer[] = [];
  let keptBytes = 0;
  for await (const chunk of body) {
    const buffer = chunk as Buffer;
    received += buffer.length;
    if (keptBytes < keepBytes) {
      const part = buffer.subarray(0, keepBytes - keptBytes);
      kept.push(part);
      keptBytes += part.length;
    }
    if (received >= MAX_POSTBACK_BODY_BYTES) break;
  }
  // Breaking out of the loop destroys the stream already; this covers the early-exit paths too.
  if (!body.destroyed) body.destroy();
  return Buffer.concat(kept).toString('utf8');
}

/**
 * A one-line message for the delivery log. Node reports a failed happy-eyeballs connect (every
 * address of a name refused) as an AggregateError with an empty message, so unpack that. Duck-typed
 * rather than `instanceof Error`, because errors from Node's core may come from another realm (the
 * jest sandbox, a worker) and fail that check.
 */
function describeError(err: unknown): string {
  if (typeof err !== 'object' || err === null) return String(err);
  const { message, name, errors } = err as { message?: unknown; name?: unknown; errors?: unknown };
  if (typeof message === 'string' && message !== '') return message;
  if (Array.isArray(errors) && errors.length > 0) return errors.map(describeError).join('; ');
  return typeof name === 'string' && name !== '' ? name : 'request failed';
}
