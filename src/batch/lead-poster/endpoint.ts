/** The `/transaction.edit` URL to post to, or why the given URL cannot be one. */
export type ResolvedEndpoint = { ok: true; url: URL } | { ok: false; reason: string };

/**
 * Turns `--url` into the endpoint: the full `/transaction.edit` URL as LinkTrust documents it, or a
 * tracking domain's base URL (`https://track.example.com`), to which the path is added. Any other path
 * is kept as given, since a network may serve the endpoint under a prefix.
 */
export function resolveEndpoint(text: string): ResolvedEndpoint {
  let url: URL;
  try {
    url = new URL(text.trim());
  } catch {
    return { ok: false, reason: `not a URL: ${redactUrl(text)}` };
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    return { ok: false, reason: `the URL must start with http:// or https:// (got ${url.protocol})` };
  }
  if (url.pathname === '' || url.pathname === '/') url.pathname = '/transaction.edit';
  url.hash = '';
  return { ok: true, url };
}

const PASSWORD_IN_QUERY = /([?&]password=)[^&#]*/gi;
const USER_INFO = /^([a-z][a-z0-9+.-]*:\/\/)[^/?#@]*@/i;

/**
 * A URL fit to print: without user-info and without the value of a `Password` query parameter, for a
 * merchant who put the password in `--url` rather than in the file.
 */
export function redactUrl(url: URL | string): string {
  return String(url).replace(USER_INFO, '$1***@').replace(PASSWORD_IN_QUERY, '$1***');
}
