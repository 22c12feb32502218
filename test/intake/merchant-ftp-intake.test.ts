import path from 'node:path';
import { testEngines } from '../support/databases';
import { adminRequest, useTestServer } from '../support/test-server';
import { appliedCodes, ftpClient, merchantIntakeScene, temporaryIntakeDir } from './intake-helpers';

const files = temporaryIntakeDir();
afterAll(() => files.remove());

describe.each(testEngines())("a merchant's FTP upload user, with a client in another process, on %s", (engine) => {
  const context = useTestServer(engine, {
    INTAKE_DIR: path.join(files.dir, engine),
    INTAKE_HOST: '127.0.0.1',
    FTP_PORT: '0',
    TLS_CERT_FILE: files.cert,
    TLS_KEY_FILE: files.key,
  });
  const services = () => context.server.services;
  const api = (method: string, url: string, body?: unknown) => adminRequest(context.server.baseUrl, method, url, body);
  let port = 0;
  beforeAll(async () => {
    port = (await services().intakeServers.start()).ftp ?? 0;
  });

  it("takes a file as the merchant's batch: its own action applied, another merchant's not found", async () => {
    // Upload off for the campaign: a merchant's user does not depend on a campaign's settings.
    const { merchantId, rivalId, file } = await merchantIntakeScene(services(), context.server.baseUrl, {
      upload: false,
    });
    const created = await api('POST', `/merchants/${merchantId}/intake/credentials`, {});
    expect(created.status).toBe(201);
    expect(created.body).toEqual({
      merchantId,
      username: expect.stringMatching(new RegExp(`^m${merchantId}-[0-9a-f]{8}$`)),
      password: expect.any(String),
    });
    const { username, password } = created.body;
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
      { op: 'list', ok: true, result: [] },
    ]);
    const [batch] = await services().batches.list({ limit: 1, merchantId });
    expect(batch).toMatchObject({
      filename: 'Batch_Mods_Reversals.csv',
      channel: 'ftp',
      campaignId: null,
      merchantId,
      submittedBy: username,
      kind: 'impact',
      records: 2,
    });
    expect((await api('GET', `/batches/${batch.id}`)).body).toMatchObject({
      channel: 'ftp',
      campaignId: null,
      merchantId,
    });
    expect(await appliedCodes(services(), context.server.baseUrl, batch.id)).toEqual([
      [1, 'OK', 'MODIFIED'],
      [2, 'Validation', 'ACTION_NOT_FOUND'],
    ]);

    // Revoked: the user logs in no more; revoking twice (or another merchant's user) is a 404.
    const revoke = `/merchants/${merchantId}/intake/credentials/${username}`;
    expect((await api('DELETE', `/merchants/${rivalId}/intake/credentials/${username}`)).status).toBe(404);
    expect((await api('DELETE', revoke)).status).toBe(204);
    expect((await api('DELETE', revoke)).status).toBe(404);
    const refused = await ftpClient({ port, user: username, password, secure: true, actions: [] });
    expect(refused).toEqual([{ op: 'login', ok: false, code: 530, message: expect.any(String) }]);
  });

  it('refuses a taken or malformed username, and an unknown merchant', async () => {
    const merchant = await api('POST', '/merchants', { name: 'Named uploads' });
    const path = `/merchants/${merchant.body.id}/intake/credentials`;
    const name = `brand-${merchant.body.id}`;
    expect((await api('POST', path, { username: name })).status).toBe(201);
    expect((await api('POST', path, { username: name })).status).toBe(409);
    expect((await api('POST', path, { username: 'No Spaces' })).status).toBe(400);
    expect((await api('POST', '/merchants/987654321/intake/credentials', {})).status).toBe(404);
  });
});
