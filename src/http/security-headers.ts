import type { IncomingMessage, ServerResponse } from 'node:http';
import helmet, { type HelmetOptions } from 'helmet';

/** One step of helmet's work on a response, in helmet's order: set a header, or remove one (value null). */
export type HeaderStep = readonly [name: string, value: string | null];

/** True when a Content-Security-Policy directive is computed per request (a nonce function, say). */
function hasDynamicDirective(options: Readonly<HelmetOptions>): boolean {
  const csp = options.contentSecurityPolicy;
  if (typeof csp !== 'object' || csp === null || !csp.directives) return false;
  const isDynamic = (value: unknown): boolean =>
    typeof value === 'function' ||
    (typeof value === 'object' &&
      value !== null &&
      Symbol.iterator in value &&
      [...(value as Iterable<unknown>)].some(isDynamic));
  return Object.values(csp.directives).some(isDynamic);
}

/**
 * What `helmet(options)` does to a response, found once by running it against a recording response.
 * Helmet works out every header value when it is configured (static options), so the same steps replayed
 * give byte-identical headers, in the same order, without its chain of middlewares on every request.
 */
export function helmetHeaderSteps(options: Readonly<HelmetOptions>): HeaderStep[] {
  if (hasDynamicDirective(options))
    throw new Error('security headers: per-request CSP directives cannot be precomputed; use helmet() itself');
  const steps: HeaderStep[] = [];
  const recorder = {
    setHeader(name: string, value: unknown) {
      if (typeof value !== 'string') throw new Error(`security headers: helmet set ${name} to a non-string value`);
      steps.push([name, value]);
      return recorder;
    },
    removeHeader(name: string) {
      steps.push([name, null]);
    },
  };
  let finished = false;
  helmet(options)({} as IncomingMessage, recorder as unknown as ServerResponse, (error?: unknown) => {
    if (error) throw error;
    finished = true;
  });
  // Every helmet middleware is synchronous today; one that was not would leave headers unrecorded.
  if (!finished) throw new Error('security headers: helmet did not finish synchronously');
  return steps;
}

/**
 * Middleware that sets exactly the headers `helmet(options)` sets, from a list computed at start-up.
 * test/http/security-headers.test.ts compares it with helmet itself, so the two cannot drift apart.
 */
export function securityHeaders(options: Readonly<HelmetOptions>) {
  const steps = helmetHeaderSteps(options);
  return (_req: IncomingMessage, res: ServerResponse, next: () => void): void => {
    for (let i = 0; i < steps.length; i++) {
      const [name, value] = steps[i];
      if (value === null) res.removeHeader(name);
      else res.setHeader(name, value);
    }
    next();
  };
}
