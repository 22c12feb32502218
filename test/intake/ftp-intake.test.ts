import fs from 'node:fs';
import path from 'node:path';
import { testEngines } from '../support/databases';
import { useTestServer } from '../support/test-server';
import { appliedCodes, batchesOf, ftpClient, intakeScene, temporaryIntakeDir, until } from './intake-helpers';

const files = temporaryIntakeDir();
afterAll(() => files.remove());

describe.each(testEngines())('FTP intake with a client in another process, on %s', (engine) => {
  const context = useTestServer(engine, {
    INTAKE_DIR: path.join(files.dir, engine),
    INTAKE_HOST: '127.0.0.1',
    FTP_PORT: '0',
    TLS_CERT_FILE: files.cert,
    TLS_KEY_FILE: files.key,
    // Only the last test fails log-ins on purpose: three failures brake 127.0.0.1.
    RATE_LIMIT_IP_FAILURES: '3',
  });
  const services = () => context.server.services;
  let port = 0;
  beforeAll(async () => {
    port = (await services().intakeServers.start()).ftp ?? 0;
  });
  const scene = () => intakeScene(services(), context.server.baseUrl);

  it('takes a file uploaded over explicit TLS as a batch whose rows apply, within the campaign only', async () => {
    const { campaignId, credentials, file } = await scene();
    const { username, password } = await credentials();
    const steps = await ftpClient({
      port,
      user: username,
      password,
      secure: true,
      actions: [
        { op: 'put', name: 'Batch_Mods_Reversals.csv', content: file },
        { op: 'list', path: '/' },
      ],
    });
    expect(steps).toEqual([
      { op: 'login', ok: true },
      { op: 'put', ok: true, result: null },
      // Taken: the file has left the directory.
      { op: 'list', ok: true, result: [] },
    ]);
    const [batch] = await batchesOf(services(), campaignId);
    expect(batch).toMatchObject({
      filename: 'Batch_Mods_Reversals.csv',
      channel: 'ftp',
      campaignId,
      submittedBy: username,
      kind: 'impact',
      records: 2,
    });
    expect(await appliedCodes(services(), context.server.baseUrl, batch.id)).toEqual([
      [1, 'OK', 'MODIFIED'],
      [2, 'Validation', 'ACTION_NOT_FOUND'],
    ]);
  });

  it('refuses a log-in without AUTH TLS while the TLS files are set', async () => {
    const { credentials } = await scene();
    const { username, password } = await credentials();
    const steps = await ftpClient({ port, user: username, password, secure: false, actions: [] });
    expect(steps).toEqual([
      { op: 'login', ok: false, code: 530, message: '530 log in over TLS: send AUTH TLS first (plain FTP is refused)' },
    ]);
  });

  it('keeps a file of another name (records 0), shown to its user only; no reading, no way out', async () => {
    const { campaignId, credentials } = await scene();
    const first = await credentials();
    const second = await credentials();
    const steps = await ftpClient({
      port,
      user: first.username,
      password: first.password,
      secure: true,
      actions: [
        { op: 'put', name: 'notes.dat', content: 'ActionId,Amount\n1,2\n' },
        { op: 'list', path: '/' },
        { op: 'get', name: 'notes.dat' },
        { op: 'put', name: '../escape.csv', content: 'x' },
        { op: 'put', name: 'sub/dir.csv', content: 'x' },
        { op: 'put', name: '/etc/passwd.csv', content: 'x' },
        { op: 'list', path: '..' },
        { op: 'raw', command: 'CWD ..' },
        { op: 'raw', command: 'MKD other' },
        { op: 'raw', command: 'RNFR notes.dat' },
        { op: 'raw', command: 'SITE CHMOD 777 notes.dat' },
        { op: 'raw', command: 'PORT 127,0,0,1,0,22' },
      ],
    });
    expect(steps.map((s) => [s.op, s.ok, s.ok ? s.result : s.code])).toEqual([
      ['login', true, undefined],
      ['put', true, null],
      ['list', true, ['notes.dat']],
      ['get', false, 502],
      ['put', false, 550],
      ['put', false, 550],
      ['put', false, 550],
      ['list', false, 451],
      ['raw', false, 550],
      ['raw', false, 502],
      ['raw', false, 502],
      ['raw', false, 502],
      ['raw', false, 502],
    ]);
    const [kept] = await batchesOf(services(), campaignId);
    expect(kept).toMatchObject({ filename: 'notes.dat', channel: 'ftp', records: 0 });
    for (const name of ['escape.csv', 'dir.csv', 'passwd.csv'])
      expect((await batchesOf(services(), campaignId)).some((b) => b.filename === name)).toBe(false);

    const other = await ftpClient({
      port,
      user: second.username,
      password: second.password,
      secure: true,
      actions: [
        { op: 'list', path: '/' },
        { op: 'delete', name: 'notes.dat' },
        { op: 'get', name: 'notes.dat' },
        { op: 'list', path: `../${first.username}` },
      ],
    });
    expect(other.map((s) => [s.op, s.ok, s.ok ? s.result : s.code])).toEqual([
      ['login', true, undefined],
      ['list', true, []],
      ['delete', false, 550],
      ['get', false, 502],
      ['list', false, 451],
    ]);
    // Its owner may delete it.
    const removed = await ftpClient({
      port,
      user: first.username,
      password: first.password,
      secure: true,
      actions: [
        { op: 'delete', name: 'notes.dat' },
        { op: 'list', path: '/' },
      ],
    });
    expect(removed.map((s) => [s.op, s.ok, s.result])).toEqual([
      ['login', true, undefined],
      ['delete', true, null],
      ['list', true, []],
    ]);
  });

  it('refuses wrong credentials and brakes the client address after repeated failures', async () => {
    const { credentials } = await scene();
    const { username, password } = await credentials();
    const attempt = (pass: string, user = username) =>
      ftpClient({ port, user, password: pass, secure: true, actions: [] });
    expect(await attempt('wrong')).toEqual([
      { op: 'login', ok: false, code: 530, message: '530 wrong user name or password' },
    ]);
    expect((await attempt(password, 'nobody-here'))[0].message).toBe('530 wrong user name or password');
    expect((await attempt('wrong again'))[0].code).toBe(530);
    // Braked now: even the right password waits out the window.
    const braked = await attempt(password);
    expect(braked[0]).toMatchObject({ ok: false, code: 530 });
    expect(braked[0].message).toMatch(/^530 too many failed log-ins; try again in \d+ s$/);
  });
});

