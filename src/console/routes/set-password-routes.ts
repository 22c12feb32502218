import crypto from 'node:crypto';
import type { Request, Response, Router } from 'express';
import { secretsEqual } from '../../admin/admin-auth';
import type { MerchantUser } from '../../store/merchant-user-store';
import { clearConsoleCookie, readCookie, setConsoleCookie, SIGN_IN_COOKIE } from '../console-cookies';
import { ConsoleContext, field, route } from '../console-context';
import { sendRefusal } from '../console-guard';
import { renderPage } from '../views/layout';
import { setPasswordView } from '../views/set-password-view';

const FORM_SECONDS = 3600;

function refuseLink(res: Response, context: ConsoleContext): void {
  sendRefusal(
    res,
    context.assets,
    404,
    'Link not valid',
    'This link has expired, was already used, or was replaced by a newer one. Ask your network for a new link.',
  );
}

function sendForm(
  req: Request,
  res: Response,
  context: ConsoleContext,
  token: string,
  user: MerchantUser,
  options: { status?: number; problems?: string[] } = {},
): void {
  // Like the sign-in form: the CSRF token is a fresh SameSite=Strict cookie's value.
  const formToken = crypto.randomBytes(32).toString('base64url');
  setConsoleCookie(req, res, SIGN_IN_COOKIE, formToken, FORM_SECONDS);
  res
    .status(options.status ?? 200)
    .type('text/html; charset=utf-8')
    .send(
      renderPage({
        title: 'Choose your password',
        assets: context.assets,
        body: setPasswordView({ formToken, token, email: user.email, name: user.name }),
        problems: options.problems,
      }),
    );
}

/**
 * A merchant user's one-time link (`/admin/set-password/:token`, reachable without a session): choose a
 * password, typed twice; the link is spent in the same unit of work, with its audit entry.
 */
export function setPasswordRoutes(router: Router, context: ConsoleContext): void {
  const { merchantUsers } = context;
  router.get(
    '/set-password/:token',
    route(async (req, res) => {
      const token = String(req.params.token);
      const user = await merchantUsers.linkHolder(token);
      if (!user) return refuseLink(res, context);
      sendForm(req, res, context, token, user);
    }),
  );
  router.post(
    '/set-password/:token',
    route(async (req, res) => {
      const token = String(req.params.token);
      const formToken = readCookie(req, SIGN_IN_COOKIE) ?? '';
      const sent = field(req.body, '_csrf');
      const holder = await merchantUsers.linkHolder(token);
      if (!holder) return refuseLink(res, context);
      if (formToken === '' || sent === '' || !secretsEqual(formToken, sent))
        return sendForm(req, res, context, token, holder, {
          status: 403,
          problems: ['The form expired. Please type your password again.'],
        });
      const password = field(req.body, 'password');
      if (password !== field(req.body, 'again'))
        return sendForm(req, res, context, token, holder, {
          status: 400,
          problems: ['The two passwords are not the same.'],
        });
      const result = await merchantUsers.setPassword(token, password, (sql, user) =>
        context.audit.within(
          { actor: user.email, clientIp: req.clientIp || null, requestId: req.id ?? null },
          'merchant_user.password_set',
          `merchant:${user.merchantId}`,
          { userId: user.id },
        )(sql, user),
      );
      if (!result) return refuseLink(res, context);
      if (!result.ok) return sendForm(req, res, context, token, holder, { status: 400, problems: [result.problem] });
      clearConsoleCookie(req, res, SIGN_IN_COOKIE);
      res.redirect(303, '/admin/sign-in?done=password-set');
    }),
  );
}
