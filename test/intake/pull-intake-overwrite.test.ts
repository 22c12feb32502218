import fs from 'node:fs';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { FtpSrv } from 'ftp-srv';
import { testEngines } from '../support/databases';
import { adminRequest, useTestServer } from '../support/test-server';
import { batchesOf, intakeScene, temporaryIntakeDir } from './intake-helpers';

const files = temporaryIntakeDir();
afterAll(() => files.remove());

const silent = { child: () => silent, trace() {}, debug() {}, info() {}, warn() {}, error() {}, fatal() {} };

/** The brand's FTP server: ftp-srv lists with a plain LIST (no MLSD), so exact times come from MDTM. */
async function brandServer(root: string) {
  const server = new FtpSrv({
    url: 'ftp://127.0.0.1:0',
    pasv_url: '127.0.0.1',
    anonymous: false,
    log: silent as never,
  });
  server.on('login', ({ username, password }, resolve, reject) =>
    username === 'network' && password === 'brand-pw' ? resolve({ root }) : reject(new Error('no')),
  );
  await server.listen();
  const port = ((server as unknown as { server: { address(): AddressInfo } }).server.address() as AddressInfo).port;
  return { port, close: () => server.close() };
}

describe.each(testEngines())('pulling files the brand overwrites or makes too large, on %s', (engine) => {
  const context = useTestServer(engine, {
    INTAKE_DIR: path.join(files.dir, engine),
    INTAKE_ALLOW_PRIVATE_NETWORKS: 'true',
    BATCH_MAX_FILE_MB: '1',
  });
  const services = () => context.server.services;
  const api = (method: string, url: string, body?: unknown) => adminRequest(context.server.baseUrl, method, url, body);
  const brandRoot = path.join(files.dir, `brand-${engine}`);
  let brand: Awaited<ReturnType<typeof brandServer>>;
  beforeAll(async () => {
    fs.mkdirSync(brandRoot, { recursive: true });
    brand = await brandServer(brandRoot);
  });
  afterAll(() => brand.close());

  it('takes new content of the same size under the same name once its modification time moved', async () => {
    const pull = { protocol: 'ftp', host: '127.0.0.1', port: brand.port, directory: '/', username: 'network' };
    const { campaignId, file } = await intakeScene(services(), context.server.baseUrl, {
      upload: false,
      pull: { ...pull, password: 'brand-pw' },
    });
    const target = path.join(brandRoot, 'Batch_Mods.csv');
    const url = `/campaigns/${campaignId}/intake/pull`;
    fs.writeFileSync(target, file);
    fs.utimesSync(target, new Date('2026-12-01T06:00:00Z'), new Date('2026-12-01T06:00:00Z'));
    expect((await api('POST', url)).body.taken.map((t: { name: string }) => t.name)).toEqual(['Batch_Mods.csv']);

    // The next day's file: other amounts, the same number of bytes, the same name.
    const next = Buffer.from(file.toString().replaceAll('80.00', '70.00'));
    expect(next.length).toBe(file.length);
    fs.writeFileSync(target, next);
    fs.utimesSync(target, new Date('2026-12-02T06:00:00Z'), new Date('2026-12-02T06:00:00Z'));
    expect((await api('POST', url)).body.taken.map((t: { name: string }) => t.name)).toEqual(['Batch_Mods.csv']);
    expect((await api('POST', url)).body.taken).toEqual([]);
    expect(await batchesOf(services(), campaignId)).toHaveLength(2);
  });

  it('skips a file over BATCH_MAX_FILE_MB, saying so, and takes the others', async () => {
    const directory = path.join(brandRoot, 'big');
    fs.mkdirSync(directory, { recursive: true });
    const pull = { protocol: 'ftp', host: '127.0.0.1', port: brand.port, directory: '/big', username: 'network' };
    const { campaignId, file } = await intakeScene(services(), context.server.baseUrl, {
      upload: false,
      pull: { ...pull, password: 'brand-pw' },
    });
    fs.writeFileSync(path.join(directory, 'A_huge.csv'), Buffer.alloc(1024 * 1024 + 1, 'a'));
    fs.writeFileSync(path.join(directory, 'Batch_Mods.csv'), file);
    const ran = await api('POST', `/campaigns/${campaignId}/intake/pull`);
    expect(ran.body.error).toBeNull();
    expect(ran.body.taken).toEqual([
      { name: 'A_huge.csv', batchId: null, error: 'larger than BATCH_MAX_FILE_MB' },
      { name: 'Batch_Mods.csv', batchId: expect.any(Number), error: null },
    ]);
    expect((await batchesOf(services(), campaignId)).map((batch) => batch.filename)).toEqual(['Batch_Mods.csv']);
  });
});
