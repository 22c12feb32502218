import net from 'node:net';
import { normaliseClientIp } from '../auth/ip-address';

/**
 * How long a client may take to send a request, and how many connections may be open (HTTP_* in
 * README's configuration table). Well under Node's own defaults (60 s for headers, 300 s for a whole
 * request, no connection cap), so slow senders cannot hold the process's file descriptors.
 */
export interface ConnectionLimits {
  /** Time from a connection's (or request's) start until its headers are complete; then 408 and close. */
  headersTimeoutMs: number;
  /** Time until the whole request, body included, is received (a batch upload is one request). */
  requestTimeoutMs: number;
  /** Open connections at once; more are closed as soon as they are accepted. */
  maxConnections: number;
  /** Open connections from one client address (IPv6: one /64); 0: no per-client cap. */
  maxConnectionsPerClient: number;
}

/** What becomes of a refused connection: the cap it hit and the address (or /64) it came from. */
export type RefusedConnection = { cap: 'total' | 'client'; client: string };

/**
 * The key a client's connections are counted under: its address, IPv4-mapped IPv6 as IPv4, and any
 * other IPv6 address by its /64 — one host usually holds a whole /64 and can use any address of it.
 */
export function clientKeyOf(address: string): string {
  const ip = normaliseClientIp(address);
  if (net.isIP(ip) !== 6) return ip;
  const [head, tail] = ip.split('%')[0].split('::');
  const front = head === '' ? [] : head.split(':');
  const back = tail === undefined || tail === '' ? [] : tail.split(':');
  const zeros = new Array<string>(Math.max(0, 8 - front.length - back.length)).fill('0');
  const groups = tail === undefined ? front : [...front, ...zeros, ...back];
  return `${groups.slice(0, 4).join(':')}::/64`;
}

/**
 * Caps the connections of one client address on `server` (HTTP or HTTPS: counted on the TCP
 * connection, before any TLS handshake), and reports every refusal — Node's own overall cap
 * (`maxConnections`, set where the server is made) included. A refused connection is destroyed at once:
 * nothing is read from it. Peers `exempt` says are trusted proxies are not capped per address (behind a
 * proxy every client arrives from it); the overall cap still counts them. The cost is per connection,
 * none per request.
 */
export function capConnectionsPerClient(
  server: net.Server,
  perClient: number,
  options: { exempt: (address: string) => boolean; onRefused: (refused: RefusedConnection) => void },
): void {
  server.on('drop', (data?: { remoteAddress?: string }) => {
    options.onRefused({ cap: 'total', client: clientKeyOf(data?.remoteAddress ?? '') });
  });
  if (perClient === 0) return;
  const open = new Map<string, number>();
  // Ahead of Node's own listener, so a refused connection gets no parser (HTTP) or TLS socket (HTTPS).
  server.prependListener('connection', (socket: net.Socket) => {
    const address = socket.remoteAddress;
    if (address === undefined) {
      socket.destroy(); // already gone
      return;
    }
    if (options.exempt(address)) return;
    const client = clientKeyOf(address);
    const count = open.get(client) ?? 0;
    if (count >= perClient) {
      socket.destroy();
      options.onRefused({ cap: 'client', client });
      return;
    }
    open.set(client, count + 1);
    socket.once('close', () => {
      const left = (open.get(client) ?? 1) - 1;
      if (left === 0) open.delete(client);
      else open.set(client, left);
    });
  });
}

/**
 * Reports refused connections through `log` without a line per refusal (a flood refuses thousands a
 * second): the first at once, then one summary a minute while refusals go on.
 */
export function refusalReporter(
  log: (fields: Record<string, unknown>, message: string) => void,
  periodMs = 60_000,
): (refused: RefusedConnection) => void {
  let timer: NodeJS.Timeout | null = null;
  let since = { total: 0, client: 0 };
  let last: RefusedConnection | null = null;
  const summarise = () => {
    timer = null;
    if (since.total + since.client === 0) return;
    const count = since.total + since.client;
    log(
      { refused: since, lastClient: last?.client },
      `refused ${count} connections over the connection caps in the last ${periodMs / 1000} s`,
    );
    since = { total: 0, client: 0 };
    timer = setTimeout(summarise, periodMs).unref();
  };
  return (refused) => {
    last = refused;
    if (timer === null) {
      const cap = refused.cap === 'total' ? 'HTTP_MAX_CONNECTIONS' : 'HTTP_MAX_CONNECTIONS_PER_CLIENT';
      const next = `further refusals are summed up every ${periodMs / 1000} s`;
      log({ cap, client: refused.client }, `refused a connection over ${cap}; ${next}`);
      timer = setTimeout(summarise, periodMs).unref();
      return;
    }
    since[refused.cap]++;
  };
}
