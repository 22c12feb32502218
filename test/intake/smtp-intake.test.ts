import path from 'node:path';
import nodemailer, { type SendMailOptions } from 'nodemailer';
import { testEngines } from '../support/databases';
import { adminRequest, useTestServer } from '../support/test-server';
import { appliedCodes, batchesOf, intakeScene, temporaryIntakeDir } from './intake-helpers';

const files = temporaryIntakeDir();
afterAll(() => files.remove());

describe.each(testEngines())('e-mail intake (nodemailer to smtp-server, STARTTLS), on %s', (engine) => {
  const context = useTestServer(engine, {
    INTAKE_DIR: path.join(files.dir, engine),
    INTAKE_HOST: '127.0.0.1',
    SMTP_PORT: '0',
    SMTP_DOMAIN: 'files.example.test',
    TLS_CERT_FILE: files.cert,
    TLS_KEY_FILE: files.key,
    BATCH_MAX_FILE_MB: '1',
  });
  const services = () => context.server.services;
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

  /** A campaign taking e-mail, its address, and the impact scene's file. */
  async function emailScene() {
    const scene = await intakeScene(services(), context.server.baseUrl, { upload: false, email: true });
    const shown = await adminRequest(context.server.baseUrl, 'GET', `/campaigns/${scene.campaignId}/intake`);
    return { ...scene, address: shown.body.emailAddress as string };
  }

  it('takes each .csv/.xml attachment of a message to the address as a batch, once per Message-ID', async () => {
    const { campaignId, address, file } = await emailScene();
    const message = {
      from: 'Ops <ops@brand.example>',
      to: address,
      subject: '',
      text: '',
      messageId: `<${campaignId}.1@brand.example>`,
      attachments: [
        { filename: 'Batch_Mods.csv', content: file },
        { filename: 'readme.txt', content: 'not a modifications file' },
      ],
    };
    await send(message);
    await send(message);
    const batches = await batchesOf(services(), campaignId);
    expect(batches).toHaveLength(1);
    expect(batches[0]).toMatchObject({
      filename: 'Batch_Mods.csv',
      channel: 'email',
      campaignId,
      submittedBy: 'ops@brand.example',
      records: 2,
    });
    expect(await appliedCodes(services(), context.server.baseUrl, batches[0].id)).toEqual([
      [1, 'OK', 'MODIFIED'],
      [2, 'Validation', 'ACTION_NOT_FOUND'],
    ]);
  });

  it('refuses unknown and retired recipients at RCPT TO, and ignores Cc copies', async () => {
    const first = await emailScene();
    const second = await emailScene();
    const refused = send({
      from: 'ops@brand.example',
      to: `nobody@files.example.test`,
      text: 'x',
      attachments: [{ filename: 'a.csv', content: first.file }],
    });
    await expect(refused).rejects.toMatchObject({ responseCode: 550 });

    await send({
      from: 'ops@brand.example',
      to: first.address,
      cc: second.address,
      messageId: `<${first.campaignId}.cc@brand.example>`,
      attachments: [{ filename: 'cc.csv', content: first.file }],
    });
    expect((await batchesOf(services(), first.campaignId)).map((b) => b.filename)).toEqual(['cc.csv']);
    expect(await batchesOf(services(), second.campaignId)).toEqual([]);

    const renewed = await adminRequest(
      context.server.baseUrl,
      'POST',
      `/campaigns/${first.campaignId}/intake/email-address`,
    );
    expect(renewed.status).toBe(200);
    await expect(
      send({ from: 'ops@brand.example', to: first.address, attachments: [{ filename: 'b.csv', content: 'x' }] }),
    ).rejects.toMatchObject({ responseCode: 550 });
  });

  it('refuses a message larger than BATCH_MAX_FILE_MB', async () => {
    const { campaignId, address } = await emailScene();
    const big = Buffer.alloc(1_200_000, 'a');
    await expect(
      send({ from: 'ops@brand.example', to: address, attachments: [{ filename: 'big.csv', content: big }] }),
    ).rejects.toMatchObject({ responseCode: 552 });
    expect(await batchesOf(services(), campaignId)).toEqual([]);
  });
});
