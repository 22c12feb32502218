import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { buildConnector } from 'undici';
import { createGuardedDispatcher, PRIVATE_ADDRESS_REFUSED } from '../../src/postbacks/network-guard';
import { sendTestPostback, TEST_POSTBACK_BODY_BYTES } from '../../src/postbacks/test-postback';

describe('sendTestPostback', () => {
  let server: http.Server;
  let base: string;
  const seen: string[] = [];

  beforeAll(async () => {
    server = http.createServer((req, res) => {
      seen.push(req.url ?? '');
      if (req.url?.startsWith('/long')) {
        res.end('x'.repeat(TEST_POSTBACK_BODY_BYTES * 4));
        return;
      }
      res.statusCode = req.url?.startsWith('/missing') ? 404 : 200;
      res.end(res.statusCode === 200 ? 'OK thanks' : 'no such page');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  // Tests may reach loopback as the postback tests do: the guard's development switch.
  const loopbackAllowed = () => createGuardedDispatcher({ allowPrivateNetworks: true });

  it('fills the tokens with sample values and answers the status and the first bytes of the body', async () => {
    const result = await sendTestPostback(`${base}/pb?afid=[=AFID=]&click=[=clickid=]&ok=[=approved=]`, 42, {
      dispatcher: loopbackAllowed(),
      timeoutMs: 5000,
    });
    expect(result).toMatchObject({ ok: true, status: 200, body: 'OK thanks' });
    expect(result.error).toBeUndefined();
    expect(seen.at(-1)).toBe('/pb?afid=42&click=test-click&ok=yes');
    expect(result.url).toBe(`${base}/pb?afid=42&click=test-click&ok=yes`);
  });

  it('keeps only the first bytes of a long body', async () => {
    const result = await sendTestPostback(`${base}/long`, 1, { dispatcher: loopbackAllowed(), timeoutMs: 5000 });
    expect(result.body).toBe('x'.repeat(TEST_POSTBACK_BODY_BYTES));
  });

  it("reports a receiver's error status as a failure with its body", async () => {
    const result = await sendTestPostback(`${base}/missing`, 1, { dispatcher: loopbackAllowed(), timeoutMs: 5000 });
    expect(result).toMatchObject({ ok: false, status: 404, body: 'no such page', error: 'HTTP 404' });
  });

  it('reports a refused connection', async () => {
    const closed = http.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const result = await sendTestPostback(`http://127.0.0.1:${port}/pb`, 1, {
      dispatcher: loopbackAllowed(),
      timeoutMs: 5000,
    });
    expect(result.ok).toBe(false);
    expect(result.status).toBeUndefined();
    expect(result.error).toContain('ECONNREFUSED');
  });

  it('is refused by the private-network guard before any connection is made', async () => {
    const dialled: string[] = [];
    const dial: buildConnector.connector = (options, callback) => {
      dialled.push(options.hostname);
      callback(new Error('dial must not be reached'), null);
    };
    const guarded = createGuardedDispatcher({ allowPrivateNetworks: false, dial });
    const result = await sendTestPostback('http://10.1.2.3/pb?afid=[=AFID=]', 7, {
      dispatcher: guarded,
      timeoutMs: 5000,
    });
    expect(result).toMatchObject({ ok: false });
    expect(result.error).toBe(`${PRIVATE_ADDRESS_REFUSED} 10.1.2.3 (private network)`);
    expect(dialled).toEqual([]);
  });
});
