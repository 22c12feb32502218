/**
 * Keeps affiliate postbacks off our own network. Postback URLs are typed in by affiliates, so without
 * this guard anyone with an affiliate login could make the service call internal admin ports or the
 * cloud metadata endpoint (server-side request forgery).
 */
import dns from 'node:dns';
import net from 'node:net';
import ipaddr from 'ipaddr.js';
import { Agent, buildConnector } from 'undici';

/** Prefix of every refusal message, so logs and callers can recognise a guard refusal. */
export const PRIVATE_ADDRESS_REFUSED = 'private network address refused:';

/*
 * The guard follows the IANA special-purpose address registries (IPv4 and IPv6) as ipaddr.js classifies
 * them (`range()`): anything it does not call plain `unicast` is refused, under the name below (a range
 * ipaddr.js adds later is refused under its own name). Three IPv6 forms only carry an IPv4 address and
 * are judged by it instead — IPv4-mapped (`::ffff:a.b.c.d`, how a dual-stack socket reaches IPv4), the
 * NAT64 well-known prefix `64:ff9b::/96` (how an IPv6-only network with DNS64 reaches the IPv4 internet)
 * and 6to4 (`2002::/16`): a public IPv4 address inside passes, a special one is refused. Every other
 * block is refused whole, whatever it embeds: Teredo (`2001::/32`, whose client address is obfuscated),
 * the local-use NAT64 prefix `64:ff9b:1::/48` (its layout is the operator's), IPv4-translated
 * `::ffff:0:0:0/96` and the deprecated IPv4-compatible `::/96`. An IPv6 address outside `2000::/3`,
 * the only block IANA has given out for global unicast, is refused as reserved, which also covers blocks
 * newer than the library (e.g. the dummy prefix `100:0:0:1::/64`).
 */
const REASONS: Readonly<Record<string, string>> = {
  unspecified: 'unspecified',
  broadcast: 'broadcast',
  multicast: 'multicast',
  linkLocal: 'link-local',
  loopback: 'loopback',
  carrierGradeNat: 'carrier-grade NAT',
  private: 'private network',
  reserved: 'reserved',
  as112: 'AS112 anycast',
  amt: 'AMT anycast',
  uniqueLocal: 'unique-local',
  deprecatedSiteLocal: 'site-local',
  discard: 'discard-only',
  rfc6145: 'IPv4-translated',
  // Only the local-use 64:ff9b:1::/48 gets here: the well-known /96 is judged by its IPv4 address.
  rfc6052: 'local-use NAT64',
  '6to4': '6to4',
  teredo: 'Teredo',
  benchmarking: 'benchmarking',
  as112v6: 'AS112 anycast',
  deprecatedOrchid: 'ORCHID',
  orchid2: 'ORCHIDv2',
  droneRemoteIdProtocolEntityTags: 'drone remote ID',
  segmentRouting: 'SRv6 segment routing',
};

interface Ipv4Embedding {
  form: string;
  /** Whether the address is of this form. */
  matches: (address: ipaddr.IPv6, range: string) => boolean;
  /** Index of the first of the two 16-bit groups holding the IPv4 address. */
  at: number;
  /** True: judged by the IPv4 address inside; false: refused whatever it holds (named after it if special). */
  judgedByIpv4: boolean;
}

const NAT64_WELL_KNOWN = ipaddr.IPv6.parseCIDR('64:ff9b::/96');
const IPV4_COMPATIBLE = ipaddr.IPv6.parseCIDR('::/96');
const GLOBAL_UNICAST = ipaddr.IPv6.parseCIDR('2000::/3');

const EMBEDDINGS: readonly Ipv4Embedding[] = [
  { form: 'IPv4-mapped', at: 6, judgedByIpv4: true, matches: (_, range) => range === 'ipv4Mapped' },
  {
    form: 'NAT64',
    at: 6,
    judgedByIpv4: true,
    matches: (address, range) => range === 'rfc6052' && address.match(NAT64_WELL_KNOWN),
  },
  { form: '6to4', at: 1, judgedByIpv4: true, matches: (_, range) => range === '6to4' },
  { form: 'IPv4-translated', at: 6, judgedByIpv4: false, matches: (_, range) => range === 'rfc6145' },
  // ::/96 apart from :: and ::1, which ipaddr.js names unspecified and loopback.
  {
    form: 'IPv4-compatible',
    at: 6,
    judgedByIpv4: false,
    matches: (address, range) => range === 'unicast' && address.match(IPV4_COMPATIBLE),
  },
];

/**
 * Why a postback must not connect to this IP address (v4 or v6 literal, brackets optional), or null
 * when it may. Anything that is not an IP address is refused, so a caller's mistake fails closed.
 */
