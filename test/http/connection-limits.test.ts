import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { createApp } from '../../src/app';
import { clientKeyOf, refusalReporter, type RefusedConnection } from '../../src/http/connection-limits';
import { createListener, type Listener } from '../../src/http/listener';
import { createTestDatabase, TestDatabase } from '../support/databases';
import { startTestServer, TestServer } from '../support/test-server';

/** A raw connection from `localAddress` (any 127/8 address is this host's) that reports what it got. */
interface RawConnection {
  socket: net.Socket;
  received(): string;
  /** Resolves when the server has closed or reset the connection. */
  closed: Promise<void>;
  isClosed(): boolean;
}

function connect(port: number, localAddress = '127.0.0.1'): Promise<RawConnection> {
  return new Promise((resolve, reject) => {
    let received = '';
    let closed = false;
    const socket = net.connect({ host: '127.0.0.1', port, localAddress });
    socket.on('data', (chunk: Buffer) => (received += chunk.toString('latin1')));
    // A refused connection may be reset rather than closed: either way it is gone.
    socket.on('error', () => undefined);
    const closedPromise = new Promise<void>((done) => socket.once('close', () => ((closed = true), done())));
    socket.once('connect', () =>
      resolve({ socket, received: () => received, closed: closedPromise, isClosed: () => closed }),
    );
    socket.once('error', reject);
  });
}

/** GET /healthz on a fresh connection from `localAddress`. */
function health(port: number, localAddress: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const request = http.get({ host: '127.0.0.1', port, path: '/healthz', localAddress, agent: false }, (response) => {
      let body = '';
      response.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
    });
    request.on('error', reject);
  });
}

const portOf = (server: TestServer) => Number(new URL(server.baseUrl).port);

/** The connection has been accepted and counted: a request on another connection has been answered since. */
async function settle(port: number): Promise<void> {
  await health(port, '127.0.0.9');
}

