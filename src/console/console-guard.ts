import type { NextFunction, Request, Response } from 'express';
import { secretsEqual } from '../admin/admin-auth';
import { html } from './html';
import type { ConsoleAuth } from './console-auth';
import { readCookie, SESSION_COOKIE } from './console-cookies';
import type { ConsoleSession } from '../store/console-session-store';
import { AssetUrls, renderPage } from './views/layout';

/** The CSRF token a request carries: the `_csrf` form field or the X-CSRF-Token header (scripts). */
export function csrfTokenOf(req: Request): string {
  const body = req.body as Record<string, unknown> | undefined;
  const fromBody = body && typeof body === 'object' && typeof body._csrf === 'string' ? body._csrf : '';
  return fromBody || req.get('x-csrf-token') || '';
}

/** A refusal page (no session details, nothing from the request echoed). */
export function sendRefusal(res: Response, assets: AssetUrls, status: number, title: string, message: string): void {
  const body = html`<section class="card"><p>${message}</p><p><a href="/admin/campaigns">Back to the console</a></p></section>`;
  res.status(status).type('text/html; charset=utf-8').send(renderPage({ title, assets, body }));
}

/**
 * Lets a request through only with a live session (in `res.locals.consoleSession`). Without one, a
 * page request is sent to sign in (and back afterwards); anything else is refused.
 */
export function requireSession(auth: ConsoleAuth, assets: AssetUrls) {
  return async (req: Request, res: Response, next: NextFunction): Promise<void> => {
    try {
      const session = await auth.resolve(readCookie(req, SESSION_COOKIE));
      if (session) {
        res.locals.consoleSession = session;
        next();
        return;
      }
      if (req.method === 'GET' || req.method === 'HEAD') {
        const nextPath = req.originalUrl.startsWith('/admin/') ? req.originalUrl : '/admin/';
        res.redirect(303, `/admin/sign-in?next=${encodeURIComponent(nextPath)}`);
        return;
      }
      sendRefusal(
        res,
        assets,
        403,
        'Signed out',
        'Your session has ended. Sign in again, then repeat what you were doing.',
      );
    } catch (error) {
      next(error);
    }
  };
}

/**
 * Checks the per-session CSRF token on every state-changing request, in constant time. Runs after the
 * body is parsed (forms carry the token as a field). SameSite=Strict cookies already keep other sites
 * out; the token also covers same-site pages and older browsers.
 */
export function requireCsrf(assets: AssetUrls) {
  return (req: Request, res: Response, next: NextFunction): void => {
    if (req.method === 'GET' || req.method === 'HEAD' || req.method === 'OPTIONS') {
      next();
      return;
    }
    const session = res.locals.consoleSession as ConsoleSession | undefined;
    const token = csrfTokenOf(req);
    if (!session || token === '' || !secretsEqual(token, session.csrfToken)) {
      sendRefusal(
        res,
        assets,
        403,
        'Form refused',
        'This form did not come from your console session (it may be from an old page or another site). Reload the page and try again.',
      );
      return;
    }
    next();
  };
}
