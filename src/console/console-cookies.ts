import type { Request, Response } from 'express';

/** Cookie holding the console session id. */
export const SESSION_COOKIE = 'txedit_console';
/** Short-lived cookie behind the sign-in form's CSRF token (there is no session yet to hold one). */
export const SIGN_IN_COOKIE = 'txedit_console_sign_in';

/** One cookie of the request, or undefined. Hand-parsed: the console needs two cookies, not a library. */
export function readCookie(req: Request, name: string): string | undefined {
  const header = req.headers.cookie;
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0 || part.slice(0, eq).trim() !== name) continue;
    const raw = part
      .slice(eq + 1)
      .trim()
      .replace(/^"(.*)"$/, '$1');
    try {
      return decodeURIComponent(raw);
    } catch {
      return undefined;
    }
  }
  return undefined;
}

/**
 * Sets a console cookie: HttpOnly (no script reads it), SameSite=Strict (no other site's page sends
 * it), scoped to /admin, and Secure whenever the request came over HTTPS (`req.secure` honours
 * TRUST_PROXY, so a TLS-terminating proxy counts).
 */
export function setConsoleCookie(
  req: Request,
  res: Response,
  name: string,
  value: string,
  maxAgeSeconds: number,
): void {
  const parts = [
    `${name}=${encodeURIComponent(value)}`,
    'Path=/admin',
    `Max-Age=${Math.max(0, Math.floor(maxAgeSeconds))}`,
    'HttpOnly',
    'SameSite=Strict',
  ];
  if (req.secure) parts.push('Secure');
  res.append('Set-Cookie', parts.join('; '));
}

/** Removes a console cookie. */
export function clearConsoleCookie(req: Request, res: Response, name: string): void {
  setConsoleCookie(req, res, name, '', 0);
}
