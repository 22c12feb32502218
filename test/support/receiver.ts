import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request a test receiver saw. */
export interface ReceivedRequest {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
}

/** A real HTTP receiver on loopback, answering with whatever the test says for each request. */
export interface Receiver {
  url: string;
  port: number;
  received: ReceivedRequest[];
  /** Sets how the next requests are answered (called per request; may hang by never ending `res`). */
  respond(handler: (req: http.IncomingMessage, res: http.ServerResponse, index: number) => void): void;
  close(): Promise<void>;
}

/** Starts a receiver on 127.0.0.1 (answers 200 "ok" until told otherwise). */
export async function startReceiver(): Promise<Receiver> {
  const received: ReceivedRequest[] = [];
  let handler: (req: http.IncomingMessage, res: http.ServerResponse, index: number) => void = (_req, res) =>
    res.end('ok');
  const server = http.createServer((req, res) => {
    received.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers });
    handler(req, res, received.length - 1);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    received,
    respond: (next) => {
      handler = next;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
