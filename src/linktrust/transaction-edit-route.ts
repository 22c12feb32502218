import type { ServerResponse } from 'node:http';
import { MAX_CAMPAIGN_ID } from '../core/identifier-limits';
import express from 'express';
import { expressApis, isSecure, type PlainRequest } from '../http/express-apis';
import type { Logger } from '../logger';
import type { ModificationService } from '../modification/modification-service';
import { describeOutcome, type Outcome } from '../modification/outcome';
import { commandFor, type ModificationCommand } from '../modification/command';
import { decodeFormPairs, type DecodedPairs } from './raw-parameters';
import { isTransientDatabaseError, temporaryFailureType } from '../store/database-errors';
import type { Readiness } from '../store/schema-readiness';
import { requestFingerprint } from './request-fingerprint';
import { isValidIdempotencyKey, parseModificationParameters, SuppliedValues } from './request-parser';
import { renderLinkTrustResponse } from './xml-response';

/** Limits of a /transaction.edit request: body bytes, URL characters, parameters (query and body). */
export const MAX_FORM_BODY_BYTES = 64 * 1024;
export const MAX_URL_LENGTH = 24 * 1024;
export const MAX_PARAMETERS = 100;

/** Parameters in a form-encoded string (pairs between '&'; empty ones do not count), capped past the limit. */
function countParameters(text: string): number {
  let count = 0;
  let start = 0;
  while (start <= text.length && count <= MAX_PARAMETERS) {
    const end = text.indexOf('&', start);
    const stop = end === -1 ? text.length : end;
    if (stop > start) count++;
    start = stop + 1;
  }
  return count;
}

const EMPTY_SUPPLIED: SuppliedValues = {
  transactionId: '',
  clickId: '',
  merchantReferenceId: '',
  cid: '',
  ap: '',
  mp: '',
  a: '',
  reason: '',
};

/** The decoded query and form-body parameters, or null past MAX_PARAMETERS. */
function readParameters(req: PlainRequest): DecodedPairs | null {
  const query = req.originalUrl.includes('?') ? req.originalUrl.slice(req.originalUrl.indexOf('?') + 1) : '';
  // Node hands over the request line's bytes as latin1 characters, which is what the decoder expects.
  const body = req.method === 'POST' && Buffer.isBuffer(req.body) ? req.body.toString('latin1') : '';
  if (countParameters(query) + countParameters(body) > MAX_PARAMETERS) return null;
  const pairs = decodeFormPairs(query);
  if (body) decodeFormPairs(body, pairs);
  return pairs;
}

/** The request's idempotency key (header or parameter), null without one, or the refusal of a bad one. */
function idempotencyKeyOf(header: string | undefined, parameter: string | null): string | null | Outcome {
  if (header !== undefined && parameter !== null && header !== parameter)
    return { kind: 'invalid_parameter', parameter: 'IdempotencyKey' };
  const key = parameter ?? (header || null);
  if (key !== null && !isValidIdempotencyKey(key)) return { kind: 'invalid_parameter', parameter: 'Idempotency-Key' };
  return key;
}

const XML_CONTENT_TYPE = 'text/xml; charset=utf-8';

/**
 * Answers HTTP 200 with an XML document: the bytes `res.type(XML).send(xml)` sends (same headers in the
 * same order; Node leaves out the body of a HEAD), without express's content-type parsing and checks on
 * the hot path. A conditional GET still goes through res.send, which may answer it with a 304.
 */
function sendXmlDocument(res: ServerResponse, xml: string): void {
  const headers = res.req.headers;
  if (headers['if-none-match'] !== undefined || headers['if-modified-since'] !== undefined) {
    expressApis(res.req, res).res.status(200).type(XML_CONTENT_TYPE).send(xml);
    return;
  }
  res.statusCode = 200;
  res.setHeader('Content-Type', XML_CONTENT_TYPE);
  res.setHeader('Content-Length', String(Buffer.byteLength(xml)));
  res.end(xml);
}

/** A request's CID as a campaign id, when it is one. */
function campaignOfCid(cid: string): number | null {
  return /^[1-9][0-9]{0,9}$/.test(cid) && Number(cid) <= MAX_CAMPAIGN_ID ? Number(cid) : null;
}

