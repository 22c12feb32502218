import http from 'node:http';
import net from 'node:net';
import { hashPassword } from '../../src/auth/password-verifier';
import { createTestDatabase, testEngines, TestDatabase } from '../support/databases';
import { buildAffiliate, buildTransaction, freshId } from '../support/factories';
import { editByGet, parseLinkTrustXml } from '../support/linktrust-xml';
import { startReceiver, Receiver } from '../support/receiver';
import { ensureBuilt, spawnServer, SpawnedServer } from '../support/spawn-server';
import { editParameters, eventually, rollUpIncluding, servicesOver } from './fault-helpers';

/** The env a spawned server gets for a test database. */
function databaseEnv(database: TestDatabase): Record<string, string> {
  const { config } = database;
  return { DATABASE_URL: config.client === 'sqlite' ? `sqlite:${config.filename}` : config.url };
}

/**
 * A keep-alive POST /transaction.edit sent with `Expect: 100-continue`: the server answers `100 Continue`
 * once it has parsed the headers and handed the request to the app, so once this resolves the request is
 * in flight for certain; its body is sent only on `release()`. `answer` resolves when the server ends
 * the connection.
 */
async function heldRequest(port: number, form: string) {
  const socket = net.connect(port, '127.0.0.1');
  let received = '';
  let onData = () => undefined as void;
  socket.setEncoding('latin1');
  socket.on('data', (chunk: string) => {
    received += chunk;
    onData();
  });
  const closed = new Promise<string>((resolve, reject) => {
    socket.on('end', () => resolve(received));
    socket.on('error', reject);
  });
  await new Promise((resolve) => socket.once('connect', resolve));
  socket.write(
    `POST /transaction.edit HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nContent-Type: application/x-www-form-urlencoded\r\n` +
      `Content-Length: ${Buffer.byteLength(form)}\r\nExpect: 100-continue\r\n\r\n`,
  );
  const interim = 'HTTP/1.1 100 Continue\r\n\r\n';
  await new Promise<void>((resolve) => {
    onData = () => (received.startsWith(interim) ? resolve() : undefined);
    onData();
  });
  return {
    release: () => socket.write(form),
    /** Status line, headers and body of the final answer. */
    answer: closed.then((text) => {
      const final = text.slice(interim.length);
      const split = final.indexOf('\r\n\r\n');
      const [statusLine, ...headerLines] = final.slice(0, split).split('\r\n');
      const headers = Object.fromEntries(
        headerLines.map((line) => [
          line.slice(0, line.indexOf(':')).toLowerCase(),
          line.slice(line.indexOf(':') + 1).trim(),
        ]),
      );
      return { statusLine, headers, body: Buffer.from(final.slice(split + 4), 'latin1').toString('utf8') };
    }),
  };
}

/** The error code of a fresh TCP connection attempt ('connected' when one was accepted). */
function tryConnect(port: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve('connected');
    });
    socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
  });
}

describe.each(testEngines())('SIGTERM on the production server (%s)', (engine) => {
  let database: TestDatabase;
  let receiver: Receiver;
  let server: SpawnedServer | undefined;
  beforeAll(async () => {
    await ensureBuilt();
    database = await createTestDatabase(engine);
    receiver = await startReceiver();
  }, 300_000);
  afterAll(async () => {
    server?.kill('SIGKILL');
    await server?.exited;
    await receiver?.close();
    await database?.drop();
  });

  it('stops accepting, finishes the request in flight and the postback in flight, releases the lease and exits 0', async () => {
    // A cost-12 password and no credential cache: every edit spends real bcrypt time while shutting down.
    const services = servicesOver(database.db);
    const password = 'sigterm-password';
    const affiliate = await buildAffiliate(services, { postbackUrl: `${receiver.url}/pb?t=[=_TransID=]` });
    const campaign = await services.stores.campaigns.create(
      services.stores.units.alone,
      {
        id: freshId(),
        name: 'SIGTERM',
        allowExternalModification: true,
        passwordHash: await hashPassword(password, 12),
        whitelistOnly: false,
        uniqueMerchantReference: true,
      },
      Date.now(),
    );
    const transaction = await buildTransaction(services, campaign, affiliate);
    await rollUpIncluding(services, transaction.occurredAt);
    await services.close();
    // The affiliate's server holds its answer until the test lets it go.
    const heldPostbacks: http.ServerResponse[] = [];
    receiver.respond((_req, res) => heldPostbacks.push(res));

    server = await spawnServer({
      ...databaseEnv(database),
      BCRYPT_COST: '12',
      CREDENTIAL_CACHE_SIZE: '0',
      POSTBACK_ALLOW_PRIVATE_NETWORKS: 'true',
      NIGHTLY_SCHEDULE: 'off',
    });
    const running = server;
    let ended = false;
    void running.exited.then(() => (ended = true));
    await eventually('/healthz 200', async () =>
      (await fetch(`${running.baseUrl}/healthz`)).status === 200 ? true : undefined,
    );

    const first = await editByGet(
      running.baseUrl,
      editParameters(password, transaction.id, 'before SIGTERM', { AP: '5', MP: '50', A: 'yes' }),
    );
    expect(first.answer.succeeded).toBe('True');
    await eventually('the postback reaching the affiliate', async () =>
      heldPostbacks.length === 1 ? true : undefined,
    );
    const leased = await database.db.knex('postback_deliveries').where({ transaction_id: transaction.id }).first();
    expect(leased.lease_owner).toEqual(expect.stringContaining(`:${running.pid}:`));

    const form = new URLSearchParams({
      Password: password,
      Transactionid: String(transaction.id),
      AP: '6',
      REASON: 'in flight at SIGTERM',
    }).toString();
    const held = await heldRequest(running.port, form);
    running.kill('SIGTERM');
    await running.waitForLog((line) => line.msg === 'shutting down');
    // The signal is handled asynchronously, so a connection may still slip in just as it lands; then the
    // listener is closed while the held request is still in flight.
    await eventually(
      'new connections refused',
      async () => ((await tryConnect(running.port)) === 'ECONNREFUSED' ? true : undefined),
      10_000,
    );

    held.release();
    const answer = await held.answer;
    expect(answer.statusLine).toBe('HTTP/1.1 200 OK');
    expect(answer.headers['content-type']).toBe('text/xml; charset=utf-8');
    // The client is told the connection ends with this answer (Node would otherwise keep it open for more).
    expect(answer.headers.connection).toBe('close');
    expect(parseLinkTrustXml(answer.body)).toMatchObject({
      succeeded: 'True',
      error: null,
      supplied: { TransactionId: String(transaction.id), AP: '6', REASON: 'in flight at SIGTERM' },
    });

    // Still waiting for the postback in flight: the affiliate has not answered yet.
    expect(ended).toBe(false);
    heldPostbacks[0].end('ok');
    expect(await running.exited).toEqual({ code: 0, signal: null });
    expect(running.logs().map((line) => line.msg)).toContain('stopped');

    const history = await database.db.knex('modifications').where({ transaction_id: transaction.id }).orderBy('id');
    expect(history.map((row) => row.reason)).toEqual(['before SIGTERM', 'in flight at SIGTERM']);
    const delivery = await database.db.knex('postback_deliveries').where({ transaction_id: transaction.id }).first();
    expect(delivery).toMatchObject({ status: 'delivered', lease_owner: null, lease_expires_at: null });
    expect(Number(delivery.attempts)).toBe(1);
  }, 90_000);
});
