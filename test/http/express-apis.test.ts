import http from 'node:http';
import express from 'express';
import { forwardedClientIp, handOver, isSecure } from '../../src/http/express-apis';
import { listenOnLoopback, rawRequest } from './raw-http';

type Seen = { ip: string | undefined; secure: boolean; nodePrototypes: boolean };

/**
 * What express's `req.ip` and `req.secure` say for a routed request, and what `forwardedClientIp` and
 * `isSecure` say for the same request handed over — and whether it kept Node's own prototypes.
 */
async function bothWays(
  trustProxy: string | boolean | number,
  headers: Record<string, string>,
): Promise<{ routed: Seen; handedOver: Seen }> {
  const routed = express();
  routed.set('trust proxy', trustProxy);
  routed.get('/', (req, res) => {
    res.json({ ip: req.ip, secure: req.secure, nodePrototypes: false } satisfies Seen);
  });
  const app = express();
  app.set('trust proxy', trustProxy);
  const handedOver: http.RequestListener = (incoming, res) => {
    const req = handOver(app, incoming);
    const seen: Seen = {
      ip: forwardedClientIp(req, res),
      secure: isSecure(req, res),
      nodePrototypes:
        Object.getPrototypeOf(req) === http.IncomingMessage.prototype &&
        Object.getPrototypeOf(res) === http.ServerResponse.prototype,
    };
    res.setHeader('Content-Type', 'application/json');
    res.end(JSON.stringify(seen));
  };
  const answers: Seen[] = [];
  for (const listener of [routed, handedOver]) {
    const server = await listenOnLoopback(listener);
    try {
      answers.push(JSON.parse((await rawRequest(server.baseUrl, '/', { headers })).body) as Seen);
    } finally {
      await server.close();
    }
  }
  return { routed: answers[0], handedOver: answers[1] };
}

describe("a proxy's headers on a handed-over request, read as express reads them, without express's APIs", () => {
  it.each<[string, string | boolean | number, Record<string, string>]>([
    ['no proxy headers', 'loopback', {}],
    ['a client behind a trusted proxy', 'loopback', { 'x-forwarded-for': '203.0.113.7', 'x-forwarded-proto': 'https' }],
    [
      'a hop list through trusted proxies',
      'loopback',
      { 'x-forwarded-for': '192.0.2.9, 127.0.0.1', 'x-forwarded-proto': 'https, http' },
    ],
    ['a hop list with an untrusted hop', 'loopback', { 'x-forwarded-for': '192.0.2.9, 198.51.100.7' }],
    [
      'a forwarded value that is not an address',
      true,
      { 'x-forwarded-for': 'client-x', 'x-forwarded-proto': ' https ' },
    ],
    ['X-Forwarded-Proto http', 'loopback', { 'x-forwarded-proto': 'http' }],
    ['an empty X-Forwarded-Proto', 'loopback', { 'x-forwarded-proto': '' }],
    ['X-Forwarded-Proto in capitals (not https)', 'loopback', { 'x-forwarded-proto': 'HTTPS' }],
    [
      'headers from a peer no proxy setting trusts',
      false,
      { 'x-forwarded-for': '203.0.113.7', 'x-forwarded-proto': 'https' },
    ],
    ['a hop count', 1, { 'x-forwarded-for': '192.0.2.9, 203.0.113.7', 'x-forwarded-proto': 'https' }],
    [
      'a trusted list that does not name the peer',
      '10.0.0.0/8, 192.168.0.1',
      { 'x-forwarded-for': '203.0.113.7', 'x-forwarded-proto': 'https' },
    ],
  ])('%s', async (_what, trustProxy, headers) => {
    const { routed, handedOver } = await bothWays(trustProxy, headers);
    expect({ ip: handedOver.ip, secure: handedOver.secure }).toEqual({ ip: routed.ip, secure: routed.secure });
    expect(handedOver.nodePrototypes).toBe(true);
  });

  it.each<[string, string | boolean | number, string, string]>([
    ['an IPv4 client with a port', 'loopback', '203.0.113.66:40001', '203.0.113.66'],
    ['a bracketed IPv6 client with a port', 'loopback', '[2001:db8::1]:443', '2001:db8::1'],
    ['a trusted hop written with a port', 'loopback', '203.0.113.5, 127.0.0.1:8080', '203.0.113.5'],
    ['an untrusted hop written with a port', 'loopback', '203.0.113.5, 198.51.100.7:9000', '198.51.100.7'],
    ['a port on a name, not an address', true, 'client-x:80', 'client-x'],
  ])(
    'drops the port a proxy writes (%s), where express would keep it',
    async (_what, trustProxy, forwardedFor, expected) => {
      const { handedOver } = await bothWays(trustProxy, { 'x-forwarded-for': forwardedFor });
      expect(handedOver.ip).toBe(expected);
    },
  );

  it('sees what the cases above are about (trusted proxy: forwarded client and https)', async () => {
    const { handedOver } = await bothWays('loopback', {
      'x-forwarded-for': '203.0.113.7',
      'x-forwarded-proto': 'https',
    });
    expect(handedOver).toEqual({ ip: '203.0.113.7', secure: true, nodePrototypes: true });
  });
});
