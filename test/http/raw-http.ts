import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** An answer as it came over the wire: header names as sent, in the order sent. */
export interface WireAnswer {
  status: number;
  headers: Array<[string, string]>;
  body: string;
}

/** Headers that differ between two answers for reasons other than the code under test. */
const CIRCUMSTANTIAL = new Set(['date', 'connection', 'keep-alive']);

/** Sends one request with node:http (fetch's Headers lose order and spelling) and reads the whole answer. */
export function rawRequest(
  baseUrl: string,
  path: string,
  options: { method?: string; headers?: Record<string, string>; body?: string; agent?: http.Agent } = {},
): Promise<WireAnswer> {
  return new Promise((resolve, reject) => {
    const request = http.request(
      `${baseUrl}${path}`,
      { method: options.method ?? 'GET', headers: options.headers, agent: options.agent },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => {
          const headers: Array<[string, string]> = [];
          for (let i = 0; i < response.rawHeaders.length; i += 2) {
            if (!CIRCUMSTANTIAL.has(response.rawHeaders[i].toLowerCase()))
              headers.push([response.rawHeaders[i], response.rawHeaders[i + 1]]);
          }
          resolve({ status: response.statusCode ?? 0, headers, body: Buffer.concat(chunks).toString('utf8') });
        });
      },
    );
    request.on('error', reject);
    request.end(options.body);
  });
}

/** A listener on an ephemeral loopback port; returns its base URL and how to close it. */
export async function listenOnLoopback(
  handler: http.RequestListener,
): Promise<{ server: http.Server; baseUrl: string; close(): Promise<void> }> {
  const server = http.createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    server,
    baseUrl: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
