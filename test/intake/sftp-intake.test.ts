import fs from 'node:fs';
import path from 'node:path';
import { Client, type SFTPWrapper } from 'ssh2';
import { testEngines } from '../support/databases';
import { useTestServer } from '../support/test-server';
import { appliedCodes, batchesOf, intakeScene, temporaryIntakeDir, until } from './intake-helpers';

const files = temporaryIntakeDir();
afterAll(() => files.remove());

/** An SFTP session (ssh2's client) as an upload user. */
function sftpSession(port: number, username: string, password: string): Promise<{ sftp: SFTPWrapper; end(): void }> {
  return new Promise((resolve, reject) => {
    const client = new Client();
    client.once('error', reject);
    client.once('ready', () =>
      client.sftp((error, sftp) => (error ? reject(error) : resolve({ sftp, end: () => client.end() }))),
    );
    client.connect({ host: '127.0.0.1', port, username, password, readyTimeout: 10_000 });
  });
}

/** A callback-style SFTP call as a promise: its value, or the status code it failed with. */
function call<T>(run: (callback: (error: (Error & { code?: number }) | null | undefined, value?: T) => void) => void) {
  return new Promise<{ ok: true; value: T | undefined } | { ok: false; code: number | undefined }>((resolve) =>
    run((error, value) => resolve(error ? { ok: false, code: error.code } : { ok: true, value })),
  );
}

const NO_SUCH_FILE = 2;
const PERMISSION_DENIED = 3;
const FAILURE = 4;

describe.each(testEngines())('SFTP intake (ssh2 client), on %s', (engine) => {
  const intakeDir = path.join(files.dir, engine);
  const context = useTestServer(engine, { INTAKE_DIR: intakeDir, INTAKE_HOST: '127.0.0.1', SFTP_PORT: '0' });
  const services = () => context.server.services;
  let port = 0;
  beforeAll(async () => {
    port = (await services().intakeServers.start()).sftp ?? 0;
  });

  it('takes a closed upload as a batch whose rows apply, and keeps a generated host key', async () => {
    expect(fs.statSync(path.join(intakeDir, 'sftp-host-key')).mode & 0o777).toBe(0o600);
    const { campaignId, credentials, file } = await intakeScene(services(), context.server.baseUrl);
    const { username, password } = await credentials();
    const session = await sftpSession(port, username, password);
    expect(await call((done) => session.sftp.writeFile('/Batch_Mods.csv', file, done))).toEqual({
      ok: true,
      value: undefined,
    });
    const listed = await call<Array<{ filename: string }>>((done) => session.sftp.readdir('/', done));
    expect(listed.ok && listed.value).toEqual([]);
    session.end();
    const [batch] = await batchesOf(services(), campaignId);
    expect(batch).toMatchObject({ filename: 'Batch_Mods.csv', channel: 'sftp', submittedBy: username, records: 2 });
    expect(await appliedCodes(services(), context.server.baseUrl, batch.id)).toEqual([
      [1, 'OK', 'MODIFIED'],
      [2, 'Validation', 'ACTION_NOT_FOUND'],
    ]);
  });

  it('shows each user only its own files and offers nothing beyond list, upload and remove', async () => {
    const { credentials } = await intakeScene(services(), context.server.baseUrl);
    const first = await credentials();
    const second = await credentials();
    const a = await sftpSession(port, first.username, first.password);
    expect((await call((done) => a.sftp.writeFile('notes.dat', 'ActionId,Amount\n1,2\n', done))).ok).toBe(true);
    const names = async (sftp: SFTPWrapper, dir = '.') => {
      const listed = await call<Array<{ filename: string }>>((done) => sftp.readdir(dir, done));
      return listed.ok ? listed.value!.map((f) => f.filename) : listed.code;
    };
    expect(await names(a.sftp)).toEqual(['notes.dat']);
    expect(await call((done) => a.sftp.readFile('notes.dat', done))).toEqual({ ok: false, code: PERMISSION_DENIED });
    expect(await call((done) => a.sftp.writeFile('../escape.csv', 'x', done))).toEqual({ ok: false, code: FAILURE });
    expect(await call((done) => a.sftp.writeFile('/tmp/x.csv', 'x', done))).toEqual({ ok: false, code: FAILURE });
    expect(await names(a.sftp, '..')).toBe(NO_SUCH_FILE);
    expect(await call((done) => a.sftp.mkdir('sub', done))).toEqual({ ok: false, code: PERMISSION_DENIED });
    expect(await call((done) => a.sftp.rename('notes.dat', 'n.csv', done))).toEqual({
      ok: false,
      code: PERMISSION_DENIED,
    });
    expect(await call((done) => a.sftp.symlink('/etc/passwd', 'link', done))).toEqual({
      ok: false,
      code: PERMISSION_DENIED,
    });

    const b = await sftpSession(port, second.username, second.password);
    expect(await names(b.sftp)).toEqual([]);
    expect(await names(b.sftp, `../${first.username}`)).toBe(NO_SUCH_FILE);
    expect(await call((done) => b.sftp.unlink('notes.dat', done))).toEqual({ ok: false, code: NO_SUCH_FILE });
    expect(await call((done) => b.sftp.readFile(`../${first.username}/notes.dat`, done))).toMatchObject({ ok: false });
    b.end();

    expect((await call((done) => a.sftp.unlink('notes.dat', done))).ok).toBe(true);
    expect(await names(a.sftp)).toEqual([]);
    a.end();
  });

  it('makes no batch of a file left open when the session ends', async () => {
    const { campaignId, credentials, file } = await intakeScene(services(), context.server.baseUrl);
    const { username, password } = await credentials();
    const session = await sftpSession(port, username, password);
    const handle = await call<Buffer>((done) => session.sftp.open('cut.csv', 'w', done));
    expect(handle.ok).toBe(true);
    if (!handle.ok) return;
    const half = Buffer.from(file.slice(0, 30));
    expect((await call((done) => session.sftp.write(handle.value!, half, 0, half.length, 0, done))).ok).toBe(true);
    session.end();
    const directory = path.join(intakeDir, 'uploads', String(campaignId), username);
    await until(() => fs.readdirSync(directory).length === 0);
    expect(await batchesOf(services(), campaignId)).toEqual([]);
  });

  it('refuses a wrong password', async () => {
    const { credentials } = await intakeScene(services(), context.server.baseUrl);
    const { username } = await credentials();
    await expect(sftpSession(port, username, 'wrong')).rejects.toThrow(/authentication methods failed/);
  });
});
