import net from 'node:net';
import type { AddressInfo } from 'node:net';

/** What the proxy does with a new client connection. */
export type ProxyMode = 'forward' | 'refuse';

/**
 * What a sprung trap does to the connection that sent its pattern:
 * - `cut`: destroy both sides before the bytes are forwarded (the statement never reaches the server);
 * - `sever`: forward the bytes, then drop only the client side; the server side stays open, so the
 *   server runs the statement to completion, but its answer is never relayed (the server's reply lost);
 * - `forward`: forward the bytes and leave the connection alone.
 */
type TrapEffect = 'cut' | 'sever' | 'forward';

/** A pattern armed on the proxy, waiting for a connection to send it. */
interface Trap {
  pattern: Buffer;
  effect: TrapEffect;
  fired: () => void;
}

/**
 * A loopback TCP proxy in front of a database server, under a test's control: it forwards, refuses
 * (accepts and closes at once, as a server that is down behind a load balancer would look), cuts every
 * open connection, or acts on the one connection whose client→server bytes contain a pattern — so
 * "the database went away just as the COMMIT was sent" happens on cue instead of by luck. Patterns are
 * ASCII, matched case-insensitively, also across packet boundaries; each trap fires once. A prepared
 * statement is matched when it is executed: the proxy remembers each connection's statement ids and
 * texts (MySQL protocol COM_STMT_PREPARE and its answer), so a COM_STMT_EXECUTE of a statement whose
 * text holds the pattern springs the trap too.
 */
export interface TcpProxy {
  host: string;
  port: number;
  /** How many client connections were forwarded (refused ones are not counted). */
  readonly forwarded: number;
  /** New connections are closed at once; open ones are left alone. */
  refuse(): void;
  /** New connections are forwarded. */
  forward(): void;
  /** Destroys every open connection, both sides, now. */
  cutAll(): void;
  /** Cuts the connection that sends `pattern`, both sides, before those bytes reach the server. Resolves when it has. */
  cutWhenClientSends(pattern: string): Promise<void>;
  /** Forwards the bytes holding `pattern`, then drops the client side only: the server acts on them, its answer is lost. */
  severAfterClientSends(pattern: string): Promise<void>;
  /**
   * Forwards the bytes holding `pattern` and then, in the same turn of the event loop — before any
   * answer from the server can be relayed back — calls `action` (e.g. kill -9 the client process).
   */
  afterClientSends(pattern: string, action: () => void): void;
  /** Disarms a trap that has not fired. */
  disarm(): void;
  close(): Promise<void>;
}

/** A client connection and its server side, with the tail of what the client sent (for split patterns). */
interface Pair {
  client: net.Socket;
  server: net.Socket;
  tail: Buffer;
  severed: boolean;
  /** Prepared statements of this connection: id → lower-cased text. */
  statements: Map<number, Buffer>;
  /** The text of a COM_STMT_PREPARE sent and not yet answered. */
  preparing: Buffer | null;
}

// MySQL client/server protocol: a packet is a 3-byte length, a sequence byte, then the payload, whose
// first byte is the command. mysql2 writes each command in one write and sends the next only after the
// answer, so a command starts a chunk on loopback, and the answer to a prepare starts the next server chunk.
const COM_STMT_PREPARE = 0x16;
const COM_STMT_EXECUTE = 0x17;

/** The text of a prepared statement this chunk executes, if it is a COM_STMT_EXECUTE. */
function executedStatement(pair: Pair, chunk: Buffer): Buffer | undefined {
  if (chunk.length < 9 || chunk[3] !== 0 || chunk[4] !== COM_STMT_EXECUTE) return undefined;
  return pair.statements.get(chunk.readUInt32LE(5));
}

/** Notes a COM_STMT_PREPARE's text, to pair with the id in the server's answer. */
function notePrepare(pair: Pair, chunk: Buffer): void {
  if (chunk.length > 5 && chunk[3] === 0 && chunk[4] === COM_STMT_PREPARE)
    pair.preparing = lower(chunk.subarray(5, 4 + chunk.readUIntLE(0, 3)));
}

