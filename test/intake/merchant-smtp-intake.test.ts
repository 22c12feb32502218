import path from 'node:path';
import nodemailer, { type SendMailOptions } from 'nodemailer';
import type { Services } from '../../src/composition';
import { consoleClient } from '../console/console-client';
import { twoMerchants } from '../merchants/merchant-scene';
import { testEngines } from '../support/databases';
import { adminRequest, useTestServer } from '../support/test-server';
import { appliedCodes, batchesOf, merchantIntakeScene, temporaryIntakeDir } from './intake-helpers';

const files = temporaryIntakeDir();
afterAll(() => files.remove());

/** A merchant's own batches (not its campaigns' intakes'), newest first. */
const merchantBatches = (services: Services, merchantId: number) => services.batches.list({ limit: 100, merchantId });

describe.each(testEngines())("a merchant's e-mail intake address (nodemailer to smtp-server), on %s", (engine) => {
  const context = useTestServer(engine, {
    INTAKE_DIR: path.join(files.dir, engine),
    INTAKE_HOST: '127.0.0.1',
    SMTP_PORT: '0',
    SMTP_DOMAIN: 'files.example.test',
    TLS_CERT_FILE: files.cert,
    TLS_KEY_FILE: files.key,
  });
  const services = () => context.server.services;
  const api = (method: string, url: string, body?: unknown) => adminRequest(context.server.baseUrl, method, url, body);
  let send: (message: SendMailOptions) => Promise<unknown>;
  beforeAll(async () => {
    const port = (await services().intakeServers.start()).smtp ?? 0;
    const transport = nodemailer.createTransport({
      host: '127.0.0.1',
      port,
      secure: false,
      requireTLS: true,
      tls: { rejectUnauthorized: false },
    });
    send = (message) => transport.sendMail(message);
  });

  /** The intake scene's two campaigns, each owned by a merchant (e-mail off for both campaigns). */
  const twoMerchantsScene = () =>
    merchantIntakeScene(services(), context.server.baseUrl, { upload: false, email: false });

  /** Gives the merchant a (new) address and answers it. */
  async function newAddress(merchantId: number): Promise<string> {
    const given = await api('POST', `/merchants/${merchantId}/intake/email-address`);
    expect(given.status).toBe(200);
    expect(given.body).toEqual({
      merchantId,
      emailAddress: expect.stringMatching(/^[0-9a-f]{20}@files\.example\.test$/),
    });
    return given.body.emailAddress;
  }

  it("takes an attachment as the merchant's batch, once per Message-ID: its own action applied, another's not found", async () => {
    const { merchantId, rivalId, file } = await twoMerchantsScene();
    expect((await api('GET', `/merchants/${merchantId}/intake/email-address`)).body).toEqual({
      merchantId,
      emailAddress: null,
    });
    const address = await newAddress(merchantId);
    expect((await api('GET', `/merchants/${merchantId}/intake/email-address`)).body).toEqual({
      merchantId,
      emailAddress: address,
    });
    const message = {
      from: 'Ops <ops@brand.example>',
      to: address,
      text: '',
      messageId: `<m${merchantId}.1@brand.example>`,
      attachments: [
        { filename: 'Batch_Mods.csv', content: file },
        { filename: 'readme.txt', content: 'not a modifications file' },
      ],
    };
    await send(message);
    await send(message);
    const batches = await merchantBatches(services(), merchantId);
    expect(batches).toHaveLength(1);
    expect(batches[0]).toMatchObject({
      filename: 'Batch_Mods.csv',
      channel: 'email',
      campaignId: null,
      merchantId,
      submittedBy: 'ops@brand.example',
      kind: 'impact',
      records: 2,
    });
    expect(await appliedCodes(services(), context.server.baseUrl, batches[0].id)).toEqual([
      [1, 'OK', 'MODIFIED'],
      [2, 'Validation', 'ACTION_NOT_FOUND'],
    ]);
    expect(await merchantBatches(services(), rivalId)).toEqual([]);

    // The same message to the rival's own address is the rival's file (claims are per owner), and its rows
    // touch only the rival's campaign: the first merchant's address made nothing of the rival's.
    const rivalAddress = await newAddress(rivalId);
    await send({ ...message, to: rivalAddress });
    const [rivalBatch] = await merchantBatches(services(), rivalId);
    expect(rivalBatch).toMatchObject({ channel: 'email', campaignId: null, merchantId: rivalId });
    expect(await appliedCodes(services(), context.server.baseUrl, rivalBatch.id)).toEqual([
      [1, 'Validation', 'ACTION_NOT_FOUND'],
      [2, 'OK', 'MODIFIED'],
    ]);
    expect(await merchantBatches(services(), merchantId)).toHaveLength(1);
  });

  it('refuses a replaced and a retired address at RCPT TO', async () => {
    const { merchantId, file } = await twoMerchantsScene();
    const first = await newAddress(merchantId);
    const second = await newAddress(merchantId);
    expect(second).not.toBe(first);
    const mail = (to: string, name: string) =>
      send({ from: 'ops@brand.example', to, attachments: [{ filename: name, content: file }] });
    await expect(mail(first, 'old.csv')).rejects.toMatchObject({ responseCode: 550 });
    await mail(second, 'new.csv');
    expect((await merchantBatches(services(), merchantId)).map((b) => b.filename)).toEqual(['new.csv']);

    const url = `/merchants/${merchantId}/intake/email-address`;
    expect((await api('DELETE', url)).status).toBe(204);
    expect((await api('DELETE', url)).status).toBe(404);
    expect((await api('GET', url)).body).toEqual({ merchantId, emailAddress: null });
    await expect(mail(second, 'late.csv')).rejects.toMatchObject({ responseCode: 550 });
    expect((await merchantBatches(services(), merchantId)).map((b) => b.filename)).toEqual(['new.csv']);
  });

  it("keeps a merchant's claim of a Message-ID apart from a campaign's of the same number", async () => {
    // A campaign whose id is the merchant's: without the merchant's own key prefix their claims would meet.
    const merchant = await api('POST', '/merchants', { name: 'Same number' });
    const campaign = await api('POST', '/campaigns', { id: merchant.body.id, name: 'Same number' });
    expect(campaign.status).toBe(201);
    const set = await api('PUT', `/campaigns/${merchant.body.id}/intake`, { upload: false, email: true, pull: null });
    const merchantAddress = await newAddress(merchant.body.id);
    const message = {
      from: 'ops@brand.example',
      messageId: `<same-number.${merchant.body.id}@brand.example>`,
      attachments: [{ filename: 'same.csv', content: 'ActionId,Amount,Reason\n1000.1,1.00,ORDER_UPDATE\n' }],
    };
    await send({ ...message, to: set.body.emailAddress });
    await send({ ...message, to: merchantAddress });
    expect((await batchesOf(services(), merchant.body.id)).map((b) => [b.campaignId, b.merchantId])).toEqual([
      [merchant.body.id, null],
    ]);
    expect((await merchantBatches(services(), merchant.body.id)).map((b) => [b.campaignId, b.merchantId])).toEqual([
      [null, merchant.body.id],
    ]);
  });

  it("shows a merchant user its own merchant's address on the Batches page, never another's", async () => {
    const [acme, globex] = await twoMerchants(context.server.baseUrl, services());
    const address = await newAddress(acme.merchant.id);
    const line = (body: string) => /E-mail files to: <code>([^<]*)<\/code>/.exec(body)?.[1] ?? null;
    const acmePage = await acme.client.get('/admin/batches');
    expect([acmePage.status, line(acmePage.body)]).toEqual([200, address]);
    const globexPage = await globex.client.get('/admin/batches');
    expect([globexPage.status, line(globexPage.body)]).toEqual([200, null]);
    expect(globexPage.body).not.toContain(address);
    const admin = await consoleClient(context.server.baseUrl);
    expect((await admin.get('/admin/batches')).body).not.toContain('E-mail files to');

    expect((await api('DELETE', `/merchants/${acme.merchant.id}/intake/email-address`)).status).toBe(204);
    expect(line((await acme.client.get('/admin/batches')).body)).toBeNull();
  });

  it('answers an unknown merchant with 404 on each route, as GET /merchants/:id does', async () => {
    const missing = await api('GET', '/merchants/987654321');
    expect([missing.status, missing.body.error.message]).toEqual([404, 'merchant 987654321 not found']);
    for (const method of ['GET', 'POST', 'DELETE']) {
      const answer = await api(method, '/merchants/987654321/intake/email-address');
      expect([method, answer.status, answer.body]).toEqual([method, 404, missing.body]);
    }
  });
});

describe.each(testEngines())("a merchant's e-mail address without SMTP_DOMAIN, on %s", (engine) => {
  const context = useTestServer(engine, {});
  const api = (method: string, url: string) => adminRequest(context.server.baseUrl, method, url);

  it('refuses to give one (409) and shows none', async () => {
    const created = await adminRequest(context.server.baseUrl, 'POST', '/merchants', { name: 'No mail' });
    const url = `/merchants/${created.body.id}/intake/email-address`;
    const refused = await api('POST', url);
    expect([refused.status, refused.body.error.message]).toEqual([409, 'e-mail intake is off: set SMTP_DOMAIN']);
    expect((await api('GET', url)).body).toEqual({ merchantId: created.body.id, emailAddress: null });
    expect((await api('DELETE', url)).status).toBe(404);
  });
});
