import { CliError } from './cli-io';

/** The default admin API server of the CLI. */
export const DEFAULT_SERVER_URL = 'http://127.0.0.1:8080';

/** A request to the admin API: a JSON body, or raw bytes with their content type. */
export interface ApiRequest {
  json?: unknown;
  bytes?: Buffer;
  contentType?: string;
  query?: Record<string, string | number | boolean | undefined>;
}

/**
 * Calls a running server's admin JSON API (`/api/v1`) with the admin token. Every failure becomes a
 * CliError with one line saying what went wrong (the server's own error message when it sent one).
 */
export class AdminApiClient {
  private readonly base: URL;

  constructor(
    serverUrl: string,
    private readonly token: string,
  ) {
    let base: URL;
    try {
      base = new URL(serverUrl);
    } catch {
      throw new CliError(`--url ${JSON.stringify(serverUrl)} is not a URL (e.g. ${DEFAULT_SERVER_URL})`, 2);
    }
    if (base.protocol !== 'http:' && base.protocol !== 'https:')
      throw new CliError(`--url must be an http:// or https:// URL`, 2);
    base.pathname = `${base.pathname.replace(/\/+$/, '')}/api/v1/`;
    this.base = base;
  }

  /** The server's address, as given. */
  get serverOrigin(): string {
    return this.base.origin;
  }

  /** Sends a request; returns the parsed JSON answer (null for 204). */
  async json<T>(method: string, path: string, request: ApiRequest = {}): Promise<T> {
    const response = await this.send(method, path, request);
    if (response.status === 204) return null as T;
    const text = await response.text();
    try {
      return JSON.parse(text) as T;
    } catch {
      throw new CliError(`${method} ${path}: the server did not answer with JSON (HTTP ${response.status})`);
    }
  }

  /** Sends a request; returns the body as text (e.g. a results CSV). */
  async text(method: string, path: string, request: ApiRequest = {}): Promise<string> {
    return (await this.send(method, path, request)).text();
  }

  private async send(method: string, path: string, request: ApiRequest): Promise<Response> {
    const url = new URL(path.replace(/^\//, ''), this.base);
    for (const [key, value] of Object.entries(request.query ?? {}))
      if (value !== undefined) url.searchParams.set(key, String(value));
    const headers: Record<string, string> = { authorization: `Bearer ${this.token}`, accept: 'application/json' };
    let body: string | Buffer | undefined;
    if (request.json !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(request.json);
    } else if (request.bytes) {
      headers['content-type'] = request.contentType ?? 'application/octet-stream';
      body = request.bytes;
    }
    let response: Response;
    try {
      response = await fetch(url, { method, headers, body, redirect: 'manual' });
    } catch (error) {
      const cause = (error as { cause?: { code?: string; message?: string } }).cause;
      throw new CliError(
        `cannot reach ${this.base.origin}: ${cause?.code ?? cause?.message ?? (error as Error).message} (is the server running? see --url / TXEDIT_URL)`,
      );
    }
    if (response.ok) return response;
    throw new CliError(await errorLine(response));
  }
}

async function errorLine(response: Response): Promise<string> {
  const text = await response.text().catch(() => '');
  let message = '';
  try {
    const parsed = JSON.parse(text) as { error?: { message?: string } };
    message = parsed.error?.message ?? '';
  } catch {
    message = text.split('\n')[0].slice(0, 200);
  }
  if (response.status === 401)
    return `the server refused the admin token (HTTP 401${message ? `: ${message}` : ''}); check ADMIN_TOKEN or --token-file`;
  if (response.status === 404 && /^no route /.test(message))
    return `the server has no such admin route (HTTP 404: ${message}); is it an older txedit?`;
  return `${message || response.statusText || 'request failed'} (HTTP ${response.status})`.replace(/\s+/g, ' ');
}