describe('connection caps and timeouts (SQLite)', () => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createTestDatabase('sqlite');
  });
  afterAll(async () => {
    await database?.drop();
  });

  describe('per client address', () => {
    let server: TestServer;
    beforeAll(async () => {
      server = await startTestServer(database.db, { HTTP_MAX_CONNECTIONS_PER_CLIENT: '3' });
    });
    afterAll(async () => server?.close());

    it('closes a client’s connection past HTTP_MAX_CONNECTIONS_PER_CLIENT unanswered, while other addresses are served', async () => {
      const port = portOf(server);
      // Three slow senders from one address: a request line, and no end of headers.
      const slow = await Promise.all([1, 2, 3].map(() => connect(port, '127.0.0.2')));
      for (const connection of slow) connection.socket.write('GET /healthz HTTP/1.1\r\nHost: x\r\n');
      await settle(port);
      const excess = await connect(port, '127.0.0.2');
      excess.socket.write('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n');
      await excess.closed;
      expect(excess.received()).toBe('');
      expect(slow.map((connection) => connection.isClosed())).toEqual([false, false, false]);
      // Another address is served meanwhile.
      expect(await health(port, '127.0.0.3')).toEqual({ status: 200, body: '{"status":"ok"}' });
      // A closed connection frees its place.
      slow[0].socket.destroy();
      await slow[0].closed;
      await settle(port);
      expect(await health(port, '127.0.0.2')).toEqual({ status: 200, body: '{"status":"ok"}' });
      for (const connection of slow) connection.socket.destroy();
    });
  });

  describe('overall', () => {
    let server: TestServer;
    beforeAll(async () => {
      server = await startTestServer(database.db, { HTTP_MAX_CONNECTIONS: '4', HTTP_MAX_CONNECTIONS_PER_CLIENT: '0' });
    });
    afterAll(async () => server?.close());

    it('closes a connection past HTTP_MAX_CONNECTIONS unanswered, and serves again once one closes', async () => {
      const port = portOf(server);
      const open = [];
      for (const address of ['127.0.0.2', '127.0.0.3', '127.0.0.4', '127.0.0.5'])
        open.push(await connect(port, address));
      const excess = await connect(port, '127.0.0.6');
      excess.socket.write('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n');
      await excess.closed;
      expect(excess.received()).toBe('');
      expect(open.map((connection) => connection.isClosed())).toEqual([false, false, false, false]);
      open[0].socket.destroy();
      await open[0].closed;
      expect(await health(port, '127.0.0.6')).toEqual({ status: 200, body: '{"status":"ok"}' });
      for (const connection of open) connection.socket.destroy();
    });
  });

  describe('timeouts', () => {
    let server: TestServer;
    beforeAll(async () => {
      server = await startTestServer(database.db, { HTTP_HEADERS_TIMEOUT_MS: '500', HTTP_REQUEST_TIMEOUT_MS: '1000' });
    });
    afterAll(async () => server?.close());

    it('answers 408 and closes a connection whose headers never end (a header line at a time)', async () => {
      const connection = await connect(portOf(server));
      connection.socket.write('GET /healthz HTTP/1.1\r\n');
      const trickle = setInterval(() => connection.socket.writable && connection.socket.write('X-Slow: 1\r\n'), 100);
      try {
        await connection.closed;
      } finally {
        clearInterval(trickle);
      }
      expect(connection.received()).toMatch(/^HTTP\/1\.1 408 Request Timeout\r\n/);
    });

    it('closes a connection that sends nothing at all', async () => {
      const connection = await connect(portOf(server));
      await connection.closed;
      expect(connection.received()).toMatch(/^HTTP\/1\.1 408 Request Timeout\r\n/);
    });

    it('answers 408 and closes a connection whose body never ends', async () => {
      const connection = await connect(portOf(server));
      connection.socket.write(
        'POST /transaction.edit HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 1000\r\n\r\n',
      );
      const trickle = setInterval(() => connection.socket.writable && connection.socket.write('a'), 100);
      try {
        await connection.closed;
      } finally {
        clearInterval(trickle);
      }
      expect(connection.received()).toMatch(/^HTTP\/1\.1 408 Request Timeout\r\n/);
    });
  });

  describe('HTTPS', () => {
    let dir: string;
    let plain: TestServer;
    let listener: Listener;
    let port: number;
    const refused: RefusedConnection[] = [];
    beforeAll(async () => {
      plain = await startTestServer(database.db);
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'txedit-tls-caps-'));
      const cert = path.join(dir, 'c.crt');
      const key = path.join(dir, 'c.key');
      execFileSync(
        'openssl',
        [
          'req',
          '-x509',
          '-newkey',
          'rsa:2048',
          '-nodes',
          '-keyout',
          key,
          '-out',
          cert,
          '-days',
          '1',
          '-subj',
          '/CN=caps',
        ],
        { stdio: 'ignore' },
      );
      const limits = {
        ...plain.services.config.http,
        headersTimeoutMs: 500,
        requestTimeoutMs: 1000,
        maxConnectionsPerClient: 2,
      };
      listener = createListener(createApp(plain.services), { certFile: cert, keyFile: key }, limits, {
        onRefused: (entry) => refused.push(entry),
      });
      await new Promise<void>((resolve) => listener.server.listen(0, '127.0.0.1', resolve));
      port = (listener.server.address() as net.AddressInfo).port;
    });
    afterAll(async () => {
      listener?.server.closeAllConnections?.();
      await new Promise((resolve) => listener?.server.close(resolve));
      await plain?.close();
      fs.rmSync(dir, { recursive: true, force: true });
    });

    it('caps one address’s TCP connections before any handshake, and closes one that never shakes hands', async () => {
      const silent = [await connect(port, '127.0.0.2'), await connect(port, '127.0.0.2')];
      const excess = await connect(port, '127.0.0.2');
      await excess.closed;
      expect(excess.received()).toBe('');
      expect(refused).toEqual([{ cap: 'client', client: '127.0.0.2' }]);
      // The two that never start their TLS handshake are closed by the headers timeout too.
      await Promise.all(silent.map((connection) => connection.closed));
      expect(silent.map((connection) => connection.received())).toEqual(['', '']);
    });
  });
});

describe('clientKeyOf', () => {
  it.each([
    ['127.0.0.1', '127.0.0.1'],
    ['::ffff:10.1.1.1', '10.1.1.1'],
    ['::ffff:a01:101', '10.1.1.1'],
    ['2001:db8:1:2:3:4:5:6', '2001:db8:1:2::/64'],
    ['2001:db8:1:2::9', '2001:db8:1:2::/64'],
    ['2001:db8:1:3::9', '2001:db8:1:3::/64'],
    ['2001:db8::1', '2001:db8:0:0::/64'],
    ['::1', '0:0:0:0::/64'],
  ])('counts %s under %s', (address, key) => {
    expect(clientKeyOf(address)).toBe(key);
  });
});

describe('refusalReporter', () => {
  it('reports the first refusal at once and sums up the rest once a period', async () => {
    const lines: Array<[Record<string, unknown>, string]> = [];
    const report = refusalReporter((fields, message) => lines.push([fields, message]), 200);
    report({ cap: 'client', client: '198.51.100.1' });
    for (let i = 0; i < 5; i++) report({ cap: 'client', client: '198.51.100.1' });
    report({ cap: 'total', client: '198.51.100.2' });
    expect(lines).toEqual([
      [
        { cap: 'HTTP_MAX_CONNECTIONS_PER_CLIENT', client: '198.51.100.1' },
        'refused a connection over HTTP_MAX_CONNECTIONS_PER_CLIENT; further refusals are summed up every 0.2 s',
      ],
    ]);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(lines[1]).toEqual([
      { refused: { total: 1, client: 5 }, lastClient: '198.51.100.2' },
      'refused 6 connections over the connection caps in the last 0.2 s',
    ]);
  });
});
