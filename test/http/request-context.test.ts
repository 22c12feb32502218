import http from 'node:http';
import express from 'express';
import pino from 'pino';
import { handOver } from '../../src/http/express-apis';
import { requestContext } from '../../src/http/request-context';
import { createLogger } from '../../src/logger';
import { listenOnLoopback, rawRequest } from './raw-http';

/** An app that answers each request with the context requestContext gave it. */
function contextEcho(trustProxy: string | boolean) {
  const app = express();
  app.set('trust proxy', trustProxy);
  app.use(requestContext(createLogger('silent')));
  app.get('/', (req, res) => {
    res.json({ id: req.id, clientIp: req.clientIp });
  });
  return app;
}

describe('requestContext', () => {
  let agent: http.Agent;
  beforeEach(() => {
    // One keep-alive connection for every request of a test: what is worked out per connection must
    // still follow each request's own X-Forwarded-For.
    agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  });
  afterEach(() => agent.destroy());

  async function contextsOf(trustProxy: string | boolean, forwardedFor: Array<string | null>) {
    const listener = await listenOnLoopback(contextEcho(trustProxy));
    let connections = 0;
    listener.server.on('connection', () => connections++);
    try {
      const contexts = [];
      for (const address of forwardedFor) {
        const answer = await rawRequest(listener.baseUrl, '/', {
          agent,
          headers: address === null ? {} : { 'x-forwarded-for': address },
        });
        const context = JSON.parse(answer.body) as { id: string; clientIp: string };
        expect(answer.headers).toContainEqual(['X-Request-Id', context.id]);
        contexts.push(context);
      }
      expect(connections).toBe(1);
      return contexts;
    } finally {
      await listener.close();
    }
  }

  it('takes the client from X-Forwarded-For behind a trusted proxy, request by request on one connection', async () => {
    const contexts = await contextsOf('loopback', [
      null,
      '203.0.113.7',
      null,
      '::ffff:198.51.100.2',
      '192.0.2.9, 127.0.0.1',
      null,
    ]);
    expect(contexts.map((context) => context.clientIp)).toEqual([
      '127.0.0.1',
      '203.0.113.7',
      '127.0.0.1',
      '198.51.100.2',
      '192.0.2.9',
      '127.0.0.1',
    ]);
  });

  it('uses the socket address whatever X-Forwarded-For says when no proxy is trusted', async () => {
    const contexts = await contextsOf(false, [null, '203.0.113.7', null]);
    expect(contexts.map((context) => context.clientIp)).toEqual(['127.0.0.1', '127.0.0.1', '127.0.0.1']);
  });

  it('records no client IP for a forwarded value that is not an address', async () => {
    const contexts = await contextsOf(true, ['client-x', null]);
    expect(contexts.map((context) => context.clientIp)).toEqual(['', '127.0.0.1']);
  });

  it('gives every request its own id, also in X-Request-Id', async () => {
    const contexts = await contextsOf(false, [null, null, null, null]);
    const ids = contexts.map((context) => context.id);
    expect(new Set(ids).size).toBe(4);
    for (const id of ids) expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });
});

describe("requestContext on a request the hot path hands over (Node's own request and response)", () => {
  it('works out the same client and logs the same line as under express, the path without its query', async () => {
    const lines: Array<Record<string, unknown>> = [];
    const logger = pino(
      { level: 'info' },
      { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) },
    );
    const answer = (res: http.ServerResponse, context: { id: string; clientIp: string }) => {
      res.setHeader('Content-Type', 'application/json');
      res.end(JSON.stringify({ id: context.id, clientIp: context.clientIp }));
    };
    const routed = express();
    routed.set('trust proxy', 'loopback');
    routed.use(requestContext(logger));
    routed.use((req, res) => answer(res, req));
    const app = express();
    app.set('trust proxy', 'loopback');
    const context = requestContext(logger);
    const handedOver: http.RequestListener = (incoming, res) => {
      const req = handOver(app, incoming);
      context(req, res, () => answer(res, req));
    };
    const requests: Array<[string, Record<string, string>]> = [
      ['/transaction.edit?Password=secret&TransactionID=1', {}],
      ['/transaction.edit?Password=secret', { 'x-forwarded-for': '203.0.113.7' }],
      ['/transaction.edit', { 'x-forwarded-for': 'not-an-address' }],
      ['/a%20b/c?x=1', {}],
    ];
    const seen: Array<Array<{ clientIp: string; line: Record<string, unknown> }>> = [];
    for (const listener of [routed, handedOver]) {
      const server = await listenOnLoopback(listener);
      const results = [];
      try {
        for (const [path, headers] of requests) {
          const body = JSON.parse((await rawRequest(server.baseUrl, path, { headers })).body) as {
            id: string;
            clientIp: string;
          };
          // The log line is written when the response has finished.
          await new Promise((resolve) => setTimeout(resolve, 20));
          const line = lines.find((candidate) => candidate.reqId === body.id);
          expect(line).toBeDefined();
          const {
            time: _time,
            pid: _pid,
            hostname: _hostname,
            ms,
            reqId: _reqId,
            ...rest
          } = line as Record<string, unknown>;
          expect(typeof ms).toBe('number');
          results.push({ clientIp: body.clientIp, line: rest });
        }
      } finally {
        await server.close();
      }
      seen.push(results);
    }
    expect(seen[1]).toEqual(seen[0]);
    expect(seen[0].map((entry) => [entry.clientIp, entry.line.path])).toEqual([
      ['127.0.0.1', '/transaction.edit'],
      ['203.0.113.7', '/transaction.edit'],
      ['', '/transaction.edit'],
      ['127.0.0.1', '/a%20b/c'],
    ]);
    expect(JSON.stringify(lines)).not.toContain('secret');
  });
});
