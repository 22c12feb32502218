import type { Services } from '../../src/composition';
import type { Transaction } from '../../src/core/transaction';
import { LinkTrustDocument, NOTHING_SUPPLIED, readLinkTrustDocument, Supplied } from './strict-linktrust-xml';

/** How parameters reach /transaction.edit: the query string, a form body, or split between both. */
export type Transport = 'GET' | 'POST' | 'mixed';
export const TRANSPORTS: Transport[] = ['GET', 'POST', 'mixed'];

/** Name/value pairs in the order sent; a list rather than an object so names may repeat. */
export type Pairs = Array<[string, string]>;

/** `a=1&b=2` with encodeURIComponent on both sides (the way well-behaved clients encode). */
export function encodePairs(pairs: Pairs): string {
  return pairs.map(([name, value]) => `${encodeURIComponent(name)}=${encodeURIComponent(value)}`).join('&');
}

/** An HTTP answer as received. */
export interface RawAnswer {
  status: number;
  headers: Headers;
  body: string;
}

/** Sends one request to /transaction.edit with a raw query string and (for POST) a raw form body. */
export async function sendEdit(
  baseUrl: string,
  request: { method?: string; query?: string; body?: string; contentType?: string; headers?: Record<string, string> },
): Promise<RawAnswer> {
  const method = request.method ?? (request.body === undefined ? 'GET' : 'POST');
  const headers: Record<string, string> = { ...request.headers };
  if (request.body !== undefined) headers['content-type'] = request.contentType ?? 'application/x-www-form-urlencoded';
  const response = await fetch(`${baseUrl}/transaction.edit${request.query ? `?${request.query}` : ''}`, {
    method,
    headers,
    body: request.body,
  });
  return { status: response.status, headers: response.headers, body: await response.text() };
}

/** Sends pairs by the transport: mixed puts pairs at even positions in the query, the rest in the body. */
export function sendPairs(
  baseUrl: string,
  transport: Transport,
  pairs: Pairs,
  headers: Record<string, string> = {},
): Promise<RawAnswer> {
  if (transport === 'GET') return sendEdit(baseUrl, { query: encodePairs(pairs), headers });
  if (transport === 'POST') return sendEdit(baseUrl, { body: encodePairs(pairs), headers });
  const inQuery = pairs.filter((_, index) => index % 2 === 0);
  const inBody = pairs.filter((_, index) => index % 2 === 1);
  return sendEdit(baseUrl, { query: encodePairs(inQuery), body: encodePairs(inBody), headers });
}

/** Checks what every answer shares (HTTP 200, the XML content type) and parses the document strictly. */
export function documentOf(answer: RawAnswer): LinkTrustDocument {
  expect(answer.status).toBe(200);
  expect(answer.headers.get('content-type')).toBe('text/xml; charset=utf-8');
  return readLinkTrustDocument(answer.body);
}

/** Sends pairs and returns the parsed answer. */
export async function edit(
  baseUrl: string,
  transport: Transport,
  pairs: Pairs,
  headers: Record<string, string> = {},
): Promise<LinkTrustDocument> {
  return documentOf(await sendPairs(baseUrl, transport, pairs, headers));
}

/** The expected failure document. */
export function failure(
  type: 'permanent' | 'temporary' | 'system',
  message: string,
  supplied: Partial<Supplied> = {},
): LinkTrustDocument {
  return { succeeded: 'False', error: { type, message }, supplied: { ...NOTHING_SUPPLIED, ...supplied } };
}

/** The expected success document. */
export function success(supplied: Partial<Supplied> = {}): LinkTrustDocument {
  return { succeeded: 'True', error: null, supplied: { ...NOTHING_SUPPLIED, ...supplied } };
}

/** Asserts that a transaction is exactly as it was and has no history: a refused request changed nothing. */
export async function expectUntouched(services: Services, transaction: Transaction): Promise<void> {
  expect(await services.stores.transactions.getById(transaction.id)).toEqual(transaction);
  expect(await services.stores.modifications.listForTransaction(transaction.id)).toEqual([]);
}

/** Sets the nightly-processing flag for the duration of `work`, then clears it again. */
export async function duringNightly<T>(services: Services, work: () => Promise<T>): Promise<T> {
  await services.stores.processingState.update(services.stores.units.alone, { nightlyInProgress: true });
  try {
    return await work();
  } finally {
    await services.stores.processingState.update(services.stores.units.alone, { nightlyInProgress: false });
  }
}
