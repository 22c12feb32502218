import net from 'node:net';
import ipRangeCheck from 'ip-range-check';

/**
 * `::ffff:a.b.c.d` → `a.b.c.d`, so IPv4 whitelist entries match clients seen over an IPv6 socket.
 * Anything that is not an address ('' for none) becomes '': behind `TRUST_PROXY=true` req.ip is
 * whatever the client wrote in X-Forwarded-For, which must not reach the history's client_ip column.
 */
export function normaliseClientIp(ip: string | undefined): string {
  if (!ip || net.isIP(ip) === 0) return '';
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(ip);
  return mapped ? mapped[1] : ip;
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
  return `${groups.slice(0, 4).map((group) => group.toString(16)).join(':')}::/64`;
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
