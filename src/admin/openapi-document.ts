import type { Router } from 'express';
import { createDocument, type ZodOpenApiOperationObject, type ZodOpenApiPathsObject } from 'zod-openapi';
import { describedRoutes, openApiPath, type DescribedRoute } from '../http/api-routes';
import { apiErrorBody } from '../http/api-schemas';

/** The OpenAPI 3.1 document of the admin API, as served at /api/v1/openapi.json. */
export type OpenApiDocument = ReturnType<typeof createDocument>;

/** Refusals every route may answer: authentication, the admin brake, readiness, database trouble. */
const COMMON_ERRORS: Record<number, string> = {
  401: '`unauthorized`: missing or wrong bearer token; `admin_api_disabled`: ADMIN_TOKEN is not set',
  429: '`rate_limited`: too many wrong bearer tokens from this address (`Retry-After` says when to try again)',
  503:
    '`not_ready`: the database schema is not current; `database_busy`: a lock conflict outlasted the retries ' +
    '(nothing written); `database_unavailable`: the database cannot be reached (a write may have landed)',
  500: '`internal_error`: a bug, logged under the request id the message names',
};

/**
 * Builds the document from the routes described on the admin router (`apiRoute`): each route's
 * parameter, query and body schemas are the ones that validate it, its answers the zod schemas of its
 * JSON views, and every refusal the error shape `{error: {code, message}}`.
 */
export function buildOpenApiDocument(routes: readonly DescribedRoute[], version: string): OpenApiDocument {
  const paths: ZodOpenApiPathsObject = {};
  for (const route of routes) {
    const path = openApiPath(route.path);
    paths[path] = { ...paths[path], [route.method]: operationOf(route) };
  }
  return createDocument({
    openapi: '3.1.0',
    info: {
      title: 'txedit admin API',
      version,
      description:
        'The JSON API of a txedit server under `/api/v1`: affiliates, campaigns, transactions, white-lists, ' +
        'postbacks, processing and reports, batches, event types, intake and impact.com API accounts. Every ' +
        'call carries `Authorization: Bearer $ADMIN_TOKEN`. Amounts are exact decimal strings, instants ISO 8601 ' +
        'in UTC. A refusal is `{"error": {"code", "message"}}` with the status below.',
    },
    servers: [{ url: '/api/v1' }],
    security: [{ bearerAuth: [] }],
    tags: [...new Set(routes.map((route) => route.tag))].map((name) => ({ name })),
    paths,
    components: {
      securitySchemes: {
        bearerAuth: { type: 'http', scheme: 'bearer', description: "the server's `ADMIN_TOKEN`" },
      },
    },
  });
}

function operationOf(route: DescribedRoute): ZodOpenApiOperationObject {
  const responses: ZodOpenApiOperationObject['responses'] = {};
  for (const [status, answer] of Object.entries(route.responses)) {
    const content = answer.schema
      ? { 'application/json': { schema: answer.schema } }
      : answer.content
        ? { [answer.content.type]: { schema: answer.content.schema } }
        : undefined;
    const headers = answer.headers
      ? Object.fromEntries(
          Object.entries(answer.headers).map(([name, description]) => [
            name,
            { description, schema: { type: 'string' as const } },
          ]),
        )
      : undefined;
    responses[status as `${1 | 2 | 3 | 4 | 5}${string}`] = withoutUndefined({
      description: answer.description,
      content,
      headers,
    });
  }
  for (const [status, description] of Object.entries(errorsOf(route))) {
    responses[status as `${1 | 2 | 3 | 4 | 5}${string}`] = withoutUndefined({
      description,
      content: { 'application/json': { schema: apiErrorBody } },
      headers: ['429', '503'].includes(status)
        ? { 'Retry-After': { description: 'seconds to wait', schema: { type: 'string' as const } } }
        : undefined,
    });
  }
  const body = route.body
    ? { required: true, content: { 'application/json': { schema: route.body } } }
    : route.rawBody
      ? { required: true, description: route.rawBody.description, content: route.rawBody.content }
      : undefined;
  return withoutUndefined({
    tags: [route.tag],
    summary: route.summary,
    description: route.description,
    operationId: operationIdOf(route),
    requestParams: withoutUndefined({ path: route.params, query: route.query }),
    requestBody: body,
    responses,
  });
}

/** `get /campaigns/:id/intake` → `getCampaignsIdIntake`. */
function operationIdOf(route: DescribedRoute): string {
  const words = openApiPath(route.path)
    .split(/[^A-Za-z0-9]+/)
    .filter(Boolean);
  return route.method + words.map((word) => word[0].toUpperCase() + word.slice(1)).join('');
}

/** zod-openapi reads every key it is given: an absent part must be no key at all. */
function withoutUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, inner]) => inner !== undefined)) as T;
}

/** The route's refusals: its own, then 400 for any input, 413 for a body, then the common ones. */
function errorsOf(route: DescribedRoute): Record<number, string> {
  const errors: Record<number, string> = {};
  const hasInput = Boolean(route.params || route.query || route.body || route.rawBody);
  const own400 = route.errors?.[400];
  if (hasInput || own400) {
    const reasons = ['`validation_failed`: the input fails its schema (the message names each problem)'];
    if (route.body) reasons.push('`invalid_json`: the body is not JSON');
    if (own400) reasons.push(own400);
    errors[400] = reasons.join('; ');
  }
  for (const [status, description] of Object.entries(route.errors ?? {}))
    if (status !== '400') errors[Number(status)] = description;
  if (route.body || route.rawBody) errors[413] = '`payload_too_large`: the body is larger than the limit';
  return { ...errors, ...COMMON_ERRORS };
}

const documents = new WeakMap<Router, OpenApiDocument>();

/**
 * The document of an admin router, built on first use — after every `extend` has added its routes —
 * and kept for the router's life.
 */
export function openApiDocumentOf(router: Router, version: string): OpenApiDocument {
  let document = documents.get(router);
  if (!document) {
    document = buildOpenApiDocument(describedRoutes(router), version);
    documents.set(router, document);
  }
  return document;
}
