import { create } from 'xmlbuilder2';

/** A LinkTrust answer, parsed element by element. */
export interface LinkTrustAnswer {
  succeeded: 'True' | 'False';
  error: { type: string; message: string } | null;
  supplied: Record<'TransactionId' | 'ClickId' | 'MerchantReferenceId' | 'CID' | 'AP' | 'MP' | 'A' | 'REASON', string>;
  /** Element names of SuppliedValues in document order. */
  suppliedOrder: string[];
}

type Node = Record<string, unknown>;
const text = (node: unknown): string =>
  typeof node === 'string'
    ? node
    : node && typeof node === 'object' && '#' in (node as Node)
      ? String((node as Node)['#'])
      : '';

/** Parses a /transaction.edit response body; throws when it is not well-formed or not shaped like LinkTrust's. */
export function parseLinkTrustXml(body: string): LinkTrustAnswer {
  if (!body.startsWith('<?xml version="1.0" encoding="UTF-8"?>\n'))
    throw new Error(`missing XML declaration: ${body.slice(0, 60)}`);
  const doc = create(body).end({ format: 'object' }) as Node;
  const root = doc.LinkTrust as Node;
  const response = root.ApiResponse as Node;
  if (response['@action'] !== 'ModifyTransaction') throw new Error('ApiResponse action is not ModifyTransaction');
  const values = response.SuppliedValues as Node;
  const supplied = {} as LinkTrustAnswer['supplied'];
  const order: string[] = [];
  for (const [key, value] of Object.entries(values)) {
    if (key === '#') continue;
    order.push(key);
    (supplied as Record<string, string>)[key] = text(value);
  }
  const error = response.Error as Node | undefined;
  return {
    succeeded: text(response.Succeeded) as 'True' | 'False',
    error: error ? { type: text(error.Type), message: text(error.Message) } : null,
    supplied,
    suppliedOrder: order,
  };
}

/** GETs /transaction.edit with the given query pairs (encoded with encodeURIComponent). */
export async function editByGet(baseUrl: string, params: Record<string, string>, headers: Record<string, string> = {}) {
  const query = Object.entries(params)
    .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`)
    .join('&');
  const response = await fetch(`${baseUrl}/transaction.edit?${query}`, { headers });
  const body = await response.text();
  return {
    status: response.status,
    contentType: response.headers.get('content-type'),
    body,
    answer: parseLinkTrustXml(body),
  };
}

/** POSTs /transaction.edit with a form body (and optionally a raw query string). */
export async function editByPost(
  baseUrl: string,
  form: Record<string, string> | string,
  query = '',
  headers: Record<string, string> = {},
) {
  const body = typeof form === 'string' ? form : new URLSearchParams(form).toString();
  const response = await fetch(`${baseUrl}/transaction.edit${query ? `?${query}` : ''}`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body,
  });
  const text = await response.text();
  return {
    status: response.status,
    contentType: response.headers.get('content-type'),
    body: text,
    answer: parseLinkTrustXml(text),
  };
}
