/**
 * Keeps affiliate postbacks off our own network. Postback URLs are typed in by affiliates, so without
 * this guard anyone with an affiliate login could make the service call internal admin ports or the
 * cloud metadata endpoint (server-side request forgery).
 */
import dns from 'node:dns';
import net from 'node:net';
import { Agent, buildConnector } from 'undici';

/** Prefix of every refusal message, so logs and callers can recognise a guard refusal. */
export const PRIVATE_ADDRESS_REFUSED = 'private network address refused:';

interface AddressRule {
  reason: string;
  subnets: ReadonlyArray<readonly [address: string, prefix: number]>;
}

// Order matters: the first matching rule names the reason (broadcast before the reserved 240/4).
const IPV4_RULES: readonly AddressRule[] = [
  { reason: 'unspecified', subnets: [['0.0.0.0', 8]] },
  { reason: 'loopback', subnets: [['127.0.0.0', 8]] },
  { reason: 'private network', subnets: [['10.0.0.0', 8], ['172.16.0.0', 12], ['192.168.0.0', 16]] },
  { reason: 'carrier-grade NAT', subnets: [['100.64.0.0', 10]] },
  // 169.254.169.254 is the metadata service on AWS, GCP and Azure: the classic SSRF target.
  { reason: 'link-local', subnets: [['169.254.0.0', 16]] },
  { reason: 'multicast', subnets: [['224.0.0.0', 4]] },
  { reason: 'broadcast', subnets: [['255.255.255.255', 32]] },
  { reason: 'reserved', subnets: [['240.0.0.0', 4]] },
];

const IPV6_RULES: readonly AddressRule[] = [
  { reason: 'unspecified', subnets: [['::', 128]] },
  { reason: 'loopback', subnets: [['::1', 128]] },
  { reason: 'link-local', subnets: [['fe80::', 10]] },
  // fec0::/10 is deprecated but some internal networks still route it.
  { reason: 'site-local', subnets: [['fec0::', 10]] },
  { reason: 'unique-local', subnets: [['fc00::', 7]] },
  { reason: 'multicast', subnets: [['ff00::', 8]] },
];

/** Each rule compiled once into a net.BlockList, which does the prefix arithmetic for us. */
function compile(rules: readonly AddressRule[], family: 'ipv4' | 'ipv6') {
  return rules.map(({ reason, subnets }) => {
    const list = new net.BlockList();
    for (const [address, prefix] of subnets) list.addSubnet(address, prefix, family);
    return { reason, list };
  });
}
const IPV4_LISTS = compile(IPV4_RULES, 'ipv4');
const IPV6_LISTS = compile(IPV6_RULES, 'ipv6');

interface Ipv4Embedding {
  form: string;
  /** Leading 16-bit groups that identify the range. */
  prefix: readonly number[];
  /** Index of the first of the two 16-bit groups holding the IPv4 address. */
  at: number;
}

/**
 * IPv6 ranges that carry an IPv4 address in their last 32 bits (or bits 16–47 for 6to4); a
 * connection to one of them can end up at that IPv4 address, so the IPv4 rules apply to it too.
 */
const EMBEDDINGS: readonly Ipv4Embedding[] = [
  { form: 'IPv4-mapped', prefix: [0, 0, 0, 0, 0, 0xffff], at: 6 },
  { form: 'IPv4-compatible', prefix: [0, 0, 0, 0, 0, 0], at: 6 },
  { form: 'NAT64', prefix: [0x64, 0xff9b, 0, 0, 0, 0], at: 6 },
  { form: '6to4', prefix: [0x2002], at: 1 },
];

/**
 * Why a postback must not connect to this IP address (v4 or v6 literal, brackets optional), or null
 * when it may. Anything that is not an IP address is refused, so a caller's mistake fails closed.
 */
export function forbiddenAddressReason(ip: string): string | null {
  // URL hostnames keep IPv6 brackets; a zone id (`fe80::1%eth0`) only picks the interface.
  const unbracketed = ip.startsWith('[') && ip.endsWith(']') ? ip.slice(1, -1) : ip;
  const address = unbracketed.split('%')[0];
  if (net.isIPv4(address)) return IPV4_LISTS.find(({ list }) => list.check(address, 'ipv4'))?.reason ?? null;
  if (!net.isIPv6(address)) return 'not an IP address';

  const direct = IPV6_LISTS.find(({ list }) => list.check(address, 'ipv6'));
  if (direct) return direct.reason;
  const hextets = parseIpv6(address);
  for (const { form, prefix, at } of EMBEDDINGS) {
    if (!prefix.every((group, index) => hextets[index] === group)) continue;
    const embedded = formatIpv4(hextets[at], hextets[at + 1]);
    const reason = forbiddenAddressReason(embedded);
    if (reason !== null) return `${reason} (${form} ${embedded})`;
  }
  return null;
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

function formatIpv4(high: number, low: number): string {
  return [high >> 8, high & 0xff, low >> 8, low & 0xff].join('.');
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
}): Agent {
  const timeout = options.connectTimeoutMs ?? 10_000;
  if (options.allowPrivateNetworks) return new Agent({ connect: { timeout } });

  const connectGuarded = buildConnector({ timeout, lookup: createGuardedLookup() });
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
