import fs from 'node:fs';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { FtpSrv } from 'ftp-srv';
import { testEngines } from '../support/databases';
import { adminRequest, useTestServer } from '../support/test-server';
import { appliedCodes, batchesOf, intakeScene, temporaryIntakeDir } from './intake-helpers';

const files = temporaryIntakeDir();
afterAll(() => files.remove());

const silent = { child: () => silent, trace() {}, debug() {}, info() {}, warn() {}, error() {}, fatal() {} };

/** The brand's own FTP server (ftp-srv over a directory), explicit TLS offered. */
async function brandServer(root: string) {
  const server = new FtpSrv({
    url: 'ftp://127.0.0.1:0',
    pasv_url: '127.0.0.1',
    anonymous: false,
    tls: { cert: fs.readFileSync(files.cert), key: fs.readFileSync(files.key) },
    log: silent as never,
  });
  server.on('login', ({ username, password }, resolve, reject) =>
    username === 'network' && password === 'brand-pw' ? resolve({ root }) : reject(new Error('no')),
  );
  await server.listen();
  const port = ((server as unknown as { server: { address(): AddressInfo } }).server.address() as AddressInfo).port;
  return { port, close: () => server.close() };
}

describe.each(testEngines())('pulling from the brand’s FTP server, on %s', (engine) => {
  const context = useTestServer(engine, {
    INTAKE_DIR: path.join(files.dir, engine),
    INTAKE_ALLOW_PRIVATE_NETWORKS: 'true',
    INTAKE_PULL_VERIFY_TLS: 'false',
  });
  const services = () => context.server.services;
  const api = (method: string, url: string, body?: unknown) => adminRequest(context.server.baseUrl, method, url, body);
  const brandRoot = path.join(files.dir, `brand-${engine}`);
  let brand: Awaited<ReturnType<typeof brandServer>>;
  beforeAll(async () => {
    fs.mkdirSync(path.join(brandRoot, 'out'), { recursive: true });
    brand = await brandServer(brandRoot);
  });
  afterAll(() => brand.close());

  it.each(['ftp', 'ftps'] as const)(
    'takes each new .csv/.xml file once over %s, leaving the brand’s files',
    async (protocol) => {
      const directory = path.join(brandRoot, 'out', protocol);
      fs.mkdirSync(directory, { recursive: true });
      const pull = {
        protocol,
        host: '127.0.0.1',
        port: brand.port,
        directory: `/out/${protocol}`,
        username: 'network',
        password: 'brand-pw',
      };
      const { campaignId, file } = await intakeScene(services(), context.server.baseUrl, { upload: false, pull });
      fs.writeFileSync(path.join(directory, 'Batch_Mods.csv'), file);
      fs.writeFileSync(path.join(directory, 'readme.txt'), 'not taken');
      const url = `/campaigns/${campaignId}/intake/pull`;

      const first = await api('POST', url);
      expect(first.status).toBe(200);
      expect(first.body).toMatchObject({ error: null, taken: [{ name: 'Batch_Mods.csv', error: null }] });
      const [batch] = await batchesOf(services(), campaignId);
      expect(batch).toMatchObject({
        id: first.body.taken[0].batchId,
        channel: 'pull',
        campaignId,
        submittedBy: 'network@127.0.0.1',
        records: 2,
      });
      expect(await appliedCodes(services(), context.server.baseUrl, batch.id)).toEqual([
        [1, 'OK', 'MODIFIED'],
        [2, 'Validation', 'ACTION_NOT_FOUND'],
      ]);
      expect(fs.readdirSync(directory).sort()).toEqual(['Batch_Mods.csv', 'readme.txt']);

      // Nothing new: the same file, and the same content under another name, are not taken again.
      fs.copyFileSync(path.join(directory, 'Batch_Mods.csv'), path.join(directory, 'copy.csv'));
      expect((await api('POST', url)).body).toMatchObject({ error: null, taken: [] });
      fs.writeFileSync(path.join(directory, 'next.XML'), '<Actions><Action><ActionId>1</ActionId></Action></Actions>');
      expect((await api('POST', url)).body.taken.map((t: { name: string }) => t.name)).toEqual(['next.XML']);
      expect((await batchesOf(services(), campaignId)).length).toBe(2);
      const shown = await api('GET', `/campaigns/${campaignId}/intake`);
      expect(shown.body.lastPull).toMatchObject({ taken: 1, error: null });
    },
  );

  it('records connection trouble as the last attempt and its error', async () => {
    const pull = { protocol: 'ftp', host: '127.0.0.1', port: brand.port, username: 'network', password: 'wrong' };
    const { campaignId } = await intakeScene(services(), context.server.baseUrl, { upload: false, pull });
    const ran = await api('POST', `/campaigns/${campaignId}/intake/pull`);
    expect(ran.body.taken).toEqual([]);
    expect(ran.body.error).toMatch(/^530 /);
    const shown = await api('GET', `/campaigns/${campaignId}/intake`);
    expect(shown.body.lastPull).toEqual({ at: ran.body.at, taken: 0, error: ran.body.error });
    expect(await batchesOf(services(), campaignId)).toEqual([]);
  });
});
