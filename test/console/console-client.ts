import { TEST_ADMIN_TOKEN } from '../support/test-server';

/** A console session driven over plain HTTP (no browser): cookies by hand, CSRF token from the pages. */
export interface ConsoleClient {
  cookie: string;
  csrf: string;
  get(path: string): Promise<{ status: number; location: string | null; body: string; headers: Headers }>;
  post(
    path: string,
    form: Record<string, string>,
    options?: { csrf?: string | null },
  ): Promise<{ status: number; location: string | null; body: string; headers: Headers }>;
}

function cookiesFrom(headers: Headers): Record<string, string> {
  const jar: Record<string, string> = {};
  for (const line of headers.getSetCookie()) {
    const [pair] = line.split(';');
    const eq = pair.indexOf('=');
    jar[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return jar;
}

/** The sign-in form's hidden CSRF token and the cookie that goes with it. */
export async function signInForm(baseUrl: string, headers: Record<string, string> = {}) {
  const response = await fetch(`${baseUrl}/admin/sign-in`, { headers });
  const body = await response.text();
  const token = /name="_csrf" value="([^"]+)"/.exec(body)?.[1] ?? '';
  return {
    token,
    cookie: `txedit_console_sign_in=${cookiesFrom(response.headers).txedit_console_sign_in}`,
    response,
    body,
  };
}

/** Signs in with a secret (and a name, for ADMIN_USERS); returns the raw answer. */
export async function postSignIn(
  baseUrl: string,
  fields: { secret: string; name?: string; next?: string },
  headers: Record<string, string> = {},
) {
  const form = await signInForm(baseUrl, headers);
  return fetch(`${baseUrl}/admin/sign-in`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: form.cookie, ...headers },
    body: new URLSearchParams({
      _csrf: form.token,
      secret: fields.secret,
      name: fields.name ?? '',
      next: fields.next ?? '',
    }).toString(),
    redirect: 'manual',
  });
}

/** Signs in and returns a client holding the session cookie and its CSRF token. */
export async function consoleClient(
  baseUrl: string,
  fields: { secret: string; name?: string } = { secret: TEST_ADMIN_TOKEN },
): Promise<ConsoleClient> {
  const response = await postSignIn(baseUrl, fields);
  if (response.status !== 303) throw new Error(`sign-in failed: ${response.status}`);
  const cookie = `txedit_console=${cookiesFrom(response.headers).txedit_console}`;
  const request = async (path: string, init: RequestInit = {}) => {
    const answer = await fetch(`${baseUrl}${path}`, {
      ...init,
      headers: { cookie, ...(init.headers as Record<string, string>) },
      redirect: 'manual',
    });
    return {
      status: answer.status,
      location: answer.headers.get('location'),
      body: await answer.text(),
      headers: answer.headers,
    };
  };
  const page = await request('/admin/transactions');
  const csrf = /name="_csrf" value="([^"]+)"/.exec(page.body)?.[1] ?? '';
  return {
    cookie,
    csrf,
    get: (path) => request(path),
    post: (path, form, options = {}) => {
      const token = options.csrf === undefined ? csrf : options.csrf;
      const body = new URLSearchParams({ ...(token === null ? {} : { _csrf: token }), ...form }).toString();
      return request(path, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body });
    },
  };
}
