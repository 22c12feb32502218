import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type dns from 'node:dns';
import fc from 'fast-check';
import { request } from 'undici';
import {
  createGuardedDispatcher,
  createGuardedLookup,
  forbiddenAddressReason,
} from '../../src/postbacks/network-guard';

describe('forbiddenAddressReason', () => {
  it.each([
    ['127.0.0.1', 'loopback'],
    ['127.255.0.9', 'loopback'],
    ['10.1.2.3', 'private network'],
    ['172.16.0.1', 'private network'],
    ['172.31.255.255', 'private network'],
    ['192.168.1.1', 'private network'],
    ['100.64.0.1', 'carrier-grade NAT'],
    ['169.254.169.254', 'link-local'],
    ['0.0.0.0', 'unspecified'],
    ['224.0.0.1', 'multicast'],
    ['239.255.255.250', 'multicast'],
    ['255.255.255.255', 'broadcast'],
    ['240.0.0.1', 'reserved'],
    ['::1', 'loopback'],
    ['0:0:0:0:0:0:0:1', 'loopback'],
    ['::', 'unspecified'],
    ['fe80::1', 'link-local'],
    ['fe80::1%eth0', 'link-local'],
    ['fec0::1', 'site-local'],
    ['fc00::1', 'unique-local'],
    ['fd12:3456::1', 'unique-local'],
    ['ff02::1', 'multicast'],
    ['::ffff:127.0.0.1', 'loopback (IPv4-mapped 127.0.0.1)'],
    ['::ffff:7f00:1', 'loopback (IPv4-mapped 127.0.0.1)'],
    ['[::ffff:7f00:1]', 'loopback (IPv4-mapped 127.0.0.1)'],
    ['::ffff:a9fe:a9fe', 'link-local (IPv4-mapped 169.254.169.254)'],
    ['::127.0.0.1', 'loopback (IPv4-compatible 127.0.0.1)'],
    ['::a01:203', 'private network (IPv4-compatible 10.1.2.3)'],
    ['64:ff9b::127.0.0.1', 'loopback (NAT64 127.0.0.1)'],
    ['64:ff9b::c0a8:101', 'private network (NAT64 192.168.1.1)'],
    ['2002:7f00:1::', 'loopback (6to4 127.0.0.1)'],
    ['localhost', 'not an IP address'],
    ['', 'not an IP address'],
    ['127.1', 'not an IP address'],
  ])('refuses %s as %s', (ip, reason) => {
    expect(forbiddenAddressReason(ip)).toBe(reason);
  });

  it.each([
    '8.8.8.8',
    '1.1.1.1',
    '172.32.0.1',
    '100.128.0.1',
    '2001:4860:4860::8888',
    '[2001:4860:4860::8888]',
    '::ffff:8.8.8.8',
    '64:ff9b::808:808',
    '2002:808:808::1',
  ])('allows the public address %s', (ip) => {
    expect(forbiddenAddressReason(ip)).toBeNull();
  });

  it('treats every IPv4-mapped form exactly like the IPv4 address it wraps', () => {
    fc.assert(
      fc.property(fc.ipV4(), (ipv4) => {
        const [a, b, c, d] = ipv4.split('.').map(Number);
        const hex = `${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
        const reason = forbiddenAddressReason(ipv4);
        const expected = reason === null ? null : `${reason} (IPv4-mapped ${ipv4})`;
        expect(forbiddenAddressReason(`::ffff:${ipv4}`)).toBe(expected);
        expect(forbiddenAddressReason(`::ffff:${hex}`)).toBe(expected);
      }),
    );
  });
});

describe('createGuardedLookup', () => {
  /** A fake resolver answering every name with the given addresses, without DNS traffic. */
  function resolvingTo(...addresses: dns.LookupAddress[]): typeof dns.lookup {
    type AllCallback = (err: null, all: dns.LookupAddress[]) => void;
    const fake = (_hostname: string, _options: unknown, callback: AllCallback) => callback(null, addresses);
    return fake as unknown as typeof dns.lookup;
  }
  function lookup(resolve: typeof dns.lookup, all: boolean) {
    return new Promise<{ err: Error | null; address: unknown; family?: number }>((done) =>
      createGuardedLookup(resolve)('postback.example', { all }, (err, address, family) =>
        done({ err, address, family }),
      ),
    );
  }

  it('refuses a name when any one of its addresses is private', async () => {
    const resolve = resolvingTo({ address: '8.8.8.8', family: 4 }, { address: '10.0.0.7', family: 4 });
    const { err } = await lookup(resolve, true);
    expect(err?.message).toBe('private network address refused: 10.0.0.7 (private network, from postback.example)');
  });

  it('refuses a name resolving to an IPv4-mapped metadata address', async () => {
    const { err } = await lookup(resolvingTo({ address: '::ffff:169.254.169.254', family: 6 }), false);
    expect(err?.message).toBe(
      'private network address refused: ::ffff:169.254.169.254 ' +
        '(link-local (IPv4-mapped 169.254.169.254), from postback.example)',
    );
  });

  it('passes public addresses through in the shape net asked for', async () => {
    const addresses = [
      { address: '2001:4860:4860::8888', family: 6 },
      { address: '8.8.8.8', family: 4 },
    ];
    expect(await lookup(resolvingTo(...addresses), true)).toEqual({
      err: null,
      address: addresses,
      family: undefined,
    });
    expect(await lookup(resolvingTo(...addresses), false)).toEqual({
      err: null,
      address: '2001:4860:4860::8888',
      family: 6,
    });
  });
});

describe('createGuardedDispatcher', () => {
  let receiver: http.Server;
  let port: number;
  let hits = 0;
  const dispatcher = createGuardedDispatcher({ allowPrivateNetworks: false, connectTimeoutMs: 2000 });

  beforeAll(async () => {
    receiver = http.createServer((_req, res) => {
      hits += 1;
      res.end('ok');
    });
    await new Promise<void>((listening) => receiver.listen(0, '127.0.0.1', listening));
    port = (receiver.address() as AddressInfo).port;
  });
  afterAll(async () => {
    await dispatcher.close();
    await new Promise((closed) => receiver.close(closed));
  });

  async function requestError(url: string): Promise<string> {
    try {
      const response = await request(url, { dispatcher });
      await response.body.dump();
      return `unexpectedly answered ${response.statusCode}`;
    } catch (err) {
      return (err as Error).message;
    }
  }

  it.each([
    ['127.0.0.1', 'private network address refused: 127.0.0.1 (loopback)'],
    // The URL parser normalises the host before undici hands it to the connector.
    ['[::ffff:127.0.0.1]', 'private network address refused: ::ffff:7f00:1 (loopback (IPv4-mapped 127.0.0.1))'],
    ['2130706433', 'private network address refused: 127.0.0.1 (loopback)'],
  ])('refuses the literal host %s before connecting', async (host, message) => {
    const hitsBefore = hits;
    expect(await requestError(`http://${host}:${port}/pb`)).toBe(message);
    expect(hits).toBe(hitsBefore);
  });

  it('refuses localhost because it resolves to loopback', async () => {
    const hitsBefore = hits;
    expect(await requestError(`http://localhost:${port}/pb`)).toMatch(
      /^private network address refused: (127\.0\.0\.1|::1) \(loopback, from localhost\)$/,
    );
    expect(hits).toBe(hitsBefore);
  });

  it('connects to loopback when private networks are allowed', async () => {
    const open = createGuardedDispatcher({ allowPrivateNetworks: true });
    const hitsBefore = hits;
    try {
      const response = await request(`http://127.0.0.1:${port}/pb`, { dispatcher: open });
      expect(response.statusCode).toBe(200);
      expect(await response.body.text()).toBe('ok');
      expect(hits).toBe(hitsBefore + 1);
    } finally {
      await open.close();
    }
  });
});