export function forbiddenAddressReason(ip: string): string | null {
  // URL hostnames keep IPv6 brackets; a zone id (`fe80::1%eth0`) only picks the interface.
  const unbracketed = ip.startsWith('[') && ip.endsWith(']') ? ip.slice(1, -1) : ip;
  const address = unbracketed.split('%')[0];
  // net's strict grammar decides what an address is (ipaddr.js would also take `127.1` or `0x7f.1`).
  if (net.isIPv4(address)) return ipv4Reason(ipaddr.IPv4.parse(address));
  if (!net.isIPv6(address)) return 'not an IP address';
  // Our own parse of the groups: ipaddr.js 2.5 reads `::a.b.c.d` as `::ffff:a.b.c.d`, another block.
  return ipv6Reason(new ipaddr.IPv6(parseIpv6(address)));
}

/** The 8 16-bit groups of an address that net.isIPv6 has already accepted. */
function parseIpv6(address: string): number[] {
  const groupsOf = (part: string): number[] => {
    if (part === '') return [];
    return part.split(':').flatMap((group) => {
      if (!group.includes('.')) return [parseInt(group, 16)];
      const [a, b, c, d] = group.split('.').map(Number);
      return [(a << 8) | b, (c << 8) | d];
    });
  };
  const [head, tail] = address.split('::');
  if (tail === undefined) return groupsOf(head);
  const left = groupsOf(head);
  const right = groupsOf(tail);
  return [...left, ...new Array<number>(8 - left.length - right.length).fill(0), ...right];
}

function ipv4Reason(address: ipaddr.IPv4): string | null {
  const range = address.range();
  return range === 'unicast' ? null : (REASONS[range] ?? range);
}

function ipv6Reason(address: ipaddr.IPv6): string | null {
  const range = address.range();
  const embedding = EMBEDDINGS.find((form) => form.matches(address, range));
  if (embedding) {
    const [high, low] = address.parts.slice(embedding.at, embedding.at + 2);
    const ipv4 = new ipaddr.IPv4([high >> 8, high & 0xff, low >> 8, low & 0xff]);
    const reason = ipv4Reason(ipv4);
    if (reason !== null) return `${reason} (${embedding.form} ${ipv4.toString()})`;
    if (embedding.judgedByIpv4) return null;
    return embedding.form;
  }
  if (range !== 'unicast') return REASONS[range] ?? range;
  return address.match(GLOBAL_UNICAST) ? null : 'reserved';
}

function refusal(address: string, reason: string, hostname?: string): Error {
  const from = hostname !== undefined && hostname !== address ? `, from ${hostname}` : '';
  return new Error(`${PRIVATE_ADDRESS_REFUSED} ${address} (${reason}${from})`);
}

/**
 * A net `lookup` that resolves like dns.lookup but refuses the connection when ANY resolved address
 * is forbidden. Checking every address (not just the first) matters because net may try them all
 * (happy eyeballs), and refusing instead of filtering keeps a half-internal name from working.
 * `resolve` is injectable so tests can simulate DNS answers without traffic.
 */
export function createGuardedLookup(resolve: typeof dns.lookup = dns.lookup): net.LookupFunction {
  return (hostname, options, callback) => {
    resolve(hostname, { ...options, all: true }, (err, addresses) => {
      if (err) return callback(err, '');
      const forbidden = addresses
        .map(({ address }) => ({ address, reason: forbiddenAddressReason(address) }))
        .find(({ reason }) => reason !== null);
      if (forbidden?.reason) return callback(refusal(forbidden.address, forbidden.reason, hostname), '');
      if (addresses.length === 0) {
        const notFound = Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' });
        return callback(notFound, '');
      }
      // net asks for `all` when it races address families; otherwise it wants one address.
      if (options.all) return callback(null, addresses);
      callback(null, addresses[0].address, addresses[0].family);
    });
  };
}

/**
 * The undici dispatcher every postback goes through. Unless private networks are allowed (local
 * development and tests), it refuses to open a socket to a forbidden address: names are checked
 * after resolution, the exact addresses that will be dialled, so DNS rebinding cannot slip past; and
 * IP-literal hosts, which net connects to without calling lookup, are checked before connecting.
 */
export function createGuardedDispatcher(options: {
  allowPrivateNetworks: boolean;
  connectTimeoutMs?: number;
  /**
   * What connects once the guard has let an IP-literal destination through (default: undici's own
   * connector with the guarded lookup). Tests pass one that records the attempt and dials nothing, so a
   * gap in the guard is seen without sending a packet off the machine.
   */
  dial?: buildConnector.connector;
}): Agent {
  const timeout = options.connectTimeoutMs ?? 10_000;
  if (options.allowPrivateNetworks) return new Agent({ connect: { timeout } });

  const connectGuarded = options.dial ?? buildConnector({ timeout, lookup: createGuardedLookup() });
  return new Agent({
    connect: (connectOptions, callback) => {
      // undici has already stripped the brackets from an IPv6 host here.
      const { hostname } = connectOptions;
      const reason = net.isIP(hostname) ? forbiddenAddressReason(hostname) : null;
      if (reason !== null) return callback(refusal(hostname, reason), null);
      connectGuarded(connectOptions, callback);
    },
  });
}
