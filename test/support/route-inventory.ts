import type express from 'express';
import { openApiPath } from '../../src/http/api-routes';

/** A route as `METHOD /path` in OpenAPI's spelling (`get /affiliates/{id}`), below a prefix. */
export type RouteKey = string;

interface Layer {
  route?: { path: unknown; methods: Record<string, boolean> };
  handle?: { stack?: Layer[] };
  rawPath?: unknown;
  slash?: boolean;
}

/**
 * Every route an express app answers below `prefix`, read from express's own router stack (nested
 * routers included) — so a route added with a plain `router.get`, undescribed, is here too.
 */
export function mountedRoutes(app: express.Express, prefix: string): RouteKey[] {
  const found: RouteKey[] = [];
  const walk = (stack: Layer[], base: string) => {
    for (const layer of stack) {
      if (layer.route) {
        const path = `${base}${String(layer.route.path)}`;
        for (const [method, on] of Object.entries(layer.route.methods))
          if (on && path.startsWith(`${prefix}/`)) found.push(`${method} ${openApiPath(path.slice(prefix.length))}`);
      } else if (layer.handle?.stack) {
        const mount = layer.slash || typeof layer.rawPath !== 'string' ? '' : layer.rawPath;
        walk(layer.handle.stack, `${base}${mount}`);
      }
    }
  };
  walk((app as unknown as { router: { stack: Layer[] } }).router.stack, '');
  return found;
}

/** The document's operations as route keys. */
export function documentedRoutes(document: { paths?: Record<string, Record<string, unknown>> }): RouteKey[] {
  const methods = new Set(['get', 'put', 'post', 'delete', 'patch', 'head', 'options', 'trace']);
  return Object.entries(document.paths ?? {}).flatMap(([path, item]) =>
    Object.keys(item)
      .filter((key) => methods.has(key))
      .map((method) => `${method} ${path}`),
  );
}

/** What is mounted but not documented, and what is documented but not mounted. */
export function compareRoutes(
  mounted: readonly RouteKey[],
  documented: readonly RouteKey[],
): { undocumented: RouteKey[]; unmounted: RouteKey[] } {
  const inDocument = new Set(documented);
  const inApp = new Set(mounted);
  return {
    undocumented: [...inApp].filter((key) => !inDocument.has(key)).sort(),
    unmounted: [...inDocument].filter((key) => !inApp.has(key)).sort(),
  };
}
