import type { IncomingMessage, ServerResponse } from 'node:http';
import type express from 'express';
import type { Request, Response } from 'express';
import proxyaddr from 'proxy-addr';
import { withoutPort } from '../auth/ip-address';

/**
 * A request as the hot path hands it to its middlewares and handler: Node's own object, with what
 * `originalUrl` and our request context add. A request routed by express is one too, so the same
 * functions serve both. Anything beyond Node's API (`req.ip`, `res.status()`, `res.send()`, …) is reached
 * through `expressApis`.
 */
export interface PlainRequest extends IncomingMessage {
  originalUrl: string;
  /** Id of this request, in every log line about it and in the X-Request-Id response header. */
  id: string;
  /** The client address under TRUST_PROXY, IPv4-mapped IPv6 normalised to IPv4. */
  clientIp: string;
  /** The parsed body, where a body parser ran (POST). */
  body?: unknown;
}

/** The app a request was handed over by, until it is given express's APIs. */
const OWNER = Symbol('txedit.expressOwner');
type Owned = IncomingMessage & { [OWNER]?: express.Express };

/**
 * Marks a request the hot path takes past express's router as `app`'s, and sets what our handlers read of
 * express's preparation (`originalUrl`). Its prototypes stay Node's: V8 keeps the request and response
 * objects' shapes stable, where express's `Object.setPrototypeOf` on every request sends Node's own HTTP
 * code and ours through slow, megamorphic property lookups (≈ 30 % of a request's CPU).
 */
export function handOver(app: express.Express, req: IncomingMessage): PlainRequest {
  (req as Owned)[OWNER] = app;
  const plain = req as PlainRequest;
  plain.originalUrl = req.url ?? '/';
  return plain;
}

/**
 * express's request and response APIs for a request. One that came through express's router has them
 * already; one the hot path handed over gets them now, prepared as express's `app.handle` prepares every
 * request (so everything after behaves as under the router). Rare paths only: errors, refusals of
 * outsized requests, conditional GETs (a proxy's headers are read without them: `forwardedClientIp`,
 * `isSecure`).
 */
export function expressApis(req: IncomingMessage, res: ServerResponse): { req: Request; res: Response } {
  const owned = req as Owned;
  const app = owned[OWNER];
  if (app) {
    owned[OWNER] = undefined;
    const request = req as Request;
    const response = res as Response;
    request.res = response;
    response.req = request;
    Object.setPrototypeOf(request, app.request);
    Object.setPrototypeOf(response, app.response);
    response.locals ??= Object.create(null);
    request.baseUrl = '';
  }
  return { req: req as Request, res: res as Response };
}

/**
 * express's `req.ip` — the client address under the app's `trust proxy` — without express's APIs, and
 * with the port some proxies write into X-Forwarded-For entries (`203.0.113.66:40001`,
 * `[2001:db8::1]:443`) dropped before an entry is judged or returned: proxy-addr's own walk over
 * the hops (`proxyaddr.all`, nearest first) with the app's own compiled trust function. Behind a proxy
 * every request carries X-Forwarded-For, so this is a hot path too (and a flood's refusals are cheap).
 */
export function forwardedClientIp(req: IncomingMessage, res: ServerResponse): string | undefined {
  const trust = trustOf(req);
  if (!trust) return withoutPort(expressApis(req, res).req.ip);
  // The socket's peer first, then X-Forwarded-For from its last (nearest) entry: the client is the
  // first address not trusted, or the farthest one.
  const hops = proxyaddr.all(req);
  const last = hops.length - 1;
  for (let hop = 0; hop < last; hop++) {
    const address = withoutPort(hops[hop]);
    if (!trust(address, hop)) return address;
  }
  return withoutPort(hops[last]);
}

/**
 * express's `req.secure` without express's APIs, as its `req.protocol` works it out: TLS on the socket,
 * or the first X-Forwarded-Proto value when the socket's peer is a proxy `trust proxy` trusts.
 */
export function isSecure(req: IncomingMessage, res: ServerResponse): boolean {
  const trust = trustOf(req);
  if (!trust) return expressApis(req, res).req.secure;
  const own = (req.socket as { encrypted?: boolean }).encrypted ? 'https' : 'http';
  if (!trust(req.socket.remoteAddress ?? '', 0)) return own === 'https';
  const header = req.headers['x-forwarded-proto'];
  const proto = (typeof header === 'string' && header !== '' ? header : own).split(',')[0].trim();
  return proto === 'https';
}

type Trust = (address: string, hop: number) => boolean;

/** The app's compiled `trust proxy` (express's own setting), whether the request was handed over or routed. */
function trustOf(req: IncomingMessage): Trust | undefined {
  const app = (req as Owned)[OWNER] ?? (req as Partial<Request>).app;
  const trust: unknown = app?.get('trust proxy fn');
  return typeof trust === 'function' ? (trust as Trust) : undefined;
}

/**
 * The request's path as the client sent it, without its query string (or a fragment): the whole path,
 * mount prefixes included (`/api/v1/campaigns`, not the `/campaigns` a mounted router sees in `req.url`).
 */
export function pathOf(req: IncomingMessage): string {
  const url = (req as Partial<PlainRequest>).originalUrl ?? req.url ?? '/';
  const end = url.search(/[?#]/);
  return end === -1 ? url : url.slice(0, end);
}