describe.each(testEngines())('plain FTP intake (no TLS files), on %s', (engine) => {
  const context = useTestServer(engine, {
    INTAKE_DIR: path.join(files.dir, `plain-${engine}`),
    INTAKE_HOST: '127.0.0.1',
    FTP_PORT: '0',
  });
  const services = () => context.server.services;

  let port = 0;
  beforeAll(async () => {
    port = (await services().intakeServers.start()).ftp ?? 0;
  });

  it('takes a plain upload as a batch with the user on it', async () => {
    const { campaignId, credentials, file } = await intakeScene(services(), context.server.baseUrl);
    const { username, password } = await credentials();
    const steps = await ftpClient({
      port,
      user: username,
      password,
      secure: false,
      actions: [{ op: 'put', name: 'plain.CSV', content: file }],
    });
    expect(steps.map((s) => s.ok)).toEqual([true, true]);
    const [batch] = await batchesOf(services(), campaignId);
    expect(batch).toMatchObject({ filename: 'plain.CSV', channel: 'ftp', submittedBy: username, records: 2 });
  });

  // Over plain TCP the reset reaches the server as a reset, whatever the load. (Over TLS a data connection
  // cut by FIN without close_notify reads as a finished file; the server then relies on the control
  // connection being gone, which a killed client's is, but not always before the data connection's end.)
  it('makes no batch of an upload cut off half-way', async () => {
    const { campaignId, credentials, file } = await intakeScene(services(), context.server.baseUrl);
    const { username, password } = await credentials();
    const steps = await ftpClient({
      port,
      user: username,
      password,
      secure: false,
      actions: [{ op: 'abort', name: 'cut.csv', content: file.slice(0, 40) }],
    });
    expect(steps[0]).toEqual({ op: 'login', ok: true });
    // A later upload by the same user is taken; the cut one never is, and leaves no partial file.
    await ftpClient({
      port,
      user: username,
      password,
      secure: false,
      actions: [{ op: 'put', name: 'whole.csv', content: file }],
    });
    const batches = await until(async () => {
      const found = await batchesOf(services(), campaignId);
      return found.length > 0 ? found : null;
    });
    expect(batches.map((b) => b.filename)).toEqual(['whole.csv']);
    const directory = path.join(files.dir, `plain-${engine}`, 'uploads', String(campaignId), username);
    await until(() => fs.readdirSync(directory).length === 0);
  });
});
