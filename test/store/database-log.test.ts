import net from 'node:net';
import { classifyDatabaseError } from '../../src/store/database-errors';
import { openDatabase } from '../../src/store/database';
import { startTcpProxy, throughProxy } from '../support/tcp-proxy';

/** A loopback port nothing listens on: connecting is refused at once. */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

// An unreachable MariaDB is an expected fault: the query's caller gets the connection error and answers
// it. knex's own "Acquire connection error" warning (with a stack trace) only repeated it — on the
// console of every MariaDB test run — and is dropped; anything else knex says still gets through.
describe("knex's warnings about the database", () => {
  let url: string;
  beforeAll(async () => {
    url = `mysql://root@127.0.0.1:${await closedPort()}/txedit`;
  });

  it('keeps the connection error for the caller and out of the given log', async () => {
    const warnings: string[] = [];
    const errors: string[] = [];
    const db = openDatabase(
      { client: 'mysql', url },
      { log: { warn: (m) => warnings.push(m), error: (m) => errors.push(m) } },
    );
    try {
      const failure = await db.knex.raw('select 1').then(
        () => null,
        (error: unknown) => error,
      );
      expect(classifyDatabaseError(failure)).toBe('connection');
      expect({ warnings, errors }).toEqual({ warnings: [], errors: [] });
      // What is not a repeated connection error still reaches the log.
      (db.knex.client as { logger: { warn(message: string): void } }).logger.warn('Something unexpected');
      expect(warnings).toEqual(['Something unexpected']);
    } finally {
      await db.knex.destroy();
    }
  });

  it('prints nothing on the console for it without a log of its own, but other warnings still', async () => {
    const printed: unknown[][] = [];
    const spies = (['log', 'warn', 'error'] as const).map((method) =>
      jest.spyOn(console, method).mockImplementation((...args: unknown[]) => void printed.push(args)),
    );
    const db = openDatabase({ client: 'mysql', url });
    try {
      await expect(db.knex.raw('select 1')).rejects.toThrow(/ECONNREFUSED/);
      expect(printed).toEqual([]);
      (db.knex.client as { logger: { warn(message: string): void } }).logger.warn('Something unexpected');
      expect(printed).toEqual([['Something unexpected']]);
    } finally {
      for (const spy of spies) spy.mockRestore();
      await db.knex.destroy();
    }
  });

  // The pool finds a lent-out connection closed by the server when it next validates it, drops it and
  // lends a fresh one: the query succeeds, and knex's "Connection Error: … Connection lost" is not news.
  (process.env.TEST_MYSQL_URL ? it : it.skip)(
    'says nothing when the pool replaces a connection the server closed',
    async () => {
      const proxy = await startTcpProxy();
      const printed: unknown[][] = [];
      const spies = (['log', 'warn', 'error'] as const).map((method) =>
        jest.spyOn(console, method).mockImplementation((...args: unknown[]) => void printed.push(args)),
      );
      const db = openDatabase({ client: 'mysql', url: throughProxy(process.env.TEST_MYSQL_URL as string, proxy) });
      try {
        await db.knex.raw('select 1');
        proxy.cutAll();
        await new Promise((resolve) => setTimeout(resolve, 100));
        await db.knex.raw('select 1');
        expect(printed).toEqual([]);
      } finally {
        for (const spy of spies) spy.mockRestore();
        await db.knex.destroy();
        await proxy.close();
      }
    },
  );
});
