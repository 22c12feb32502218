import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Dispatcher } from 'undici';
import { deliverPostback } from '../../src/postbacks/deliver';
import { createGuardedDispatcher } from '../../src/postbacks/network-guard';

interface ReceivedRequest {
  method: string;
  url: string;
  postbackId: string | undefined;
  userAgent: string | undefined;
}

/** A loopback receiver whose behaviour is chosen by path, recording every request it sees. */
async function startReceiver() {
  const received: ReceivedRequest[] = [];
  const server = http.createServer((req, res) => {
    received.push({
      method: req.method ?? '',
      url: req.url ?? '',
      postbackId: req.headers['x-postback-id'] as string | undefined,
      userAgent: req.headers['user-agent'],
    });
    const path = new URL(req.url ?? '/', 'http://receiver').pathname;
    if (path === '/ok') return res.end('thanks');
    if (path === '/no-content') return res.writeHead(204).end();
    if (path === '/fail') return res.writeHead(500).end('boom');
    if (path === '/redirect') return res.writeHead(302, { location: '/redirect-target' }).end();
    if (path === '/redirect-target') return res.end('should never be reached');
    if (path === '/hang-headers') return; // never answers
    if (path === '/hang-body') return res.writeHead(200).write('partial'); // never ends
    if (path === '/endless') return streamForever(res);
    res.writeHead(404).end();
  });
  await new Promise<void>((listening) => server.listen(0, '127.0.0.1', listening));
  const { port } = server.address() as AddressInfo;
  return { server, received, origin: `http://127.0.0.1:${port}` };
}

/** Writes 16 KiB chunks until the client hangs up. */
function streamForever(res: http.ServerResponse): void {
  const chunk = Buffer.alloc(16 * 1024, 'a');
  res.writeHead(200);
  const pump = () => {
    while (!res.destroyed && res.write(chunk));
    if (!res.destroyed) res.once('drain', pump);
  };
  pump();
}

describe('deliverPostback', () => {
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  const dispatcher = createGuardedDispatcher({ allowPrivateNetworks: true, connectTimeoutMs: 2000 });

  beforeAll(async () => {
    receiver = await startReceiver();
  });
  afterAll(async () => {
    await dispatcher.destroy();
    receiver.server.closeAllConnections();
    await new Promise((closed) => receiver.server.close(closed));
  });

  function deliver(url: string, timeoutMs = 2000) {
    return deliverPostback({ url, postbackId: 'pb-42', timeoutMs, dispatcher });
  }
  function requestsTo(path: string): ReceivedRequest[] {
    return receiver.received.filter((r) => r.url.startsWith(path));
  }

  it('sends one GET with the query and the X-Postback-Id header, and reports success', async () => {
    const url = `${receiver.origin}/ok?cid=12&s=a%26b%20c`;
    const result = await deliverPostback({
      url,
      postbackId: 'pb-42',
      timeoutMs: 2000,
      dispatcher,
      userAgent: 'txedit-test/1',
    });
    expect(result).toEqual({ ok: true, httpStatus: 200, error: null, durationMs: expect.any(Number), url });
    expect(requestsTo('/ok?cid=12')).toEqual([
      { method: 'GET', url: '/ok?cid=12&s=a%26b%20c', postbackId: 'pb-42', userAgent: 'txedit-test/1' },
    ]);
  });

  it('treats any 2xx as success', async () => {
    const result = await deliver(`${receiver.origin}/no-content`);
    expect(result).toMatchObject({ ok: true, httpStatus: 204, error: null });
  });

  it('reports a 500 as a failure with its status', async () => {
    const result = await deliver(`${receiver.origin}/fail`);
    expect(result).toMatchObject({ ok: false, httpStatus: 500, error: 'HTTP 500' });
  });

  it('does not follow a redirect', async () => {
    const result = await deliver(`${receiver.origin}/redirect`);
    expect(result).toMatchObject({ ok: false, httpStatus: 302, error: 'redirect not followed (302)' });
    expect(requestsTo('/redirect')).toHaveLength(1);
    expect(requestsTo('/redirect-target')).toHaveLength(0);
  });

  it('times out a receiver that never answers', async () => {
    const result = await deliver(`${receiver.origin}/hang-headers`, 300);
    expect(result).toMatchObject({ ok: false, httpStatus: null, error: 'timeout after 300 ms' });
    expect(result.durationMs).toBeGreaterThanOrEqual(290);
    expect(result.durationMs).toBeLessThan(2000);
  });

  it('times out a receiver that sends headers but never finishes the body', async () => {
    const result = await deliver(`${receiver.origin}/hang-body`, 300);
    expect(result).toMatchObject({ ok: false, httpStatus: 200, error: 'timeout after 300 ms' });
    expect(result.durationMs).toBeLessThan(2000);
  });

  it('stops reading an endless body and still reports the 2xx', async () => {
    const result = await deliver(`${receiver.origin}/endless`, 5000);
    expect(result).toMatchObject({ ok: true, httpStatus: 200, error: null });
    expect(result.durationMs).toBeLessThan(5000);
  });

  it('reports a refused connection', async () => {
    const closed = http.createServer();
    await new Promise<void>((listening) => closed.listen(0, '127.0.0.1', listening));
    const { port } = closed.address() as AddressInfo;
    await new Promise((done) => closed.close(done));

    const result = await deliver(`http://127.0.0.1:${port}/pb`);
    expect(result).toMatchObject({
      ok: false,
      httpStatus: null,
      error: `connect ECONNREFUSED 127.0.0.1:${port}`,
    });
  });

  it('reports a network-guard refusal without reaching the receiver', async () => {
    const guarded = createGuardedDispatcher({ allowPrivateNetworks: false });
    try {
      const url = `${receiver.origin}/ok?guarded=1`;
      const result = await deliverPostback({
        url,
        postbackId: 'pb-43',
        timeoutMs: 2000,
        dispatcher: guarded,
      });
      expect(result).toMatchObject({
        ok: false,
        httpStatus: null,
        error: 'private network address refused: 127.0.0.1 (loopback)',
      });
      expect(requestsTo('/ok?guarded=1')).toHaveLength(0);
    } finally {
      await guarded.close();
    }
  });

  it('returns a failure instead of throwing for a URL it cannot request', async () => {
    const result = await deliver('not a url');
    expect(result).toMatchObject({ ok: false, httpStatus: null, error: 'Invalid URL', url: 'not a url' });
  });

  it("lists every address when all of a name's addresses refused the connection", async () => {
    // What Node reports when happy eyeballs fails on every address: an AggregateError with no message.
    class RefusingDispatcher extends Dispatcher {
      override dispatch(_options: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler): boolean {
        const refused = (address: string) => new Error(`connect ECONNREFUSED ${address}`);
        const everyAddressFailed = new AggregateError([refused('::1:80'), refused('127.0.0.1:80')], '');
        queueMicrotask(() => handler.onError?.(everyAddressFailed));
        return true;
      }
    }
    const result = await deliverPostback({
      url: 'http://postback.example/pb',
      postbackId: 'pb-44',
      timeoutMs: 2000,
      dispatcher: new RefusingDispatcher(),
    });
    expect(result).toMatchObject({
      ok: false,
      httpStatus: null,
      error: 'connect ECONNREFUSED ::1:80; connect ECONNREFUSED 127.0.0.1:80',
    });
  });
});