/** Sends a LinkTrust XML answer: always HTTP 200 with an XML body, like LinkTrust. */
export function sendLinkTrustXml(
  res: ServerResponse,
  outcome: Outcome,
  supplied: SuppliedValues = EMPTY_SUPPLIED,
): void {
  if (outcome.kind === 'temporary_failure' && outcome.retryAfterSeconds)
    res.setHeader('Retry-After', String(outcome.retryAfterSeconds));
  sendXmlDocument(res, renderLinkTrustResponse(outcome, supplied));
}

/**
 * The LinkTrust front door: `GET|POST /transaction.edit`, one express handler (the app mounts it with
 * `app.all('/transaction.edit', …)`: one route layer, no router of its own, on the hot path). Parameters
 * come from the query string and, for POST, an `application/x-www-form-urlencoded` body (both may carry
 * some).
 */
export function transactionEditHandler(deps: {
  modifications: ModificationService;
  logger: Logger;
  requireHttps: boolean;
  /** How long a rate-limited answer is held back (RATE_LIMIT_DELAY_MS): a flooding client waits for each. */
  rateLimitDelayMs?: number;
  /** Until the database schema is current, edits get a temporary failure instead of a missing table's error. */
  readiness: Readiness;
  /** Told of each XML answer (metrics): its message (`Succeeded` for a change) and whether it was a rate limit. */
  onAnswer?: (message: string, rateLimited: boolean) => void;
  /** Told of each refusal (support's counts): the client, the campaign when known, the message. */
  onRefusal?: (clientIp: string, campaignId: number | null, message: string) => void;
}): (req: PlainRequest, res: ServerResponse, next: (error?: unknown) => void) => void {
  // The body is read raw (latin1, one char per byte) so bad percent-encoding and bad UTF-8 are answered
  // by the parser instead of being "repaired" by a body parser.
  const formBody = express.raw({ type: 'application/x-www-form-urlencoded', limit: MAX_FORM_BODY_BYTES });

  /** An unexpected error as an answer: transient database trouble is temporary, anything else is logged once. */
  const explain = (error: unknown, requestId: string): Outcome => {
    if (isTransientDatabaseError(error)) return { kind: 'temporary_failure', failureType: temporaryFailureType(error) };
    deps.logger.error({ err: error, reqId: requestId }, 'transaction.edit failed');
    return { kind: 'system_error' };
  };

  /**
   * A keyed request: checked like any other first (the password too, through the same verifier and its
   * cache), then, under the key of its transaction's campaign, a remembered answer goes back verbatim (a
   * string), the same key with other parameters is refused, otherwise the change runs and its answer is
   * stored with it — all of it in the core, coalesced like any other change (`ModifyOptions.idempotency`).
   * A replay with a wrong or no password is answered as a fresh request with it would be.
   */
  const modifyIdempotently = (
    key: string,
    pairs: DecodedPairs,
    supplied: SuppliedValues,
    command: ModificationCommand,
  ): Promise<Outcome | string> =>
    deps.modifications
      .modify(command, {
        idempotency: {
          key,
          fingerprint: requestFingerprint(pairs),
          render: (outcome) => renderLinkTrustResponse(outcome, supplied),
        },
      })
      .catch((error: unknown) => explain(error, command.requestId));

  /** A plain-text refusal (405, 413, 414), through express like the app's other plain-text answers. */
  const refuse = (
    req: PlainRequest,
    response: ServerResponse,
    status: number,
    text: string,
    headers: Record<string, string> = {},
  ) => {
    const { res } = expressApis(req, response);
    res.status(status).set(headers).type('text/plain; charset=utf-8').send(text);
  };

  const { onAnswer, onRefusal } = deps;
  // Every XML answer of this door goes through here: told to the metrics when they are on, and a refusal
  // to support's counts with the campaign the checks found (or the CID the request gave).
  const send = (
    req: PlainRequest,
    res: ServerResponse,
    outcome: Outcome,
    supplied: SuppliedValues,
    command?: ModificationCommand,
  ) => {
    if (outcome.kind !== 'applied' && (onAnswer || onRefusal)) {
      const { message } = describeOutcome(outcome);
      const rateLimited = outcome.kind === 'temporary_failure' && outcome.failureType === 'rate limited';
      onAnswer?.(message, rateLimited);
      if (onRefusal) {
        const found = command && deps.modifications.campaignOf(command);
        onRefusal(req.clientIp, found ?? campaignOfCid(supplied.cid), message);
      }
    } else onAnswer?.('Succeeded', false);
    // A keyed change whose COMMIT landed despite a lost connection: the answer stored with it, as a retry gets it.
    if (outcome.kind === 'applied' && outcome.stored !== undefined) sendXmlDocument(res, outcome.stored);
    else sendLinkTrustXml(res, outcome, supplied);
  };

  const answer = async (req: PlainRequest, res: ServerResponse): Promise<void> => {
    const pairs = readParameters(req);
    if (pairs === null) {
      refuse(req, res, 413, `Payload Too Large (at most ${MAX_PARAMETERS} parameters)\n`);
      return;
    }
    const parsed = parseModificationParameters(pairs);
    // REQUIRE_HTTPS: a password that crossed the network in clear text is not accepted. req.secure
    // believes X-Forwarded-Proto only from a proxy trusted by TRUST_PROXY.
    if (deps.requireHttps && !isSecure(req, res)) {
      res.setHeader('X-Txedit-Refused', 'https-required');
      send(req, res, { kind: 'unauthorized' }, parsed.supplied);
      return;
    }
    if (!parsed.ok) {
      send(req, res, parsed.outcome, parsed.supplied);
      return;
    }
    const header = req.headers['idempotency-key'];
    const key = idempotencyKeyOf(typeof header === 'string' ? header : undefined, parsed.idempotencyKey);
    if (typeof key === 'object' && key !== null) {
      send(req, res, key, parsed.supplied);
      return;
    }
    // Not migrated yet (a fresh start, MIGRATE_ON_START=false): a temporary failure, as for a database that
    // is down. Once the schema has been seen current this is one property read.
    if (!deps.readiness.isCurrent && (await deps.readiness.notReadyReason()) !== null) {
      send(req, res, { kind: 'temporary_failure', failureType: 'database unavailable' }, parsed.supplied);
      return;
    }
    const command = commandFor(parsed.request, { clientIp: req.clientIp, requestId: req.id, source: 'api' });
    const answer =
      key === null
        ? await deps.modifications.modify(command).catch((error: unknown) => explain(error, req.id))
        : await modifyIdempotently(key, pairs, parsed.supplied, command);
    if (typeof answer === 'string') {
      onAnswer?.('Idempotent replay', false);
      sendXmlDocument(res, answer);
    } else {
      // A client past its limit keeps a connection busy for a while instead of getting its next refusal at
      // once: a flood over N connections is slowed to N answers per delay, leaving the CPU to other campaigns.
      if (answer.kind === 'temporary_failure' && answer.failureType === 'rate limited' && deps.rateLimitDelayMs) {
        await new Promise((resolve) => setTimeout(resolve, deps.rateLimitDelayMs));
      }
      send(req, res, answer, parsed.supplied, command);
    }
  };

  return (req, res, next) => {
    if (req.method !== 'GET' && req.method !== 'POST') {
      refuse(req, res, 405, 'Method Not Allowed\n', { Allow: 'GET, POST' });
      return;
    }
    // Outsized requests are refused before any parsing: no XML can echo what was not read.
    if (req.originalUrl.length > MAX_URL_LENGTH) {
      refuse(req, res, 414, `URI Too Long (at most ${MAX_URL_LENGTH} characters)\n`);
      return;
    }
    // Only a POST can carry a form body; a GET skips the body parser altogether (hot path). Errors (the
    // body's limit, a bad encoding) and anything unexpected go to the app's last-resort handler.
    const run = () => answer(req, res).catch(next);
    if (req.method === 'POST') formBody(req, res, (error?: unknown) => (error ? next(error) : run()));
    else run();
  };
}
