import http from 'node:http';
import express from 'express';
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
        const answer = await rawRequest(listener.baseUrl, '/', { agent, headers: address === null ? {} : { 'x-forwarded-for': address } });
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
    const contexts = await contextsOf('loopback', [null, '203.0.113.7', null, '::ffff:198.51.100.2', '192.0.2.9, 127.0.0.1', null]);
    expect(contexts.map((context) => context.clientIp)).toEqual(['127.0.0.1', '203.0.113.7', '127.0.0.1', '198.51.100.2', '192.0.2.9', '127.0.0.1']);
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
