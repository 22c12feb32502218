import path from 'node:path';
import nodemailer from 'nodemailer';
import { testEngines } from '../support/databases';
import { adminRequest, useTestServer } from '../support/test-server';
import { batchesOf, intakeScene, temporaryIntakeDir } from './intake-helpers';

const files = temporaryIntakeDir();
afterAll(() => files.remove());

/** A raw message as a brand's script might write it: no Message-ID, no Date, one attachment. */
function rawMessage(from: string, to: string[], filename: string, content: string): string {
  const boundary = 'b1';
  return [
    `From: ${from}`,
    `To: ${to.join(', ')}`,
    'MIME-Version: 1.0',
    `Content-Type: multipart/mixed; boundary="${boundary}"`,
    '',
    `--${boundary}`,
    'Content-Type: text/plain',
    '',
    '',
    `--${boundary}`,
    `Content-Type: text/csv; name="${filename}"`,
    `Content-Disposition: attachment; filename="${filename}"`,
    'Content-Transfer-Encoding: base64',
    '',
    Buffer.from(content).toString('base64'),
    `--${boundary}--`,
    '',
  ].join('\r\n');
}

describe.each(testEngines())('e-mail intake: which messages count as the same, on %s', (engine) => {
  const context = useTestServer(engine, {
    INTAKE_DIR: path.join(files.dir, engine),
    INTAKE_HOST: '127.0.0.1',
    SMTP_PORT: '0',
    SMTP_DOMAIN: 'files.example.test',
    BATCH_MAX_FILE_MB: '1',
  });
  const services = () => context.server.services;
  let sendRaw: (from: string, to: string[], raw: string) => Promise<unknown>;
  beforeAll(async () => {
    const port = (await services().intakeServers.start()).smtp ?? 0;
    const transport = nodemailer.createTransport({ host: '127.0.0.1', port, secure: false, ignoreTLS: true });
    sendRaw = (from, to, raw) => transport.sendMail({ envelope: { from, to }, raw });
  });

  async function emailScene() {
    const scene = await intakeScene(services(), context.server.baseUrl, { upload: false, email: true });
    const shown = await adminRequest(context.server.baseUrl, 'GET', `/campaigns/${scene.campaignId}/intake`);
    return { ...scene, address: shown.body.emailAddress as string };
  }

  it('takes two different files from messages without Message-ID or Date, and a repeated one once', async () => {
    const { campaignId, address, file } = await emailScene();
    const from = 'ops@brand.example';
    await sendRaw(from, [address], rawMessage(from, [address], 'monday.csv', file.toString()));
    await sendRaw(from, [address], rawMessage(from, [address], 'tuesday.csv', file.toString()));
    await sendRaw(from, [address], rawMessage(from, [address], 'tuesday.csv', file.toString()));
    const names = (await batchesOf(services(), campaignId)).map((batch) => batch.filename).sort();
    expect(names).toEqual(['monday.csv', 'tuesday.csv']);
  });

  it('gives each campaign addressed in To: its own batch of one message', async () => {
    const first = await emailScene();
    const second = await emailScene();
    const from = 'ops@brand.example';
    const to = [first.address, second.address];
    await sendRaw(from, to, rawMessage(from, to, 'both.csv', first.file.toString()));
    expect((await batchesOf(services(), first.campaignId)).map((b) => b.filename)).toEqual(['both.csv']);
    expect((await batchesOf(services(), second.campaignId)).map((b) => b.filename)).toEqual(['both.csv']);
  });
});
