import type dns from 'node:dns';
import { request, type buildConnector } from 'undici';
import {
  createGuardedDispatcher,
  createGuardedLookup,
  forbiddenAddressReason,
} from '../../src/postbacks/network-guard';

/*
 * Every block of IANA's IPv4 and IPv6 Special-Purpose Address Registries (as of 2025), plus the
 * multicast blocks and the IPv6 forms that embed an IPv4 address, with sample addresses — the first and
 * the last of the block where it is wider than one address — and the verdict each must get. Neighbours
 * just outside the blocks are public and must pass, so an over-wide rule fails too. Classification only:
 * nothing here opens a connection.
 */
type Row = [block: string, name: string, samples: string[], verdict: string | null];

const IPV4_REGISTRY: Row[] = [
  ['0.0.0.0/8', '"This network"', ['0.0.0.0', '0.255.255.255'], 'unspecified'],
  ['0.0.0.0/32', '"This host on this network"', ['0.0.0.0'], 'unspecified'],
  ['10.0.0.0/8', 'Private-Use', ['10.0.0.0', '10.255.255.255'], 'private network'],
  ['100.64.0.0/10', 'Shared Address Space', ['100.64.0.0', '100.127.255.255'], 'carrier-grade NAT'],
  ['127.0.0.0/8', 'Loopback', ['127.0.0.0', '127.255.255.255'], 'loopback'],
  ['169.254.0.0/16', 'Link Local', ['169.254.0.0', '169.254.169.254', '169.254.255.255'], 'link-local'],
  ['172.16.0.0/12', 'Private-Use', ['172.16.0.0', '172.31.255.255'], 'private network'],
  ['192.0.0.0/24', 'IETF Protocol Assignments', ['192.0.0.0', '192.0.0.255'], 'reserved'],
  ['192.0.0.0/29', 'IPv4 Service Continuity Prefix', ['192.0.0.0', '192.0.0.7'], 'reserved'],
  ['192.0.0.8/32', 'IPv4 dummy address', ['192.0.0.8'], 'reserved'],
  ['192.0.0.9/32', 'Port Control Protocol Anycast', ['192.0.0.9'], 'reserved'],
  ['192.0.0.10/32', 'Traversal Using Relays around NAT Anycast', ['192.0.0.10'], 'reserved'],
  ['192.0.0.170/32, 192.0.0.171/32', 'NAT64/DNS64 Discovery', ['192.0.0.170', '192.0.0.171'], 'reserved'],
  ['192.0.2.0/24', 'Documentation (TEST-NET-1)', ['192.0.2.0', '192.0.2.255'], 'reserved'],
  ['192.31.196.0/24', 'AS112-v4', ['192.31.196.0', '192.31.196.255'], 'AS112 anycast'],
  ['192.52.193.0/24', 'AMT', ['192.52.193.0', '192.52.193.255'], 'AMT anycast'],
  ['192.88.99.0/24', 'Deprecated (6to4 Relay Anycast)', ['192.88.99.0', '192.88.99.255'], 'reserved'],
  ['192.88.99.2/32', '6a44-relay anycast address', ['192.88.99.2'], 'reserved'],
  ['192.168.0.0/16', 'Private-Use', ['192.168.0.0', '192.168.255.255'], 'private network'],
  ['192.175.48.0/24', 'Direct Delegation AS112 Service', ['192.175.48.0', '192.175.48.255'], 'AS112 anycast'],
  ['198.18.0.0/15', 'Benchmarking', ['198.18.0.0', '198.18.0.1', '198.19.255.255'], 'reserved'],
  ['198.51.100.0/24', 'Documentation (TEST-NET-2)', ['198.51.100.0', '198.51.100.255'], 'reserved'],
  ['203.0.113.0/24', 'Documentation (TEST-NET-3)', ['203.0.113.0', '203.0.113.255'], 'reserved'],
  ['240.0.0.0/4', 'Reserved', ['240.0.0.0', '255.255.255.254'], 'reserved'],
  ['255.255.255.255/32', 'Limited Broadcast', ['255.255.255.255'], 'broadcast'],
  // IANA's IPv4 Multicast Address Space Registry.
  ['224.0.0.0/4', 'Multicast', ['224.0.0.0', '239.255.255.255'], 'multicast'],
  [
    'neighbours',
    'public unicast just outside the blocks above',
    [
      '1.0.0.0',
      '9.255.255.255',
      '11.0.0.0',
      '100.63.255.255',
      '100.128.0.0',
      '126.255.255.255',
      '128.0.0.0',
      '169.253.255.255',
      '169.255.0.0',
      '172.15.255.255',
      '172.32.0.0',
      '191.255.255.255',
      '192.0.1.0',
      '192.0.3.0',
      '192.31.195.255',
      '192.31.197.0',
      '192.52.192.255',
      '192.52.194.0',
      '192.88.98.255',
      '192.88.100.0',
      '192.167.255.255',
      '192.169.0.0',
      '192.175.47.255',
      '192.175.49.0',
      '198.17.255.255',
      '198.20.0.0',
      '198.51.99.255',
      '198.51.101.0',
      '203.0.112.255',
      '203.0.114.0',
      '223.255.255.255',
    ],
    null,
  ],
];

