import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import type { ValidateFunction } from 'ajv';
import { TEST_ADMIN_TOKEN } from '../support/test-server';

type Json = Record<string, unknown>;
/** An OpenAPI document as JSON. */
export type Document = { paths: Record<string, Record<string, Json>>; components?: { schemas?: Record<string, Json> } };

/** `#/components/schemas/X` → `#/$defs/X`, so a response schema compiles on its own with the components as $defs. */
function withDefs(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withDefs);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.entries(value).map(([key, inner]) => [
      key,
      key === '$ref' && typeof inner === 'string'
        ? inner.replace('#/components/schemas/', '#/$defs/')
        : withDefs(inner),
    ]),
  );
}

/** The document's operation for a concrete request path (`/affiliates/12` → `/affiliates/{id}`). */
export function operationFor(document: Document, method: string, path: string): { template: string; operation: Json } {
  const bare = path.split('?')[0];
  for (const [template, item] of Object.entries(document.paths)) {
    const pattern = new RegExp(`^${template.replace(/\{[^}]+\}/g, '[^/]+')}$`);
    if (pattern.test(bare) && item[method]) return { template, operation: item[method] as Json };
  }
  throw new Error(`the document has no ${method.toUpperCase()} ${bare}`);
}

/**
 * Calls the admin API and checks the answer against the document: its status must be documented for
 * the operation, its content type the documented one, and a JSON body must validate against the
 * status's schema (ajv, JSON Schema 2020-12 — OpenAPI 3.1's dialect). Records which statuses each
 * operation was seen answering.
 */
export class DocumentedClient {
  readonly seen = new Map<string, Set<number>>();
  private readonly ajv = new Ajv2020({ strict: false, allErrors: true });
  private readonly validators = new Map<string, ValidateFunction>();

  constructor(
    private readonly baseUrl: string,
    private readonly document: Document,
  ) {
    addFormats(this.ajv);
  }

  async call(
    method: string,
    path: string,
    body?: unknown,
    options: { token?: string | null; raw?: { type: string; bytes: Buffer } } = {},
  ): Promise<{ status: number; body: any; text: string }> {
    const token = options.token === undefined ? TEST_ADMIN_TOKEN : options.token;
    const headers: Record<string, string> = token === null ? {} : { authorization: `Bearer ${token}` };
    let payload: string | Uint8Array | undefined;
    if (options.raw) {
      headers['content-type'] = options.raw.type;
      payload = new Uint8Array(options.raw.bytes);
    } else if (body !== undefined) {
      headers['content-type'] = 'application/json';
      payload = JSON.stringify(body);
    }
    const response = await fetch(`${this.baseUrl}/api/v1${path}`, { method, headers, body: payload });
    const text = await response.text();
    const lower = method.toLowerCase();
    const { template, operation } = operationFor(this.document, lower, path);
    const key = `${lower} ${template}`;
    const answers = operation.responses as Record<string, Json>;
    const answer = answers[String(response.status)];
    if (!answer) throw new Error(`${key} answered ${response.status}, not documented: ${text}`);
    const content = answer.content as Record<string, { schema: Json }> | undefined;
    let parsed: unknown = null;
    if (!content) {
      if (text !== '') throw new Error(`${key} ${response.status} has no documented body but sent ${text}`);
    } else {
      const type = (response.headers.get('content-type') ?? '').split(';')[0];
      if (!content[type])
        throw new Error(`${key} ${response.status} sent ${type}, documented: ${Object.keys(content)}`);
      if (type === 'application/json') {
        parsed = JSON.parse(text);
        const validate = this.validator(`${key} ${response.status}`, content[type].schema);
        if (!validate(parsed))
          throw new Error(
            `${key} ${response.status} does not match its schema: ${this.ajv.errorsText(validate.errors)}\n${text}`,
          );
      }
    }
    if (!this.seen.has(key)) this.seen.set(key, new Set());
    this.seen.get(key)?.add(response.status);
    return { status: response.status, body: parsed, text };
  }

  private validator(key: string, schema: Json): ValidateFunction {
    let validate = this.validators.get(key);
    if (!validate) {
      validate = this.ajv.compile({
        ...(withDefs(schema) as Json),
        $defs: withDefs(this.document.components?.schemas ?? {}),
      });
      this.validators.set(key, validate);
    }
    return validate;
  }
}
