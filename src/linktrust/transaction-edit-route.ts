import express, { Request, Response, Router } from 'express';
import type { Logger } from '../logger';
import type { ModificationService } from '../modification/modification-service';
import type { Outcome } from '../modification/outcome';
import { decodeFormPairs } from './raw-parameters';
import { parseModificationParameters, SuppliedValues } from './request-parser';
import { renderLinkTrustResponse } from './xml-response';

/** Limits of a /transaction.edit request body. */
export const MAX_FORM_BODY_BYTES = 64 * 1024;

const EMPTY_SUPPLIED: SuppliedValues = { transactionId: '', clickId: '', merchantReferenceId: '', cid: '', ap: '', mp: '', a: '', reason: '' };

/** Sends a LinkTrust XML answer: always HTTP 200 with an XML body, like LinkTrust. */
export function sendLinkTrustXml(res: Response, outcome: Outcome, supplied: SuppliedValues = EMPTY_SUPPLIED): void {
  if (outcome.kind === 'temporary_failure' && outcome.retryAfterSeconds) res.set('Retry-After', String(outcome.retryAfterSeconds));
  res.status(200).type('text/xml; charset=utf-8').send(renderLinkTrustResponse(outcome, supplied));
}

/**
 * The LinkTrust front door: `GET|POST /transaction.edit`. Parameters come from the query string and,
 * for POST, an `application/x-www-form-urlencoded` body (both may carry some).
 */
export function transactionEditRouter(deps: { modifications: ModificationService; logger: Logger; requireHttps: boolean }): Router {
  const router = express.Router();
  // The body is read raw (latin1, one char per byte) so bad percent-encoding and bad UTF-8 are answered
  // by the parser instead of being "repaired" by a body parser.
  const formBody = express.raw({ type: 'application/x-www-form-urlencoded', limit: MAX_FORM_BODY_BYTES });

  router.all('/transaction.edit', (req, res, next) => {
    if (req.method !== 'GET' && req.method !== 'POST') {
      res.status(405).set('Allow', 'GET, POST').type('text/plain; charset=utf-8').send('Method Not Allowed\n');
      return;
    }
    next();
  });

  router.all('/transaction.edit', formBody, async (req: Request, res: Response) => {
    const query = req.originalUrl.includes('?') ? req.originalUrl.slice(req.originalUrl.indexOf('?') + 1) : '';
    // Node hands over the request line's bytes as latin1 characters, which is what the decoder expects.
    const pairs = decodeFormPairs(query);
    if (req.method === 'POST' && Buffer.isBuffer(req.body)) decodeFormPairs(req.body.toString('latin1'), pairs);
    const parsed = parseModificationParameters(pairs);
    // REQUIRE_HTTPS: a password that crossed the network in clear text is not accepted. req.secure
    // believes X-Forwarded-Proto only from a proxy trusted by TRUST_PROXY.
    if (deps.requireHttps && !req.secure) {
      res.set('X-Txedit-Refused', 'https-required');
      sendLinkTrustXml(res, { kind: 'unauthorized' }, parsed.supplied);
      return;
    }
    if (!parsed.ok) {
      sendLinkTrustXml(res, parsed.outcome, parsed.supplied);
      return;
    }
    let outcome: Outcome;
    try {
      outcome = await deps.modifications.modify({
        ...parsed.request,
        clientIp: req.clientIp,
        requestId: req.id,
        source: 'api',
      });
    } catch (error) {
      deps.logger.error({ err: error, reqId: req.id }, 'transaction.edit failed');
      outcome = { kind: 'system_error' };
    }
    sendLinkTrustXml(res, outcome, parsed.supplied);
  });
  return router;
}