/** Pairs the noted text with the statement id of a prepare's OK answer. */
function noteStatementId(pair: Pair, chunk: Buffer): void {
  if (!pair.preparing) return;
  if (chunk.length >= 9 && chunk[4] === 0) pair.statements.set(chunk.readUInt32LE(5), pair.preparing);
  pair.preparing = null;
}

const lower = (buffer: Buffer) => Buffer.from(buffer.toString('latin1').toLowerCase(), 'latin1');

/** Starts a proxy on 127.0.0.1 (ephemeral port) forwarding to `target` (default MariaDB's 127.0.0.1:3306). */
export async function startTcpProxy(
  target: { host: string; port: number } = { host: '127.0.0.1', port: 3306 },
): Promise<TcpProxy> {
  let mode: ProxyMode = 'forward';
  let trap: Trap | null = null;
  let forwarded = 0;
  const pairs = new Set<Pair>();

  const cut = (pair: Pair) => {
    pairs.delete(pair);
    pair.client.destroy();
    pair.server.destroy();
  };
  const arm = (pattern: string, effect: TrapEffect, fired: () => void) => {
    if (trap) throw new Error('a trap is already armed');
    trap = { pattern: lower(Buffer.from(pattern, 'latin1')), effect, fired };
  };

  const listener = net.createServer((client) => {
    client.on('error', () => undefined);
    if (mode === 'refuse') {
      client.destroy();
      return;
    }
    forwarded++;
    const server = net.connect(target.port, target.host);
    server.on('error', () => undefined);
    const pair: Pair = {
      client,
      server,
      tail: Buffer.alloc(0),
      severed: false,
      statements: new Map(),
      preparing: null,
    };
    pairs.add(pair);
    client.on('data', (chunk: Buffer) => {
      notePrepare(pair, chunk);
      if (trap) {
        const seen = lower(Buffer.concat([pair.tail, chunk]));
        if (seen.includes(trap.pattern) || executedStatement(pair, chunk)?.includes(trap.pattern)) {
          const sprung = trap;
          trap = null;
          if (sprung.effect === 'cut') cut(pair);
          else server.write(chunk);
          if (sprung.effect === 'sever') {
            pair.severed = true;
            client.destroy();
          }
          sprung.fired();
          return;
        }
        pair.tail = seen.subarray(Math.max(0, seen.length - trap.pattern.length + 1));
      }
      server.write(chunk);
    });
    server.on('data', (chunk: Buffer) => {
      noteStatementId(pair, chunk);
      if (!pair.severed) client.write(chunk);
    });
    client.on('close', () => (pair.severed ? undefined : cut(pair)));
    server.on('close', () => cut(pair));
  });
  await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
  const { port } = listener.address() as AddressInfo;

  return {
    host: '127.0.0.1',
    port,
    get forwarded() {
      return forwarded;
    },
    refuse: () => {
      mode = 'refuse';
    },
    forward: () => {
      mode = 'forward';
    },
    cutAll: () => {
      for (const pair of [...pairs]) cut(pair);
    },
    cutWhenClientSends: (pattern) => new Promise<void>((resolve) => arm(pattern, 'cut', resolve)),
    severAfterClientSends: (pattern) => new Promise<void>((resolve) => arm(pattern, 'sever', resolve)),
    afterClientSends: (pattern, action) => arm(pattern, 'forward', action),
    disarm: () => {
      trap = null;
    },
    close: async () => {
      trap = null;
      for (const pair of [...pairs]) cut(pair);
      await new Promise<void>((resolve) => listener.close(() => resolve()));
    },
  };
}

/** The same MySQL/MariaDB URL, reached through the proxy instead of directly. */
export function throughProxy(url: string, proxy: Pick<TcpProxy, 'host' | 'port'>): string {
  const proxied = new URL(url);
  proxied.hostname = proxy.host;
  proxied.port = String(proxy.port);
  return proxied.toString();
}
