/**
 * The console's and the admin API's "send a test postback": one request to an affiliate's postback URL,
 * filled with sample values, through the same delivery function and guarded dispatcher as the outbox
 * worker, so what the admin sees is what a real delivery would meet (guard refusal, timeout, answer).
 */
import { randomUUID } from 'node:crypto';
import type { Dispatcher } from 'undici';
import { deliverPostback } from './deliver';
import { renderPostbackUrl, type PostbackTokenValues } from './url-template';

/** How much of the receiver's answer we show. */
export const TEST_POSTBACK_BODY_BYTES = 512;

/** What a test postback came to: the receiver's answer, or why there was none. */
export interface TestPostbackResult {
  ok: boolean;
  /** The URL as sent, tokens filled in with the sample values. */
  url: string;
  status?: number;
  /** The first bytes of the receiver's body. */
  body?: string;
  ms: number;
  error?: string;
}

/** The sample values a test postback carries; recognisable as a test by any receiver's log. */
export function samplePostbackValues(affiliateId: number): PostbackTokenValues {
  return {
    campaignId: 1,
    affiliateId,
    subId: 'test-sub',
    clickId: 'test-click',
    transactionId: 'test-transaction',
    affiliatePayout: '1.00',
    merchantRevenue: '10.00',
    merchantReferenceId: 'test-merchant-ref',
    affiliateReferenceId: 'test-affiliate-ref',
    approved: true,
    reason: 'test postback',
    postbackId: `test-${randomUUID()}`,
  };
}

/** Sends one test postback of `template` (never retried, never recorded in the outbox). */
export async function sendTestPostback(
  template: string,
  affiliateId: number,
  options: { dispatcher: Dispatcher; timeoutMs: number },
): Promise<TestPostbackResult> {
  const values = samplePostbackValues(affiliateId);
  const result = await deliverPostback({
    url: renderPostbackUrl(template, values),
    postbackId: values.postbackId,
    timeoutMs: options.timeoutMs,
    dispatcher: options.dispatcher,
    keepBodyBytes: TEST_POSTBACK_BODY_BYTES,
  });
  return {
    ok: result.ok,
    url: result.url,
    ...(result.httpStatus !== null ? { status: result.httpStatus } : {}),
    ...(result.bodyStart !== undefined ? { body: result.bodyStart } : {}),
    ms: result.durationMs,
    ...(result.error !== null ? { error: result.error } : {}),
  };
}
