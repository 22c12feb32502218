import net from 'node:net';
import ipRangeCheck from 'ip-range-check';

/**
 * A client address in one spelling: IPv4-mapped IPv6 (`::ffff:a.b.c.d`, `::ffff:a01:101`, …) becomes the
 * IPv4 address, so IPv4 whitelist entries and rate-limit buckets match clients seen over an IPv6 socket
 * or named so by a proxy; other IPv6 addresses take their canonical form. Anything that is not an
 * address ('' for none) becomes '': behind `TRUST_PROXY=true` the address is whatever the client wrote in
 * X-Forwarded-For, which must not reach the history's client_ip column.
 */
export function normaliseClientIp(ip: string | undefined): string {
  if (!ip) return '';
  const version = net.isIP(ip);
  if (version === 4) return ip;
  if (version === 0) return '';
  let canonical: string;
  try {
    canonical = canonicalIpv6(ip);
  } catch {
    return ip; // a zone index (fe80::1%eth0) that SocketAddress does not take: kept as written
  }
  // inet_ntop spells every IPv4-mapped address ::ffff:a.b.c.d.
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/.exec(canonical);
  return mapped ? mapped[1] : canonical;
}

/**
 * An X-Forwarded-For entry without the port some proxies add (Azure's gateways, some ingress
 * controllers): `a.b.c.d:port` → `a.b.c.d`, `[v6]:port` and `[v6]` → `v6`. A bare IPv6 address, or
 * anything else, is returned as it is.
 */
export function withoutPort(entry: string | undefined): string {
  if (!entry) return '';
  if (entry.charCodeAt(0) === 91 /* [ */) {
    const bracketed = /^\[([^\]]+)\](?::\d{1,5})?$/.exec(entry);
    return bracketed ? bracketed[1] : entry;
  }
  const colon = entry.indexOf(':');
  if (colon === -1 || entry.indexOf(':', colon + 1) !== -1) return entry;
  return /^\d{1,5}$/.test(entry.slice(colon + 1)) ? entry.slice(0, colon) : entry;
}

/**
 * Validates and normalises a whitelist entry: an IPv4/IPv6 address or a CIDR range. Returns null when
 * invalid. Host bits in a range are kept as typed (ip-range-check masks them itself).
 */
export function normaliseWhitelistAddress(input: string): string | null {
  const text = input.trim();
  const [address, prefix, ...rest] = text.split('/');
  if (rest.length > 0) return null;
  const version = net.isIP(address);
  if (version === 0) return null;
  const canonical = normaliseClientIp(version === 6 ? canonicalIpv6(address) : address);
  if (prefix === undefined) return canonical;
  if (!/^\d{1,3}$/.test(prefix)) return null;
  const bits = Number(prefix);
  if (bits > (version === 4 ? 32 : 128)) return null;
  if (version === 6 && net.isIP(canonical) === 4) {
    // ::ffff:a.b.c.d/N was rewritten to IPv4 (clients are normalised the same way), so its prefix is
    // N − 96; a range wider than the mapped block would mix IPv4 and IPv6 and is refused.
    return bits < 96 ? null : `${canonical}/${bits - 96}`;
  }
  return `${canonical}/${bits}`;
}

/**
 * The key a client is counted under by the brakes and the compare shares: an IPv4 address as it is
 * (`::ffff:a.b.c.d` as `a.b.c.d`), an IPv6 address by its /64 (`2001:db8:1:2::/64`). One end site is
 * handed a /64 at least, so its addresses are one client: an attacker with a /64 has one counter, not
 * 2^64 of them. Anything that is not an address keys as itself ('' for none).
 */
export function clientKeyOf(ip: string): string {
  if (!ip.includes(':')) return ip; // IPv4 (the usual case: no parsing on the success path), or not an address
  const client = normaliseClientIp(ip);
  if (net.isIP(client) !== 6) return client || ip;
  const groups = ipv6Groups(client);
  return `${groups
    .slice(0, 4)
    .map((group) => group.toString(16))
    .join(':')}::/64`;
}

/** The eight 16-bit groups of a valid IPv6 address (`::` expanded, a trailing dotted IPv4 read as two groups). */
function ipv6Groups(address: string): number[] {
  let text = address.replace(/%.*$/, '');
  const dotted = /(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(text);
  if (dotted) {
    const [a, b, c, d] = dotted.slice(1).map(Number);
    text = `${text.slice(0, dotted.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, tail] = text.split('::');
  const parse = (part: string | undefined) => (part ? part.split(':').map((group) => parseInt(group, 16)) : []);
  const front = parse(head);
  const back = parse(tail);
  return tail === undefined ? front : [...front, ...new Array<number>(8 - front.length - back.length).fill(0), ...back];
}

function canonicalIpv6(address: string): string {
  const list = new net.SocketAddress({ address, family: 'ipv6' });
  return list.address;
}

/** True when `ip` is inside any of the addresses or ranges. */
export function ipIsListed(ip: string, addresses: string[]): boolean {
  if (!ip || addresses.length === 0) return false;
  try {
    return ipRangeCheck(ip, addresses);
  } catch {
    return false;
  }
}
