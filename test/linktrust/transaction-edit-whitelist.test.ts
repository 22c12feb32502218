import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createApp } from '../../src/app';
import { createTestDatabase, testEngines, TestDatabase } from '../support/databases';
import { buildCampaign, buildScene } from '../support/factories';
import { startTestServer, TestServer } from '../support/test-server';
import { documentOf, encodePairs, failure, sendEdit, success } from './edit-request';

const REFUSED = 'Permanent failure: Invalid authentication credentials';

// Whitelist-only campaigns: which client address is seen (socket, or X-Forwarded-For behind a trusted
// proxy), which entries admit it, and that a refused address is indistinguishable from a bad password.
describe.each(testEngines())('/transaction.edit whitelist on %s', (engine) => {
  let database: TestDatabase;
  let server: TestServer;
  let proxied: TestServer;
  beforeAll(async () => {
    database = await createTestDatabase(engine);
    server = await startTestServer(database.db);
    proxied = await startTestServer(database.db, { TRUST_PROXY: 'loopback' });
  });
  afterAll(async () => {
    await server?.close();
    await proxied?.close();
    await database?.drop();
  });

  /** Adds entries through the admin service (which validates and normalises), removing them after `work`. */
  async function withEntries<T>(
    entries: Array<{ address: string; campaignId: number | null }>,
    work: () => Promise<T>,
  ): Promise<T> {
    const created = [];
    for (const entry of entries) created.push(await server.services.admin.addWhitelistEntry(entry));
    try {
      return await work();
    } finally {
      for (const entry of created) await server.services.admin.removeWhitelistEntry(entry.id);
    }
  }

  async function whitelistScene() {
    const scene = await buildScene(server.services, { whitelistOnly: true });
    const send = (
      baseUrl: string,
      password = scene.campaign.password as string,
      headers: Record<string, string> = {},
    ) =>
      sendEdit(baseUrl, {
        query: encodePairs([
          ['Password', password],
          ['Transactionid', String(scene.transaction.id)],
          ['A', 'no'],
        ]),
        headers,
      });
    return { ...scene, send };
  }

  const expectAdmitted = async (answer: Awaited<ReturnType<typeof sendEdit>>, transactionId: number) =>
    expect(documentOf(answer)).toEqual(success({ TransactionId: String(transactionId), A: 'no' }));
  const expectRefused = (answer: Awaited<ReturnType<typeof sendEdit>>, transactionId: number) =>
    expect(documentOf(answer)).toEqual(
      failure('permanent', REFUSED, { TransactionId: String(transactionId), A: 'no' }),
    );

  it('refuses every address while a whitelist-only campaign has no entry, with exactly the wrong-password answer', async () => {
    const { transaction, send } = await whitelistScene();
    const refusedIp = await send(server.baseUrl);
    const wrongPassword = await withEntries([{ address: '127.0.0.1', campaignId: null }], () =>
      send(server.baseUrl, 'wrong-password'),
    );
    expectRefused(refusedIp, transaction.id);
    expect(refusedIp.body).toBe(wrongPassword.body);
    expect(refusedIp.status).toBe(wrongPassword.status);
    expect(refusedIp.headers.get('content-type')).toBe(wrongPassword.headers.get('content-type'));
  });

  it('admits an exact IPv4 entry of the campaign, and still wants the password', async () => {
    const { campaign, transaction, send } = await whitelistScene();
    await withEntries([{ address: '127.0.0.1', campaignId: campaign.id }], async () => {
      expectRefused(await send(server.baseUrl, 'wrong-password'), transaction.id);
      await expectAdmitted(await send(server.baseUrl), transaction.id);
    });
    const [row] = await server.services.stores.modifications.listForTransaction(transaction.id);
    expect(row.clientIp).toBe('127.0.0.1');
  });

  it.each([
    ['127.0.0.0/8', true],
    ['127.0.0.1/32', true],
    ['127.0.0.0/31', true],
    ['127.0.0.2/31', false],
    ['10.0.0.0/8', false],
    ['0.0.0.0/0', true],
    ['::ffff:127.0.0.1', true],
    ['::ffff:127.0.0.0/104', true],
    ['::1', false],
  ])('with the campaign entry %s admits 127.0.0.1: %s', async (address, admitted) => {
    const { campaign, transaction, send } = await whitelistScene();
    const answer = await withEntries([{ address, campaignId: campaign.id }], () => send(server.baseUrl));
    if (admitted) await expectAdmitted(answer, transaction.id);
    else expectRefused(answer, transaction.id);
  });

  it('admits through a global entry but not through an entry of another campaign', async () => {
    const { transaction, send } = await whitelistScene();
    const other = await buildCampaign(server.services, { whitelistOnly: true });
    expectRefused(
      await withEntries([{ address: '127.0.0.1', campaignId: other.id }], () => send(server.baseUrl)),
      transaction.id,
    );
    await expectAdmitted(
      await withEntries([{ address: '127.0.0.0/8', campaignId: null }], () => send(server.baseUrl)),
      transaction.id,
    );
  });

  it('does not consult the whitelist of a campaign that is not whitelist-only', async () => {
    const { campaign, transaction } = await buildScene(server.services, { whitelistOnly: false });
    const answer = await withEntries([{ address: '10.0.0.0/8', campaignId: campaign.id }], () =>
      sendEdit(server.baseUrl, {
        query: encodePairs([
          ['Password', campaign.password as string],
          ['Transactionid', String(transaction.id)],
          ['A', 'no'],
        ]),
      }),
    );
    await expectAdmitted(answer, transaction.id);
  });

  it('admits an IPv6 client by an IPv6 entry, in any spelling, and refuses it by an IPv4 loopback entry', async () => {
    const ipv6 = http.createServer(createApp(server.services));
    await new Promise<void>((resolve) => ipv6.listen(0, '::1', resolve));
    const baseUrl = `http://[::1]:${(ipv6.address() as AddressInfo).port}`;
    try {
      for (const [address, admitted] of [
        ['::1', true],
        ['0:0:0:0:0:0:0:1', true],
        ['::1/128', true],
        ['::/0', true],
        ['127.0.0.1', false],
        ['2001:db8::/32', false],
      ] as Array<[string, boolean]>) {
        const { campaign, transaction, send } = await whitelistScene();
        const answer = await withEntries([{ address, campaignId: campaign.id }], () => send(baseUrl));
        if (admitted) {
          await expectAdmitted(answer, transaction.id);
          expect((await server.services.stores.modifications.listForTransaction(transaction.id))[0].clientIp).toBe(
            '::1',
          );
        } else expectRefused(answer, transaction.id);
      }
    } finally {
      ipv6.closeAllConnections();
      await new Promise((resolve) => ipv6.close(resolve));
    }
  });

  describe('behind a trusted proxy (TRUST_PROXY=loopback)', () => {
    it.each([
      ['203.0.113.7', '203.0.113.7', '203.0.113.7'],
      ['203.0.113.7', '203.0.113.0/24', '203.0.113.7'],
      ['::ffff:203.0.113.7', '203.0.113.7', '203.0.113.7'],
      ['2001:db8::7', '2001:db8::/32', '2001:db8::7'],
      ['198.51.100.1, 203.0.113.7', '203.0.113.7', '203.0.113.7'],
      // Proxies that write ports, IPv4-mapped IPv6 in any spelling, IPv6 in any case.
      ['203.0.113.66:40001', '203.0.113.66', '203.0.113.66'],
      ['[2001:db8::1]:443', '2001:db8::/32', '2001:db8::1'],
      ['[2001:db8::2]', '2001:db8::2', '2001:db8::2'],
      ['2001:DB8:0::3', '2001:db8::3', '2001:db8::3'],
      ['::ffff:a01:101', '10.1.1.1', '10.1.1.1'],
      ['[::ffff:a01:102]:8443', '10.1.1.0/24', '10.1.1.2'],
      ['198.51.100.1:1, 203.0.113.9:2', '203.0.113.9', '203.0.113.9'],
      // A trusted proxy's own entry with a port is still the trusted proxy.
      ['203.0.113.10, 127.0.0.1:8080', '203.0.113.10', '203.0.113.10'],
    ])('takes X-Forwarded-For %s as the client, admitted by %s', async (forwardedFor, address, clientIp) => {
      const { campaign, transaction, send } = await whitelistScene();
      const answer = await withEntries([{ address, campaignId: campaign.id }], () =>
        send(proxied.baseUrl, undefined, { 'x-forwarded-for': forwardedFor }),
      );
      await expectAdmitted(answer, transaction.id);
      expect((await server.services.stores.modifications.listForTransaction(transaction.id))[0].clientIp).toBe(
        clientIp,
      );
    });

    it("refuses the proxy's own address when it forwards for a client that is not listed", async () => {
      const { campaign, transaction, send } = await whitelistScene();
      const answer = await withEntries([{ address: '127.0.0.1', campaignId: campaign.id }], () =>
        send(proxied.baseUrl, undefined, { 'x-forwarded-for': '198.51.100.1' }),
      );
      expectRefused(answer, transaction.id);
    });
  });

  describe('trusting every proxy (TRUST_PROXY=true)', () => {
    it('records no client IP, and fails nothing, when X-Forwarded-For holds something that is not an address', async () => {
      const trusting = await startTestServer(database.db, { TRUST_PROXY: 'true' });
      try {
        const { transaction, send } = await buildScene(server.services).then(async (scene) => ({
          ...scene,
          send: (headers: Record<string, string>) =>
            sendEdit(trusting.baseUrl, {
              query: encodePairs([
                ['Password', scene.campaign.password as string],
                ['Transactionid', String(scene.transaction.id)],
                ['A', 'no'],
              ]),
              headers,
            }),
        }));
        await expectAdmitted(await send({ 'x-forwarded-for': `client-${'x'.repeat(60)}` }), transaction.id);
        expect(
          (await server.services.stores.modifications.listForTransaction(transaction.id)).map((row) => row.clientIp),
        ).toEqual([null]);
      } finally {
        await trusting.close();
      }
    });
  });

  describe('with no trusted proxy (the default)', () => {
    it('ignores a spoofed X-Forwarded-For naming a listed address', async () => {
      const { campaign, transaction, send } = await whitelistScene();
      const answer = await withEntries([{ address: '203.0.113.7', campaignId: campaign.id }], () =>
        send(server.baseUrl, undefined, { 'x-forwarded-for': '203.0.113.7' }),
      );
      expectRefused(answer, transaction.id);
    });

    it('uses the socket address, whatever X-Forwarded-For says', async () => {
      const { campaign, transaction, send } = await whitelistScene();
      const answer = await withEntries([{ address: '127.0.0.1', campaignId: campaign.id }], () =>
        send(server.baseUrl, undefined, { 'x-forwarded-for': '198.51.100.1' }),
      );
      await expectAdmitted(answer, transaction.id);
      expect((await server.services.stores.modifications.listForTransaction(transaction.id))[0].clientIp).toBe(
        '127.0.0.1',
      );
    });
  });
});
