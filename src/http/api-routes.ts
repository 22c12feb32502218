import type { NextFunction, Request, RequestHandler, Response, Router } from 'express';
import type { z } from 'zod';
import { validate, validateParameters } from './params';

/** The HTTP methods the admin API answers. */
export type ApiMethod = 'get' | 'post' | 'put' | 'patch' | 'delete';

/** A described answer: JSON by its zod schema, or another content type (a CSV) by a plain JSON Schema. */
export interface ApiResponse {
  description: string;
  /** The JSON body, as a zod schema of what the route's view returns. Absent: no body (204). */
  schema?: z.ZodType;
  /** Another content type than JSON, with a JSON Schema of its text (e.g. `{ type: 'string' }`). */
  content?: { type: string; schema: Record<string, unknown> };
  /** Response headers worth knowing (name → description). */
  headers?: Record<string, string>;
}

/** A request body that is not JSON (a file upload): described by hand, read by the route itself. */
export interface ApiRawBody {
  description: string;
  content: Record<string, { schema: Record<string, unknown> }>;
}

/**
 * One route of the admin API, described once: the schemas here are the ones that validate its input
 * (through `apiRoute`) and the ones the OpenAPI document shows (through `describedRoutes`).
 */
export interface ApiRouteSpec<
  P extends z.ZodObject | undefined = undefined,
  Q extends z.ZodObject | undefined = undefined,
  B extends z.ZodType | undefined = undefined,
> {
  method: ApiMethod;
  /** express's path below /api/v1, e.g. `/affiliates/:id`. */
  path: string;
  /** The group on the reference page (`Affiliates`, `Batches`…). */
  tag: string;
  summary: string;
  description?: string;
  /** Path parameters; their messages name the parameter (`id must be a positive integer`). */
  params?: P;
  /** Query parameters; unknown ones are ignored, as they always were. */
  query?: Q;
  /** A JSON body. */
  body?: B;
  /** A non-JSON body (the route reads it itself, after `middlewares`). */
  rawBody?: ApiRawBody;
  /** Middlewares that run before validation (a raw body parser). */
  middlewares?: RequestHandler[];
  /** Success answers by status. */
  responses: Record<number, ApiResponse>;
  /** The route's own refusals by status (400, 404, 409…), each with when it happens. */
  errors?: Record<number, string>;
}

type Parsed<S> = S extends z.ZodType ? z.output<S> : undefined;

/** What a described route's handler gets: its input, parsed by its own schemas. */
export interface ApiInput<P, Q, B> {
  params: Parsed<P>;
  query: Parsed<Q>;
  body: Parsed<B>;
}

/** A route as the document sees it: its description, without the handler. */
export type DescribedRoute = ApiRouteSpec<z.ZodObject | undefined, z.ZodObject | undefined, z.ZodType | undefined>;

const described = new WeakMap<Router, DescribedRoute[]>();

/**
 * Adds a described route to an admin API router: validates the path, query and JSON body with the
 * spec's schemas (a 400 naming every problem), then calls the handler; a thrown error or rejected
 * promise goes to the router's error handler. The spec is kept for the OpenAPI document — a route
 * mounted with a plain `router.get` is missing from it, and test/openapi's completeness test fails.
 */
export function apiRoute<
  P extends z.ZodObject | undefined = undefined,
  Q extends z.ZodObject | undefined = undefined,
  B extends z.ZodType | undefined = undefined,
>(
  router: Router,
  spec: ApiRouteSpec<P, Q, B>,
  handler: (input: ApiInput<P, Q, B>, req: Request, res: Response) => Promise<void>,
): void {
  const routes = described.get(router) ?? [];
  described.set(router, routes);
  routes.push(spec as DescribedRoute);
  const run = (req: Request, res: Response, next: NextFunction) => {
    let input: ApiInput<P, Q, B>;
    try {
      input = {
        params: (spec.params ? validateParameters(spec.params, req.params) : undefined) as Parsed<P>,
        query: (spec.query ? validateParameters(spec.query, req.query) : undefined) as Parsed<Q>,
        body: (spec.body ? validate(spec.body, req.body) : undefined) as Parsed<B>,
      };
    } catch (error) {
      next(error);
      return;
    }
    handler(input, req, res).catch(next);
  };
  router[spec.method](spec.path, ...(spec.middlewares ?? []), run);
}

/** The routes described on a router, in the order they were added. */
export function describedRoutes(router: Router): readonly DescribedRoute[] {
  return described.get(router) ?? [];
}

/** express's `/campaigns/:id/intake` as OpenAPI's `/campaigns/{id}/intake`. */
export function openApiPath(expressPath: string): string {
  return expressPath.replace(/:([A-Za-z_][A-Za-z0-9_]*)/g, '{$1}');
}
