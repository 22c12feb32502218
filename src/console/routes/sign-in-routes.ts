import crypto from 'node:crypto';
import type { Request, Response, Router } from 'express';
import { secretsEqual } from '../../admin/admin-auth';
import type { AfterChange } from '../../store/after-change';
import { clearConsoleCookie, readCookie, SESSION_COOKIE, setConsoleCookie, SIGN_IN_COOKIE } from '../console-cookies';
import { ConsoleContext, field, route } from '../console-context';
import type { ConsoleSession } from '../../store/console-session-store';
import { sendRefusal } from '../console-guard';
import { renderPage } from '../views/layout';
import { signInView } from '../views/sign-in-view';

const SIGN_IN_FORM_SECONDS = 3600;

// Only a console path may follow sign-in, never another site (`//evil.example`, `/\evil.example`).
function safeNext(value: unknown): string {
  return typeof value === 'string' &&
    /^\/admin\/[A-Za-z0-9/_?=&%.-]*$/.test(value) &&
    !/\.\.|\/\//.test(value) &&
    !value.startsWith('/admin/sign-')
    ? value
    : '/admin/';
}

async function sendSignIn(
  req: Request,
  res: Response,
  context: ConsoleContext,
  options: { status?: number; problems?: string[]; notice?: string | null; name?: string; next?: string } = {},
): Promise<void> {
  // The form's CSRF token is the value of a fresh SameSite=Strict cookie: a page on another site can
  // neither read it nor make the browser send it, so it cannot sign a victim in to its own session.
  const formToken = crypto.randomBytes(32).toString('base64url');
  setConsoleCookie(req, res, SIGN_IN_COOKIE, formToken, SIGN_IN_FORM_SECONDS);
  const body = signInView({
    formToken,
    next: options.next ?? safeNext(req.query.next),
    hasUsers: await context.auth.hasUsers(),
    name: options.name ?? '',
  });
  res
    .status(options.status ?? 200)
    .type('text/html; charset=utf-8')
    .send(
      renderPage({
        title: 'Sign in',
        assets: context.assets,
        body,
        problems: options.problems,
        notice: options.notice,
      }),
    );
}

/** Sign-in and sign-out; the only console routes reachable without a session. */
export function signInRoutes(router: Router, context: ConsoleContext): void {
  router.get(
    '/sign-in',
    route(async (req, res) => {
      if (!context.auth.enabled) {
        sendRefusal(
          res,
          context.assets,
          503,
          'Console disabled',
          'The console is disabled: set ADMIN_TOKEN (or ADMIN_USERS) and restart.',
        );
        return;
      }
      const notice =
        req.query.done === 'signed-out'
          ? 'You are signed out.'
          : req.query.done === 'password-set'
            ? 'Your password is set. Sign in with your e-mail address and it.'
            : null;
      await sendSignIn(req, res, context, { notice });
    }),
  );

  router.post(
    '/sign-in',
    route(async (req, res) => {
      const formToken = readCookie(req, SIGN_IN_COOKIE) ?? '';
      const sent = field(req.body, '_csrf');
      if (formToken === '' || sent === '' || !secretsEqual(formToken, sent)) {
        await sendSignIn(req, res, context, { status: 403, problems: ['The sign-in form expired. Please try again.'] });
        return;
      }
      const name = field(req.body, 'name').slice(0, 254);
      const next = safeNext(field(req.body, 'next'));
      // The actor is known once the credentials are: the entry is made inside the session's own transaction.
      const audit: AfterChange<ConsoleSession> = (trx, session) =>
        context.audit.within(
          { actor: session.actor, clientIp: req.clientIp || null, requestId: req.id ?? null },
          'session.sign_in',
          null,
          { method: session.method },
        )(trx, session);
      const result = await context.auth.signIn(
        { name, secret: field(req.body, 'secret'), clientIp: req.clientIp },
        audit,
      );
      if (!result.ok) {
        // A refused sign-in is audited (not a throttled one: the brake already answered it without a check).
        if (result.reason !== 'throttled' && result.reason !== 'disabled')
          await context.audit.record(
            { actor: name === '' ? '(admin token)' : name, clientIp: req.clientIp || null, requestId: req.id ?? null },
            'session.sign_in_failed',
            null,
            { reason: 'wrong credentials' },
          );
        const problem =
          result.reason === 'throttled'
            ? `Too many failed sign-ins from your address. Try again in ${result.retryAfterSeconds < 60 ? `${result.retryAfterSeconds} second(s)` : `${Math.ceil(result.retryAfterSeconds / 60)} minute(s)`}.`
            : result.reason === 'disabled'
              ? 'The console is disabled: set ADMIN_TOKEN (or ADMIN_USERS) and restart.'
              : (await context.auth.hasUsers())
                ? 'That name and password (or admin token) are not right.'
                : 'That admin token is not right.';
        await sendSignIn(req, res, context, {
          status: result.reason === 'throttled' ? 429 : 401,
          problems: [problem],
          name,
          next,
        });
        return;
      }
      // A fresh id on every sign-in: a session id planted before sign-in is worthless after it.
      await context.auth.signOut(readCookie(req, SESSION_COOKIE));
      clearConsoleCookie(req, res, SIGN_IN_COOKIE);
      setConsoleCookie(
        req,
        res,
        SESSION_COOKIE,
        result.sessionId,
        (result.session.expiresAt - result.session.createdAt) / 1000,
      );
      // A merchant user lands on its transactions unless it was on its way to one of them.
      res.redirect(
        303,
        result.session.method === 'merchant' && !next.startsWith('/admin/transactions') ? '/admin/transactions' : next,
      );
    }),
  );
}
