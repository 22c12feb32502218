import crypto from 'node:crypto';
import fs from 'node:fs';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { Server, utils, type SFTPWrapper } from 'ssh2';
import { testEngines } from '../support/databases';
import { adminRequest, useTestServer } from '../support/test-server';
import { appliedCodes, batchesOf, intakeScene, temporaryIntakeDir } from './intake-helpers';

const files = temporaryIntakeDir();
afterAll(() => files.remove());

const { STATUS_CODE, OPEN_MODE } = utils.sftp;

/** What the brand's server was asked to do, so a test can see it never wrote or removed anything. */
const requests: string[] = [];

/** The brand's own SFTP server (ssh2) over one flat directory: list, stat and read only. */
async function brandSftpServer(root: string) {
  const hostKey = utils.generateKeyPairSync('ed25519').private;
  const server = new Server({ hostKeys: [hostKey] }, (client) => {
    client.on('authentication', (context) =>
      context.method === 'password' && context.username === 'network' && context.password === 'brand-pw'
        ? context.accept()
        : context.reject(['password']),
    );
    client.on('ready', () =>
      client.on('session', (accept) => accept().on('sftp', (acceptSftp) => serve(acceptSftp(), root))),
    );
    client.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  // What ssh2's `hostHash: 'sha256'` hands a client: the SHA-256 of the public key's SSH encoding, in hex.
  const parsed = utils.parseKey(hostKey);
  const publicSsh = (Array.isArray(parsed) ? parsed[0] : parsed) as { getPublicSSH(): Buffer };
  const hostKeySha256 = crypto.createHash('sha256').update(publicSsh.getPublicSSH()).digest('hex');
  return { port: (server.address() as AddressInfo).port, hostKeySha256, close: () => server.close() };
}

function serve(sftp: SFTPWrapper, root: string) {
  const open = new Map<string, { file?: Buffer; listed?: boolean }>();
  let next = 0;
  const local = (name: string) => path.join(root, path.basename(name));
  const attrs = (stat: fs.Stats) => ({
    mode: stat.mode,
    uid: 0,
    gid: 0,
    size: stat.size,
    atime: Math.floor(stat.atimeMs / 1000),
    mtime: Math.floor(stat.mtimeMs / 1000),
  });
  for (const request of ['WRITE', 'REMOVE', 'RENAME', 'MKDIR', 'RMDIR', 'SETSTAT', 'FSETSTAT'] as const)
    sftp.on(request as 'REMOVE', (reqId: number) => {
      requests.push(request);
      sftp.status(reqId, STATUS_CODE.PERMISSION_DENIED);
    });
  sftp.on('REALPATH', (reqId, wanted) =>
    sftp.name(reqId, [{ filename: wanted, longname: wanted, attrs: {} as never }]),
  );
  sftp.on('OPENDIR', (reqId) => {
    const handle = String(++next);
    open.set(handle, { listed: false });
    sftp.handle(reqId, Buffer.from(handle));
  });
  sftp.on('READDIR', (reqId, handle) => {
    const entry = open.get(handle.toString());
    if (!entry || entry.listed) return sftp.status(reqId, STATUS_CODE.EOF);
    entry.listed = true;
    const names = fs.readdirSync(root).map((name) => {
      const stat = fs.statSync(path.join(root, name));
      return { filename: name, longname: name, attrs: attrs(stat) };
    });
    sftp.name(reqId, names);
  });
  sftp.on('OPEN', (reqId, filename, flags) => {
    requests.push(`OPEN ${path.basename(filename)}`);
    if (flags & OPEN_MODE.WRITE) return sftp.status(reqId, STATUS_CODE.PERMISSION_DENIED);
    const handle = String(++next);
    open.set(handle, { file: fs.readFileSync(local(filename)) });
    sftp.handle(reqId, Buffer.from(handle));
  });
  sftp.on('READ', (reqId, handle, offset, length) => {
    const file = open.get(handle.toString())?.file;
    if (!file || offset >= file.length) return sftp.status(reqId, STATUS_CODE.EOF);
    sftp.data(reqId, file.subarray(offset, offset + length));
  });
  sftp.on('FSTAT', (reqId, handle) => {
    const file = open.get(handle.toString())?.file;
    sftp.attrs(reqId, { mode: 0o100644, uid: 0, gid: 0, size: file?.length ?? 0, atime: 0, mtime: 0 });
  });
  const stat = (reqId: number, name: string) => sftp.attrs(reqId, attrs(fs.statSync(local(name))));
  sftp.on('STAT', stat);
  sftp.on('LSTAT', stat);
  sftp.on('CLOSE', (reqId, handle) => {
    open.delete(handle.toString());
    sftp.status(reqId, STATUS_CODE.OK);
  });
}

describe.each(testEngines())('pulling from the brand’s SFTP server, on %s', (engine) => {
  const context = useTestServer(engine, {
    INTAKE_DIR: path.join(files.dir, engine),
    INTAKE_ALLOW_PRIVATE_NETWORKS: 'true',
  });
  const services = () => context.server.services;
  const api = (method: string, url: string, body?: unknown) => adminRequest(context.server.baseUrl, method, url, body);
  const brandRoot = path.join(files.dir, `brand-sftp-${engine}`);
  let brand: Awaited<ReturnType<typeof brandSftpServer>>;
  beforeAll(async () => {
    fs.mkdirSync(brandRoot, { recursive: true });
    brand = await brandSftpServer(brandRoot);
  });
  afterAll(() => brand.close());

  it('takes each new .csv/.xml file once over sftp and asks the brand’s server for nothing but reads', async () => {
    const pull = { protocol: 'sftp', host: '127.0.0.1', port: brand.port, directory: '/', username: 'network' };
    const { campaignId, file } = await intakeScene(services(), context.server.baseUrl, {
      upload: false,
      pull: { ...pull, password: 'brand-pw' },
    });
    requests.length = 0;
    fs.writeFileSync(path.join(brandRoot, 'Batch_Mods.csv'), file);
    fs.writeFileSync(path.join(brandRoot, 'notes.txt'), 'not taken');
    const url = `/campaigns/${campaignId}/intake/pull`;

    const first = await api('POST', url);
    expect(first.body).toMatchObject({ error: null, taken: [{ name: 'Batch_Mods.csv', error: null }] });
    const [batch] = await batchesOf(services(), campaignId);
    expect(batch).toMatchObject({ channel: 'pull', campaignId, submittedBy: 'network@127.0.0.1', records: 2 });
    expect(await appliedCodes(services(), context.server.baseUrl, batch.id)).toEqual([
      [1, 'OK', 'MODIFIED'],
      [2, 'Validation', 'ACTION_NOT_FOUND'],
    ]);

    expect((await api('POST', url)).body).toMatchObject({ error: null, taken: [] });
    expect(fs.readdirSync(brandRoot).sort()).toEqual(['Batch_Mods.csv', 'notes.txt']);
    expect(requests).toEqual(['OPEN Batch_Mods.csv']);
  });

  it('pins the host key at the first pull and refuses a server with another key, sending nothing', async () => {
    const pull = { protocol: 'sftp', host: '127.0.0.1', port: brand.port, directory: '/', username: 'network' };
    const { campaignId, file } = await intakeScene(services(), context.server.baseUrl, {
      upload: false,
      pull: { ...pull, password: 'brand-pw' },
    });
    const url = `/campaigns/${campaignId}/intake`;
    expect((await api('GET', url)).body.pull.hostKeySha256).toBeNull();
    expect((await api('POST', `${url}/pull`)).body.error).toBeNull();
    expect((await api('GET', url)).body.pull.hostKeySha256).toBe(brand.hostKeySha256);

    // Another key than the pinned one (what a man in the middle shows): refused before any file is read.
    const other = 'f'.repeat(64);
    await services()
      .db.knex('intake_settings')
      .where({ campaign_id: campaignId })
      .update({ pull_host_key_sha256: other });
    fs.writeFileSync(path.join(brandRoot, 'Later.csv'), file);
    requests.length = 0;
    const refused = await api('POST', `${url}/pull`);
    expect(refused.body.taken).toEqual([]);
    expect(refused.body.error).toContain(
      `the SFTP server's host key changed (SHA-256 ${brand.hostKeySha256}, pinned ${other})`,
    );
    expect(requests).toEqual([]);
    expect((await api('GET', url)).body.lastPull.error).toContain('host key changed');

    // Saving the same server keeps the pin; another port starts afresh.
    const put = (port: number) => api('PUT', url, { upload: false, email: false, pull: { ...pull, port } });
    expect((await put(brand.port)).status).toBe(200);
    expect((await api('GET', url)).body.pull.hostKeySha256).toBe(other);
    expect((await put(brand.port + 1)).status).toBe(200);
    expect((await api('GET', url)).body.pull.hostKeySha256).toBeNull();
    fs.rmSync(path.join(brandRoot, 'Later.csv'));
  });

  it('records a refused log-in as the last attempt', async () => {
    const pull = { protocol: 'sftp', host: '127.0.0.1', port: brand.port, username: 'network', password: 'wrong' };
    const { campaignId } = await intakeScene(services(), context.server.baseUrl, { upload: false, pull });
    const ran = await api('POST', `/campaigns/${campaignId}/intake/pull`);
    expect(ran.body.taken).toEqual([]);
    expect(ran.body.error).toMatch(/authentication/i);
    expect((await api('GET', `/campaigns/${campaignId}/intake`)).body.lastPull).toMatchObject({
      taken: 0,
      error: ran.body.error,
    });
  });
});