const IPV6_REGISTRY: Row[] = [
  ['::1/128', 'Loopback Address', ['::1'], 'loopback'],
  ['::/128', 'Unspecified Address', ['::'], 'unspecified'],
  [
    '::ffff:0:0/96',
    'IPv4-mapped Address: special IPv4 inside',
    ['::ffff:0.0.0.0'],
    'unspecified (IPv4-mapped 0.0.0.0)',
  ],
  [
    '::ffff:0:0/96',
    'IPv4-mapped Address: loopback inside',
    ['::ffff:7f00:1', '[::ffff:127.0.0.1]'],
    'loopback (IPv4-mapped 127.0.0.1)',
  ],
  ['::ffff:0:0/96', 'IPv4-mapped Address: benchmarking inside', ['::ffff:c612:1'], 'reserved (IPv4-mapped 198.18.0.1)'],
  ['::ffff:0:0/96', 'IPv4-mapped Address: public inside', ['::ffff:808:808', '::ffff:223.255.255.255'], null],
  [
    '64:ff9b::/96',
    'IPv4-IPv6 Translat. (well-known NAT64): special inside',
    ['64:ff9b::7f00:1'],
    'loopback (NAT64 127.0.0.1)',
  ],
  [
    '64:ff9b::/96',
    'IPv4-IPv6 Translat. (well-known NAT64): dummy inside',
    ['64:ff9b::192.0.0.8'],
    'reserved (NAT64 192.0.0.8)',
  ],
  ['64:ff9b::/96', 'IPv4-IPv6 Translat. (well-known NAT64): public inside', ['64:ff9b::808:808'], null],
  [
    '64:ff9b:1::/48',
    'IPv4-IPv6 Translat. (local-use)',
    [
      '64:ff9b:1::',
      '64:ff9b:1::7f00:1',
      '[64:ff9b:1::7f00:1]',
      '64:ff9b:1::808:808',
      '64:ff9b:1:ffff:ffff:ffff:ffff:ffff',
    ],
    'local-use NAT64',
  ],
  ['100::/64', 'Discard-Only Address Block', ['100::', '100::ffff:ffff:ffff:ffff'], 'discard-only'],
  ['100:0:0:1::/64', 'Dummy IPv6 Prefix', ['100:0:0:1::', '100:0:0:1:ffff:ffff:ffff:ffff'], 'reserved'],
  ['2001::/23', 'IETF Protocol Assignments', ['2001:100::', '2001:1ff:ffff:ffff:ffff:ffff:ffff:ffff'], 'reserved'],
  ['2001::/32', 'TEREDO', ['2001::', '2001:0:7f00:1::', '2001:0:ffff:ffff:ffff:ffff:ffff:ffff'], 'Teredo'],
  ['2001:1::1/128', 'Port Control Protocol Anycast', ['2001:1::1'], 'reserved'],
  ['2001:1::2/128', 'Traversal Using Relays around NAT Anycast', ['2001:1::2'], 'reserved'],
  ['2001:1::3/128', 'DNS-SD Service Registration Protocol Anycast', ['2001:1::3'], 'reserved'],
  ['2001:2::/48', 'Benchmarking', ['2001:2::', '2001:2:0:ffff:ffff:ffff:ffff:ffff'], 'benchmarking'],
  ['2001:3::/32', 'AMT', ['2001:3::', '2001:3:ffff:ffff:ffff:ffff:ffff:ffff'], 'AMT anycast'],
  ['2001:4:112::/48', 'AS112-v6', ['2001:4:112::', '2001:4:112:ffff:ffff:ffff:ffff:ffff'], 'AS112 anycast'],
  ['2001:10::/28', 'Deprecated (previously ORCHID)', ['2001:10::', '2001:1f:ffff:ffff:ffff:ffff:ffff:ffff'], 'ORCHID'],
  ['2001:20::/28', 'ORCHIDv2', ['2001:20::', '2001:2f:ffff:ffff:ffff:ffff:ffff:ffff'], 'ORCHIDv2'],
  [
    '2001:30::/28',
    'Drone Remote ID Protocol Entity Tags (DETs) Prefix',
    ['2001:30::', '2001:3f:ffff:ffff:ffff:ffff:ffff:ffff'],
    'drone remote ID',
  ],
  ['2001:db8::/32', 'Documentation', ['2001:db8::', '2001:db8:ffff:ffff:ffff:ffff:ffff:ffff'], 'reserved'],
  ['2002::/16', '6to4: special inside', ['2002:7f00:1::'], 'loopback (6to4 127.0.0.1)'],
  ['2002::/16', '6to4: private inside', ['2002:c0a8:101::1'], 'private network (6to4 192.168.1.1)'],
  ['2002::/16', '6to4: public inside', ['2002:808:808::1'], null],
  [
    '2620:4f:8000::/48',
    'Direct Delegation AS112 Service',
    ['2620:4f:8000::', '2620:4f:8000:ffff:ffff:ffff:ffff:ffff'],
    'AS112 anycast',
  ],
  ['3fff::/20', 'Documentation', ['3fff::', '3fff:fff:ffff:ffff:ffff:ffff:ffff:ffff'], 'reserved'],
  [
    '5f00::/16',
    'Segment Routing (SRv6) SIDs',
    ['5f00::', '5f00:ffff:ffff:ffff:ffff:ffff:ffff:ffff'],
    'SRv6 segment routing',
  ],
  ['fc00::/7', 'Unique-Local', ['fc00::', 'fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff'], 'unique-local'],
  [
    'fe80::/10',
    'Link-Local Unicast',
    ['fe80::', 'fe80::1%eth0', 'febf:ffff:ffff:ffff:ffff:ffff:ffff:ffff'],
    'link-local',
  ],
  // From the IPv6 Address Space and Multicast registries, and the IPv4-embedding forms outside them.
  ['fec0::/10', 'Site-local (deprecated)', ['fec0::', 'feff:ffff:ffff:ffff:ffff:ffff:ffff:ffff'], 'site-local'],
  ['ff00::/8', 'Multicast', ['ff00::', 'ff02::1', 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff'], 'multicast'],
  [
    '::ffff:0:0:0/96',
    'IPv4-translated (SIIT): special inside',
    ['::ffff:0:7f00:1', '[::ffff:0:7f00:1]'],
    'loopback (IPv4-translated 127.0.0.1)',
  ],
  ['::ffff:0:0:0/96', 'IPv4-translated (SIIT): public inside', ['::ffff:0:808:808'], 'IPv4-translated'],
  [
    '::/96',
    'IPv4-compatible (deprecated): special inside',
    ['::127.0.0.1', '::7f00:1'],
    'loopback (IPv4-compatible 127.0.0.1)',
  ],
  ['::/96', 'IPv4-compatible (deprecated): public inside', ['::8.8.8.8', '::808:808'], 'IPv4-compatible'],
  [
    'outside 2000::/3',
    'not global unicast (IPv6 Address Space)',
    ['::1:0:0:0', '1fff:ffff:ffff:ffff:ffff:ffff:ffff:ffff', '4000::', 'e000::'],
    'reserved',
  ],
  [
    'neighbours',
    'public unicast just outside the blocks above',
    [
      '2000::',
      '2001:200::',
      '2001:db7:ffff:ffff:ffff:ffff:ffff:ffff',
      '2001:db9::',
      '2001:4860:4860::8888',
      '2003::',
      '2620:4f:7fff:ffff:ffff:ffff:ffff:ffff',
      '2620:4f:8001::',
      '3ffe::',
      '3fff:1000::',
      '[2a00:1450:4001:81c::200e]',
    ],
    null,
  ],
];

const cases = [...IPV4_REGISTRY, ...IPV6_REGISTRY].flatMap(([block, name, samples, verdict]) =>
  samples.map((sample) => ({ block, name, sample, verdict })),
);

describe('forbiddenAddressReason over the IANA special-purpose registries', () => {
  it.each(cases)('$block ($name): $sample → $verdict', ({ sample, verdict }) => {
    expect(forbiddenAddressReason(sample)).toBe(verdict);
  });
});

describe('refusals before any connection', () => {
  /** A fake resolver answering every name with one address, without DNS traffic. */
  const resolvingTo = (address: string): typeof dns.lookup =>
    ((_hostname: string, _options: unknown, callback: (err: null, all: dns.LookupAddress[]) => void) =>
      callback(null, [{ address, family: address.includes(':') ? 6 : 4 }])) as unknown as typeof dns.lookup;

  it.each(cases)('the lookup hook: a name resolving to $sample', async ({ sample, verdict }) => {
    const address = sample.replace(/^\[|\]$/g, '');
    const err = await new Promise<Error | null>((done) =>
      createGuardedLookup(resolvingTo(address))('postback.example', { all: true }, (error) => done(error)),
    );
    expect(err?.message ?? null).toBe(
      verdict === null ? null : `private network address refused: ${address} (${verdict}, from postback.example)`,
    );
  });

  describe('the connect hook: an IP-literal URL', () => {
    /** Records what the guard let through and dials nothing: no packet leaves the machine. */
    const dialled: string[] = [];
    const dial: buildConnector.connector = (options, callback) => {
      dialled.push(options.hostname);
      callback(new Error('dial recorded, nothing sent'), null);
    };
    const dispatcher = createGuardedDispatcher({ allowPrivateNetworks: false, dial });
    afterAll(() => dispatcher.close());

    // Zone ids are not valid in URLs; the other samples are hosts as a URL carries them.
    it.each(cases.filter(({ sample }) => !sample.includes('%')))('$sample', async ({ sample, verdict }) => {
      const host = sample.includes(':') && !sample.startsWith('[') ? `[${sample}]` : sample;
      dialled.length = 0;
      const message = await request(`http://${host}:8080/pb`, { dispatcher }).then(
        () => 'answered',
        (error: Error) => error.message,
      );
      if (verdict === null) {
        expect(message).toBe('dial recorded, nothing sent');
        expect(dialled).toHaveLength(1);
      } else {
        expect(message).toMatch(/^private network address refused: \S+ \(.+\)$/);
        expect(message).toContain(`(${verdict})`);
        expect(dialled).toEqual([]);
      }
    });
  });
});
