import { STATUS_CODES } from 'node:http';
import { setTimeout as delay } from 'node:timers/promises';
import { request, type Dispatcher } from 'undici';
import { type AnswerFailureType, readLinkTrustAnswer, type LinkTrustAnswer } from './answer';
import { redactUrl } from './endpoint';

/** How posting one row ended. */
export type RowPostResult =
  | { kind: 'succeeded'; attempts: number }
  /** `network` covers everything that is not a LinkTrust answer: no connection, timeout, HTTP error, HTML. */
  | { kind: 'failed'; failure: AnswerFailureType | 'network'; message: string; attempts: number }
  /** The run was stopped while the row waited to be retried; it was not recorded and will be posted again. */
  | { kind: 'interrupted' };

/** Waits `ms` milliseconds; may reject or return early when `signal` aborts. */
export type Sleep = (ms: number, signal?: AbortSignal) => Promise<void>;

/** How one row is posted and retried. */
export interface RowPostingOptions {
  endpoint: URL;
  dispatcher: Dispatcher;
  /** Retries after the first attempt, for temporary failures, network errors, 5xx and non-LinkTrust answers. */
  retries: number;
  /** Limit for one attempt, from connecting to the last byte of the answer. */
  timeoutMs: number;
  sleep: Sleep;
  /** A number in [0, 1) for backoff jitter. */
  random: () => number;
  /** Stops waiting between retries; an attempt already sent is allowed to finish. */
  signal?: AbortSignal;
}

/** The real sleep, cancelled by the signal. */
export const realSleep: Sleep = (ms, signal) => delay(ms, undefined, { signal });

const BASE_DELAY_MS = 1_000;
const MAX_DELAY_MS = 60_000;
// A server's Retry-After is honoured up to this; past it the row is better left to a re-run.
const MAX_RETRY_AFTER_MS = 5 * 60_000;
// LinkTrust answers are well under 2 KB even with 10 KB echoes; anything this large is not one.
const MAX_ANSWER_BYTES = 1024 * 1024;

/**
 * Delay before retry number `retryIndex` (0 for the first retry): 1 s, 2 s, 4 s … capped at 60 s,
 * with "equal jitter" (between half and all of that) so that the eight workers that all met
 * "Nightly processing in progress" at once do not come back in lockstep. A server's Retry-After,
 * when given, is a lower bound.
 */
export function backoffDelay(retryIndex: number, random: () => number, retryAfterMs?: number): number {
  const nominal = Math.min(BASE_DELAY_MS * 2 ** retryIndex, MAX_DELAY_MS);
  const jittered = Math.round(nominal / 2 + (random() * nominal) / 2);
  return retryAfterMs === undefined ? jittered : Math.max(jittered, Math.min(retryAfterMs, MAX_RETRY_AFTER_MS));
}

type Attempt =
  | { kind: 'answer'; answer: LinkTrustAnswer }
  | { kind: 'transient'; reason: string; retryAfterMs?: number }
  | { kind: 'refused'; reason: string };

/**
 * Posts one row's form body to /transaction.edit until it gets an answer worth recording: success,
 * a permanent or system failure at once; a temporary failure or a transport problem after the retries.
 * A temporary failure is recorded with the server's exact message, a transport problem with what went
 * wrong and how many attempts were made.
 */
export async function postRow(form: string, options: RowPostingOptions): Promise<RowPostResult> {
  for (let attempt = 1; ; attempt++) {
    const result = await attemptPost(form, options);
    if (result.kind === 'answer') {
      const { answer } = result;
      if (answer.succeeded) return { kind: 'succeeded', attempts: attempt };
      if (answer.type !== 'temporary' || attempt > options.retries) {
        return { kind: 'failed', failure: answer.type, message: answer.message, attempts: attempt };
      }
    } else if (result.kind === 'refused' || attempt > options.retries) {
      const tries = attempt === 1 ? '1 attempt' : `${attempt} attempts`;
      return { kind: 'failed', failure: 'network', message: `${result.reason} (${tries})`, attempts: attempt };
    }
    const retryAfterMs = result.kind === 'transient' ? result.retryAfterMs : undefined;
    if (options.signal?.aborted) return { kind: 'interrupted' };
    try {
      await options.sleep(backoffDelay(attempt - 1, options.random, retryAfterMs), options.signal);
    } catch (error) {
      if (!options.signal?.aborted) throw error;
    }
    if (options.signal?.aborted) return { kind: 'interrupted' };
  }
}

async function attemptPost(form: string, options: RowPostingOptions): Promise<Attempt> {
  const timeout = AbortSignal.timeout(options.timeoutMs);
  try {
    const response = await request(options.endpoint, {
      method: 'POST',
      dispatcher: options.dispatcher,
      signal: timeout,
      headers: {
        'content-type': 'application/x-www-form-urlencoded; charset=utf-8',
        accept: 'text/xml, application/xml;q=0.9, */*;q=0.1',
        'user-agent': 'txedit-lead-poster',
      },
      body: form,
    });
    const body = await readCapped(response.body);
    return classifyResponse(response.statusCode, response.headers, body);
  } catch (error) {
    if (timeout.aborted) return { kind: 'transient', reason: `No answer within ${formatSeconds(options.timeoutMs)}` };
    return { kind: 'transient', reason: `Network error: ${describeError(error)}` };
  }
}

function classifyResponse(
  status: number,
  headers: Record<string, string | string[] | undefined>,
  body: string | null,
): Attempt {
  const statusText = `HTTP ${status} ${STATUS_CODES[status] ?? ''}`.trim();
  if (status >= 200 && status < 300) {
    const answer = body === null ? null : readLinkTrustAnswer(body);
    if (answer !== null) return { kind: 'answer', answer };
    // A proxy's maintenance page or a half-deployed server: worth another try, like a 5xx.
    return {
      kind: 'transient',
      reason: `Not a LinkTrust answer (${statusText}, ${header(headers, 'content-type') ?? 'no content type'})`,
    };
  }
  if (status >= 500 || status === 408 || status === 425 || status === 429) {
    return { kind: 'transient', reason: statusText, retryAfterMs: retryAfter(header(headers, 'retry-after')) };
  }
  // 3xx/4xx will not change on a retry: a wrong --url (404), an http→https redirect, a blocked client.
  const location = header(headers, 'location');
  return { kind: 'refused', reason: location ? `${statusText} (Location: ${redactUrl(location)})` : statusText };
}

async function readCapped(body: AsyncIterable<Buffer> & { destroy(): unknown }): Promise<string | null> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    size += chunk.length;
    if (size > MAX_ANSWER_BYTES) {
      body.destroy();
      return null;
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function header(headers: Record<string, string | string[] | undefined>, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** Retry-After in seconds or as an HTTP date; undefined when absent or unreadable. */
function retryAfter(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (/^\s*\d+\s*$/.test(value)) return Number(value) * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

/*
 * Only the error's code and message: undici's messages name the host and port, never the request body,
 * so the Password cannot leak through them.
 */
function describeError(error: unknown): string {
  if (!isErrorLike(error)) return String(error);
  // fetch-style wrappers say only "fetch failed"; the cause says why.
  const described = isErrorLike(error.cause) && /fetch failed/i.test(error.message) ? error.cause : error;
  const message = redactUrl(described.message);
  return typeof described.code === 'string' && !message.includes(described.code)
    ? `${message} (${described.code})`
    : message;
}

// Duck-typed: errors from Node's core can come from another realm (jest's sandbox), failing instanceof.
function isErrorLike(value: unknown): value is { message: string; code?: unknown; cause?: unknown } {
  return typeof value === 'object' && value !== null && typeof (value as { message?: unknown }).message === 'string';
}

function formatSeconds(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${ms} ms`;
}
